import { stringify } from 'yaml';
import { describeConfigIssues } from '../../service/src/config/issues';
import { configSchema, SETTINGS, type ServiceConfig, type SettingName } from '../../service/src/config/settings';
import { TUNABLE_SETTING_NAMES, type TboServiceConfig } from './contract';

/** Where the service finds Redis, as a deployment target provisions it. */
export interface RedisEndpoint {
  /** Host name or address of the primary or configuration endpoint. */
  readonly host: string;
  /** Port (a number, or a string such as a deploy-time token). @default 6379 */
  readonly port?: number | string;
  /** TLS in transit. @default false */
  readonly tls?: boolean;
  /** Cluster mode. @default false */
  readonly cluster?: boolean;
  /** PEM CA certificate(s) that sign the server certificate, for TLS. @default - the system roots */
  readonly caCert?: string;
}

/** Where Redis is: an endpoint the target provisions, or a URL the user brings. */
export type RedisLocation = RedisEndpoint | { readonly url: string };

/** A configuration a construct cannot deploy; the message names the prop and the accepted values. */
export class TboConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid TBO configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'TboConfigValidationError';
  }
}

/**
 * Validates a user's {@link TboServiceConfig} against the service's own schema and returns it with
 * every default filled in. `propName` is how the construct's users know it (e.g. `config`).
 */
export function resolveServiceConfig(config: TboServiceConfig = {}, propName = 'config'): ServiceConfig {
  const unknown = Object.keys(config).filter((k) => !(TUNABLE_SETTING_NAMES as string[]).includes(k));
  if (unknown.length) {
    throw new TboConfigValidationError(unknown.map((k) => `${propName}.${k}: not a tunable setting; accepted settings: ${TUNABLE_SETTING_NAMES.join(', ')}`));
  }
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    throw new TboConfigValidationError(describeConfigIssues(parsed.error.issues, config, (key) => `${propName}.${key}`));
  }
  return parsed.data;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

function redisSettings(redis: RedisLocation | undefined): Partial<Record<SettingName, unknown>> {
  if (!redis) return {};
  if ('url' in redis) return { redisUrl: redis.url };
  return {
    redisHost: redis.host,
    redisPort: redis.port ?? 6379,
    redisTls: redis.tls ?? false,
    redisTlsCa: redis.caCert,
    redisCluster: redis.cluster ?? false,
  };
}

/**
 * The container environment for a configuration: every tunable setting (defaults included, so a
 * deployment states what it runs) plus the Redis location. Secrets are not here: targets inject
 * them by reference ({@link SECRET_ENV}).
 */
export function renderEnvironment(config: TboServiceConfig = {}, redis?: RedisLocation): Record<string, string> {
  const resolved = resolveServiceConfig(config);
  const env: Record<string, string> = {};
  for (const key of TUNABLE_SETTING_NAMES) {
    const value = resolved[key];
    if (value !== undefined) env[SETTINGS[key].env] = text(value);
  }
  for (const [key, value] of Object.entries(redisSettings(redis)) as [SettingName, unknown][]) {
    if (value !== undefined) env[SETTINGS[key].env] = text(value);
  }
  return env;
}

/** The same configuration as the guide's `config.yaml` (optimization.*, monitoring.*, redis.*, …). */
export function renderConfigYaml(config: TboServiceConfig = {}, redis?: RedisLocation): string {
  const resolved = resolveServiceConfig(config);
  const values: Partial<Record<SettingName, unknown>> = { ...redisSettings(redis) };
  for (const key of TUNABLE_SETTING_NAMES) values[key] = resolved[key];
  const tree: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(values) as [SettingName, unknown][]) {
    const spec = SETTINGS[key];
    if (value === undefined || !('yaml' in spec)) continue;
    const [section, field] = spec.yaml.split('.');
    (tree[section] ??= {})[field] = value;
  }
  return stringify(tree);
}
