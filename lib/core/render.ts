import { hash } from 'node:crypto';
import { stringify } from 'yaml';
import { describeConfigIssues } from '../../service/src/config/issues';
import { ADMIN_PORT, configSchema, REDIS_KEY_PREFIX_PATTERN, SETTINGS, type ServiceConfig, type SettingName } from '../../service/src/config/settings';
import { TUNABLE_SETTING_NAMES, type TboServiceConfig } from './contract';
import { inflightBodyBudgetBytes } from './sizing';

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

/**
 * The `iss` and `aud` a deployed service requires of client JWTs unless `config.jwtIssuer` /
 * `config.jwtAudience` say otherwise: constructs always set both, so a token minted for another
 * system is never accepted here.
 */
export const DEPLOYED_JWT_CLAIMS = { jwtIssuer: 'tbo', jwtAudience: 'tbo' } as const;

/** What makes one deployment distinct from another that shares its infrastructure. */
export interface DeploymentIdentity {
  /**
   * Prefix of every Redis key the deployment writes (`TBO_REDIS_KEY_PREFIX`), so deployments that
   * share a Redis never read each other's cache, rate limits or sessions. Derive it with
   * {@link redisKeyPrefixFor}. @default - the service's default prefix (`tbo`)
   */
  readonly redisKeyPrefix?: string;
  /**
   * The memory limit of one instance, bytes: the request-body budget (`TBO_MAX_INFLIGHT_BODY_BYTES`)
   * is sized from it unless the config sets one. @default - the service's default budget
   */
  readonly memoryBytes?: number;
}

/**
 * A Redis key prefix unique to one construct instance and stable across deploys: `tbo-` and 12 hex
 * digits of SHA-256 over an id that is unique within the app (a construct's `node.addr` or path).
 */
export function redisKeyPrefixFor(uniqueId: string): string {
  return `tbo-${hash('sha256', uniqueId, 'hex').slice(0, 12)}`;
}

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
export function renderEnvironment(config: TboServiceConfig = {}, redis?: RedisLocation, deployment: DeploymentIdentity = {}): Record<string, string> {
  const resolved = resolveServiceConfig(config);
  const env: Record<string, string> = { [SETTINGS.adminPort.env]: String(ADMIN_PORT) };
  if (deployment.redisKeyPrefix !== undefined) {
    if (!REDIS_KEY_PREFIX_PATTERN.test(deployment.redisKeyPrefix)) {
      throw new TboConfigValidationError([`redisKeyPrefix: received ${JSON.stringify(deployment.redisKeyPrefix)}; must be 1-64 of A-Z a-z 0-9 . _ -`]);
    }
    env[SETTINGS.redisKeyPrefix.env] = deployment.redisKeyPrefix;
  }

  for (const key of TUNABLE_SETTING_NAMES) {
    const value = resolved[key] ?? (DEPLOYED_JWT_CLAIMS as Partial<Record<SettingName, string>>)[key];
    if (value !== undefined) env[SETTINGS[key].env] = text(value);
  }
  // A memory limit known at synth (deploy-time tokens are not positive numbers) sizes the body budget.
  const memory = deployment.memoryBytes;
  if (memory !== undefined && memory > 0 && config.maxInflightBodyBytes === undefined) {
    env[SETTINGS.maxInflightBodyBytes.env] = String(inflightBodyBudgetBytes(resolved, memory));
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
  for (const key of TUNABLE_SETTING_NAMES) values[key] = resolved[key] ?? (DEPLOYED_JWT_CLAIMS as Partial<Record<SettingName, string>>)[key];
  const tree: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(values) as [SettingName, unknown][]) {
    const spec = SETTINGS[key];
    if (value === undefined || !('yaml' in spec)) continue;
    const [section, field] = spec.yaml.split('.');
    (tree[section] ??= {})[field] = value;
  }
  return stringify(tree);
}
