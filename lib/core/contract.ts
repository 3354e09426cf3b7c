/**
 * The deployment contract, taken from the service's own config schema: every target deploys the
 * service with these values and re-declares none of them.
 */
export {
  ADMIN_PORT,
  CACHE_TTL_SECONDS,
  CONFIG_FILE_NAME,
  CONFIG_MOUNT_DIR,
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_CONFIG_FILE,
  LOG_LEVELS,
  OPTIMIZATION_LEVELS,
  PROBE_PATHS,
  REDIS_KEY_PREFIX_PATTERN,
  SERVICE_PORT,
  SETTINGS,
} from '../../service/src/config/settings';
export { EMF_METRICS, EMF_SERVICE_DIMENSION } from '../../service/src/observability/emf-names';
export type { OptimizationLevel, SecretSettingName, ServiceConfig, SettingName, SettingSpec } from '../../service/src/config/settings';
import { SETTINGS, type SecretSettingName, type ServiceConfig, type SettingName } from '../../service/src/config/settings';

/** Settings the deployment targets own (listen address, port, Redis location) rather than users. */
export const TARGET_OWNED_SETTINGS = ['host', 'port', 'adminPort', 'redisKeyPrefix', 'redisUrl', 'redisHost', 'redisPort', 'redisDb', 'redisTls', 'redisTlsCa', 'redisCluster', 'metricsEmf'] as const;
type TargetOwned = (typeof TARGET_OWNED_SETTINGS)[number];

/** A setting a user may set on any target: not a secret, not owned by the target. */
export type TunableSettingName = Exclude<SettingName, SecretSettingName | TargetOwned>;

/**
 * The service configuration every construct accepts (`config` prop). Each field is the service
 * setting of the same name; its env var, YAML path, accepted values and default are in
 * {@link SETTINGS} (and in the README's table).
 */
export type TboServiceConfig = Partial<Pick<ServiceConfig, TunableSettingName>>;

/** Secret settings: env var name by setting. Targets inject these from their secret stores. */
export const SECRET_ENV = {
  anthropicApiKey: SETTINGS.anthropicApiKey.env,
  openaiApiKey: SETTINGS.openaiApiKey.env,
  apiKeys: SETTINGS.apiKeys.env,
  jwtSecretKey: SETTINGS.jwtSecretKey.env,
  redisPassword: SETTINGS.redisPassword.env,
  adminKeys: SETTINGS.adminKeys.env,
  cacheSigningKey: SETTINGS.cacheSigningKey.env,
  sentryDsn: SETTINGS.sentryDsn.env,
} as const satisfies Record<SecretSettingName, string>;

export const TUNABLE_SETTING_NAMES = (Object.keys(SETTINGS) as SettingName[]).filter(
  (k): k is TunableSettingName => !('secret' in SETTINGS[k]) && !(TARGET_OWNED_SETTINGS as readonly string[]).includes(k),
);
