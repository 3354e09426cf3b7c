import type { SecretManagerSecretReplication } from '@cdktf/provider-google/lib/secret-manager-secret';
import { Token } from 'cdktf';
import {
  BODY_MEMORY_FACTOR,
  DEFAULT_REDIS_KEY_PREFIX,
  PropValidator,
  REDIS_KEY_PREFIX_PATTERN,
  SETTINGS,
  VERTEX_PROJECT_ACCEPTED,
  resolveServiceConfig,
  routesOf,
  type ServiceConfig,
  type TboServiceConfig,
} from '../core';
import {
  CLIENT_CREDENTIALS,
  CLOUD_RUN_INGRESS,
  MEMORYSTORE_CONNECT_MODES,
  MEMORYSTORE_REDIS_VERSIONS,
  MEMORYSTORE_TIERS,
  RDB_SNAPSHOT_PERIODS,
  type TboClientCredential,
  type TboCloudRunIngress,
  type TboCloudRunServiceProps,
  type ResolvedMemorystoreOptions,
  type TboExistingRedis,
} from './props';
import { resolveMemorystoreExport, type ResolvedMemorystoreExport } from './backup';
import { resolveImageBuild, type ResolvedImageBuild } from './image';
import { resolveSecretReplication } from './secret-replication';
import { resolveCloudRunTracing, type ResolvedCloudRunTracing } from './telemetry';
import { CLOUD_RUN_CPUS, CLOUD_RUN_MAX_MEMORY_MIB, CLOUD_RUN_MIN_MEMORY_MIB, requiredMemoryMiB } from './sizing';
import { resolveVertexAccess, type ResolvedVertexAccess } from './vertex';

const CONSTRUCT = 'TboCloudRunService';

/** The `serviceName` used when neither the prop nor a derived name is given (the default before names were derived per construct). */
export const FALLBACK_SERVICE_NAME = 'tbo-service';

/** Every prop of {@link TboCloudRunServiceProps} with its default applied, after validation. */
export interface ResolvedCloudRunProps {
  /** The image given, or undefined: the construct builds the bundled service (`imageBuild`). */
  readonly image?: string;
  /** Where the built image goes, when no `image` is given. */
  readonly imageBuild?: ResolvedImageBuild;
  readonly project?: string;
  readonly region?: string;
  readonly serviceName: string;
  /** The service configuration deployed (Cloud Run's defaults, the user's `config`, the Vertex AI location), resolved. */
  readonly config: ServiceConfig;
  /** The same, as `renderEnvironment` takes it (the settings given, before defaults). */
  readonly deployedConfig: TboServiceConfig;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly maxConcurrency: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly requestTimeoutSeconds: number;
  readonly ingress: TboCloudRunIngress;
  readonly public: boolean;
  readonly deletionProtection: boolean;
  readonly ignoreImageChanges: boolean;
  readonly createService: boolean;
  readonly secretPlaceholders: boolean;
  readonly serviceAccountId: string;
  readonly clientCredentials: readonly TboClientCredential[];
  /** Whether the Anthropic API key secret is created (or the existing one injected). */
  readonly anthropicApiKey: boolean;
  readonly openaiApiKey: boolean;
  readonly existingAnthropicApiKeySecret?: string;
  readonly existingOpenaiApiKeySecret?: string;
  readonly existingApiKeysSecret?: string;
  readonly existingJwtSecretKeySecret?: string;
  readonly existingCacheSigningKeySecret?: string;
  readonly existingAdminKeysSecret?: string;
  readonly existingSentryDsnSecret?: string;
  /** The `replication` block of every secret the construct creates. */
  readonly secretReplication: SecretManagerSecretReplication;
  /** `TBO_REDIS_KEY_PREFIX`: the `redisKeyPrefix` prop, else the prefix the construct derives from its address. */
  readonly redisKeyPrefix: string;
  readonly existingNetwork?: string;
  readonly existingSubnetwork?: string;
  readonly subnetCidr: string;
  /** The Memorystore options when this construct creates Redis, else undefined. */
  readonly redis?: ResolvedMemorystoreOptions;
  /** RDB exports of that instance to Cloud Storage (`redis.export`); undefined when off. */
  readonly redisExport?: ResolvedMemorystoreExport;
  readonly existingRedis?: TboExistingRedis;
  /** Vertex AI access, when a route uses `vertex:` or `vertex-openai:`. */
  readonly vertex?: ResolvedVertexAccess;
  /** Where traces go (`tracing`); undefined when tracing is off. */
  readonly tracing?: ResolvedCloudRunTracing;
}

const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/;
const ACCOUNT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const REDIS_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const SECRET_REF = /^(projects\/[^/\s]+\/secrets\/)?[A-Za-z0-9_-]{1,255}$/;
/** Prefixes of the credentials this construct injects: a secret prop holding one is a leak, not a name. */
const CREDENTIAL_PREFIXES = ['sk-', 'sk_', 'eyJ'];

const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** An integer prop in [min, max]; a Terraform token is checked by Terraform, not here. */
function integer(v: PropValidator, prop: string, value: number | undefined, min: number, max: number): void {
  if (known(value)) v.integer(prop, value, min, max);
}

/** Addresses in an IPv4 CIDR, or undefined when it is not one. */
export function cidrSize(cidr: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  return 2 ** (32 - prefix);
}

function checkSecretRef(v: PropValidator, prop: string, value: string | undefined): void {
  if (!known(value)) return;
  const text = value as string;
  // Never echo a value that looks like a credential into an error message (logs, CI output).
  if (CREDENTIAL_PREFIXES.some((p) => text.startsWith(p)) || text.includes(':')) {
    v.check(false, prop, '<redacted>', 'looks like a credential; pass the Secret Manager secret id or projects/P/secrets/S that holds it, never the value');
    return;
  }
  v.check(SECRET_REF.test(text), prop, text, 'must be a secret id ([A-Za-z0-9_-], up to 255) or projects/PROJECT/secrets/ID');
}

function resolveRedis(v: PropValidator, props: TboCloudRunServiceProps, serviceName: string): ResolvedMemorystoreOptions | undefined {
  if (props.existingRedis !== undefined && props.redis !== undefined) {
    v.check(false, 'existingRedis', props.existingRedis.host, 'cannot be combined with redis; set one: redis (a new Memorystore instance, or false) or existingRedis');
  }
  if (props.existingRedis) {
    const r = props.existingRedis;
    if (known(r.host)) v.check(r.host.trim().length > 0, 'existingRedis.host', r.host, 'must be a host name or address');
    if (known(r.port)) {
      const port = typeof r.port === 'string' && /^\d+$/.test(r.port) ? Number(r.port) : r.port;
      v.check(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535, 'existingRedis.port', r.port, 'must be an integer from 1 to 65535');
    }
    checkSecretRef(v, 'existingRedis.authSecret', r.authSecret);
    return undefined;
  }
  if (props.redis === false) return undefined;
  const options = props.redis ?? {};
  const resolved: ResolvedMemorystoreOptions = {
    name: options.name ?? `${serviceName}-cache`,
    tier: options.tier ?? 'STANDARD_HA',
    memorySizeGb: options.memorySizeGb ?? 1,
    redisVersion: options.redisVersion ?? 'REDIS_7_2',
    rdbSnapshotPeriod: options.rdbSnapshotPeriod ?? 'TWELVE_HOURS',
    connectMode: options.connectMode ?? 'DIRECT_PEERING',
  };
  if (known(resolved.name)) {
    v.check(REDIS_NAME.test(resolved.name), options.name ? 'redis.name' : 'serviceName', resolved.name,
      'the Memorystore name must be 1 to 40 lowercase letters, digits or hyphens, starting with a letter' + (options.name ? '' : '; set redis.name'));
  }
  v.oneOf('redis.tier', options.tier, MEMORYSTORE_TIERS);
  integer(v, 'redis.memorySizeGb', options.memorySizeGb, 1, 300);
  v.oneOf('redis.redisVersion', options.redisVersion, MEMORYSTORE_REDIS_VERSIONS);
  v.oneOf('redis.rdbSnapshotPeriod', options.rdbSnapshotPeriod, RDB_SNAPSHOT_PERIODS);
  v.oneOf('redis.connectMode', options.connectMode, MEMORYSTORE_CONNECT_MODES);
  if (options.connectMode === 'PRIVATE_SERVICE_ACCESS') {
    v.check(props.existingNetwork !== undefined, 'redis.connectMode', options.connectMode,
      "needs existingNetwork (and existingSubnetwork): PRIVATE_SERVICE_ACCESS uses the network's private services access connection, which this construct does not create; use 'DIRECT_PEERING' with the network it creates");
  }
  return resolved;
}

/** Cloud Run sends SIGTERM 10 s before SIGKILL: the service drains within that unless told otherwise. */
export const CLOUD_RUN_DRAIN_SECONDS = 9;

/**
 * The user's service config with Cloud Run's own defaults under it: the drain that fits Cloud Run's
 * 10 s between SIGTERM and SIGKILL, and (when given and known at synth) the construct's
 * `serviceName` as the service name its logs carry.
 */
export function cloudRunServiceConfig(config: TboServiceConfig | undefined, serviceName?: string): TboServiceConfig {
  const named = serviceName !== undefined && !Token.isUnresolved(serviceName) ? { serviceName } : {};
  return { drainTimeout: CLOUD_RUN_DRAIN_SECONDS, ...named, ...config };
}

/**
 * Applies the defaults of {@link TboCloudRunServiceProps} and checks every prop; throws one
 * `TboConfigValidationError` naming each bad prop, the value received and what is accepted.
 * `derivedRedisKeyPrefix` is the construct's own prefix (`redisKeyPrefixFor(node.addr)`), used
 * unless `redisKeyPrefix` is given; without either, the service's default prefix.
 * `derivedServiceName` is the construct's own name (`defaultServiceName(this)`), used unless
 * `serviceName` is given; without either, {@link FALLBACK_SERVICE_NAME}.
 */
export function resolveCloudRunProps(props: TboCloudRunServiceProps, derivedRedisKeyPrefix?: string, derivedServiceName?: string): ResolvedCloudRunProps {
  const serviceName = props.serviceName ?? derivedServiceName ?? FALLBACK_SERVICE_NAME;
  const serviceNameValid = !known(serviceName) || SERVICE_NAME.test(serviceName);
  const baseConfig = cloudRunServiceConfig(props.config, serviceNameValid ? serviceName : undefined);
  // Checks the user's settings (routes included) before anything is derived from them.
  resolveServiceConfig(baseConfig, 'config');
  const v = new PropValidator();
  const vertex = resolveVertexAccess(v, props.vertex, props.config, serviceName, props.project);
  const deployedConfig = vertex ? { ...baseConfig, ...vertexSettings(v, vertex, props.project) } : baseConfig;
  const config = resolveServiceConfig(deployedConfig, 'config');
  v.check(config.drainTimeout <= CLOUD_RUN_DRAIN_SECONDS, 'config.drainTimeout', config.drainTimeout, `Cloud Run sends SIGKILL 10 s after SIGTERM: must be at most ${CLOUD_RUN_DRAIN_SECONDS}`);

  const minInstances = props.minInstances ?? 2;
  const maxInstances = props.maxInstances ?? 100;
  const maxConcurrency = props.maxConcurrency ?? 100;
  const cpu = props.cpu ?? 1;
  const memoryMiB = props.memoryMiB ?? 2048;
  const requestTimeoutSeconds = props.requestTimeoutSeconds ?? Math.min(3600, Math.ceil(config.upstreamTimeout));
  const isPublic = props.public ?? true;
  const serviceAccountId = props.serviceAccountId ?? `${serviceName}-run`;
  const clientCredentials = props.clientCredentials ?? CLIENT_CREDENTIALS;
  const subnetCidr = props.subnetCidr ?? '10.8.0.0/23';

  if (props.image !== undefined && known(props.image)) v.check(props.image.trim().length > 0 && !/\s/.test(props.image), 'image', props.image, 'must be a container image reference such as REGION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG, or left unset to build the bundled service');
  const imageBuild = resolveImageBuild(v, props, serviceName);
  if (known(serviceName)) v.check(SERVICE_NAME.test(serviceName), 'serviceName', serviceName, 'must be 1 to 49 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen');
  if (known(serviceAccountId)) {
    v.check(ACCOUNT_ID.test(serviceAccountId), props.serviceAccountId ? 'serviceAccountId' : 'serviceName', serviceAccountId,
      'the service account id must be 6 to 30 lowercase letters, digits or hyphens, starting with a letter' + (props.serviceAccountId ? '' : '; set serviceAccountId'));
  }

  integer(v, 'minInstances', props.minInstances, 0, 1000);
  integer(v, 'maxInstances', props.maxInstances, 1, 1000);
  if (known(minInstances) && known(maxInstances)) v.check(minInstances <= maxInstances, 'minInstances', minInstances, `must be ≤ maxInstances (${maxInstances})`);
  integer(v, 'maxConcurrency', props.maxConcurrency, 1, 1000);
  v.oneOf('cpu', props.cpu, CLOUD_RUN_CPUS);
  if (known(memoryMiB) && known(maxConcurrency) && known(cpu)) {
    const needed = Math.max(CLOUD_RUN_MIN_MEMORY_MIB, requiredMemoryMiB(config));
    v.check(Number.isInteger(memoryMiB) && memoryMiB >= needed, 'memoryMiB', memoryMiB,
      `must be an integer ≥ ${needed} (config.cacheMaxBytes + ${BODY_MEMORY_FACTOR} × config.maxBodyBytes + 256 MiB for the runtime, and Cloud Run's minimum of ${CLOUD_RUN_MIN_MEMORY_MIB}; the rest becomes the request-body budget)`);
    const max = CLOUD_RUN_MAX_MEMORY_MIB[cpu as keyof typeof CLOUD_RUN_MAX_MEMORY_MIB];
    if (max !== undefined) v.check(memoryMiB <= max, 'memoryMiB', memoryMiB, `must be ≤ ${max} with cpu ${cpu} (Cloud Run's limit; raise cpu for more memory)`);
  }
  integer(v, 'requestTimeoutSeconds', props.requestTimeoutSeconds, 1, 3600);
  v.oneOf('ingress', props.ingress, CLOUD_RUN_INGRESS);

  // Access: a public invoker binding is safe only because TBO checks its own credentials.
  if (isPublic) {
    v.check(config.auth !== 'none', 'config.auth', config.auth,
      "must be 'auto' while public is true (allUsers may invoke the service, so TBO's own auth is required); set public: false to run open behind Cloud Run IAM");
    v.check(clientCredentials.length > 0, 'clientCredentials', clientCredentials,
      `must list at least one of ${CLIENT_CREDENTIALS.join(', ')} while public is true (the service refuses to start without a client credential)`);
  }
  for (const c of clientCredentials) v.oneOf('clientCredentials', c, CLIENT_CREDENTIALS);
  if (props.existingApiKeysSecret !== undefined) {
    v.check(clientCredentials.includes('apiKeys'), 'existingApiKeysSecret', props.existingApiKeysSecret, "needs 'apiKeys' in clientCredentials");
  }
  if (props.existingJwtSecretKeySecret !== undefined) {
    v.check(clientCredentials.includes('jwtSecretKey'), 'existingJwtSecretKeySecret', props.existingJwtSecretKeySecret, "needs 'jwtSecretKey' in clientCredentials");
  }
  if (props.openaiApiKey === false && props.existingOpenaiApiKeySecret !== undefined) {
    v.check(false, 'existingOpenaiApiKeySecret', props.existingOpenaiApiKeySecret, 'cannot be combined with openaiApiKey: false');
  }
  const anthropicApiKey = resolveAnthropicApiKey(v, props);
  checkSecretRef(v, 'existingAnthropicApiKeySecret', props.existingAnthropicApiKeySecret);
  checkSecretRef(v, 'existingOpenaiApiKeySecret', props.existingOpenaiApiKeySecret);
  checkSecretRef(v, 'existingApiKeysSecret', props.existingApiKeysSecret);
  checkSecretRef(v, 'existingJwtSecretKeySecret', props.existingJwtSecretKeySecret);
  checkSecretRef(v, 'existingCacheSigningKeySecret', props.existingCacheSigningKeySecret);
  checkSecretRef(v, 'existingAdminKeysSecret', props.existingAdminKeysSecret);
  checkSecretRef(v, 'existingSentryDsnSecret', props.existingSentryDsnSecret);
  const secretReplication = resolveSecretReplication(v, props.secretReplication);
  const tracing = resolveCloudRunTracing(v, props.tracing);

  // Redis keys: the prefix is rendered into the environment, so it must be known at synth.
  const redisKeyPrefix = props.redisKeyPrefix ?? derivedRedisKeyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
  if (props.redisKeyPrefix !== undefined) {
    v.check(!Token.isUnresolved(props.redisKeyPrefix) && REDIS_KEY_PREFIX_PATTERN.test(props.redisKeyPrefix), 'redisKeyPrefix', props.redisKeyPrefix,
      'must be 1 to 64 of A-Z a-z 0-9 . _ - (no { or }: a cluster hash tag would put every key in one slot), known at synth');
  }

  // Network: bring both halves or neither.
  if ((props.existingNetwork === undefined) !== (props.existingSubnetwork === undefined)) {
    const [given, missing] = props.existingNetwork === undefined ? ['existingSubnetwork', 'existingNetwork'] : ['existingNetwork', 'existingSubnetwork'];
    v.check(false, missing, undefined, `is required with ${given} (direct VPC egress needs the network and a subnetwork in it)`);
  }
  const redis = resolveRedis(v, props, serviceName);
  const redisExport = redis ? resolveMemorystoreExport(v, props.redis ? props.redis.export : undefined, serviceName) : undefined;
  const createsNetwork = props.existingNetwork === undefined && redis !== undefined;
  if (!createsNetwork && props.subnetCidr !== undefined) {
    v.check(false, 'subnetCidr', props.subnetCidr, 'applies only to the subnetwork this construct creates (with a new Memorystore instance and no existingNetwork); remove it');
  }
  if (createsNetwork && known(subnetCidr) && known(maxInstances)) {
    const size = cidrSize(subnetCidr);
    const needed = 2 * maxInstances + 4;
    v.check(size !== undefined && size >= 64 && size >= needed, 'subnetCidr', subnetCidr,
      `must be an IPv4 CIDR of at least /26 with ≥ ${needed} addresses (direct VPC egress uses two per instance for maxInstances ${maxInstances}, and the subnet reserves 4)`);
  }
  v.throwIfInvalid(CONSTRUCT);

  return {
    image: props.image,
    imageBuild,
    project: props.project,
    region: props.region,
    serviceName,
    config,
    deployedConfig,
    minInstances,
    maxInstances,
    maxConcurrency,
    cpu,
    memoryMiB,
    requestTimeoutSeconds,
    ingress: props.ingress ?? 'INGRESS_TRAFFIC_ALL',
    public: isPublic,
    deletionProtection: props.deletionProtection ?? true,
    ignoreImageChanges: props.ignoreImageChanges ?? false,
    createService: props.createService ?? true,
    secretPlaceholders: props.secretPlaceholders ?? true,
    serviceAccountId,
    clientCredentials,
    anthropicApiKey,
    openaiApiKey: props.openaiApiKey ?? props.existingOpenaiApiKeySecret !== undefined,
    existingAnthropicApiKeySecret: props.existingAnthropicApiKeySecret,
    existingOpenaiApiKeySecret: props.existingOpenaiApiKeySecret,
    existingApiKeysSecret: props.existingApiKeysSecret,
    existingJwtSecretKeySecret: props.existingJwtSecretKeySecret,
    existingCacheSigningKeySecret: props.existingCacheSigningKeySecret,
    existingAdminKeysSecret: props.existingAdminKeysSecret,
    existingSentryDsnSecret: props.existingSentryDsnSecret,
    secretReplication,
    redisKeyPrefix,
    existingNetwork: props.existingNetwork,
    existingSubnetwork: props.existingSubnetwork,
    subnetCidr,
    redis,
    redisExport,
    existingRedis: props.existingRedis,
    vertex,
    tracing: tracing.tracing,
  };
}


/**
 * The Vertex AI settings the service is deployed with: the location, and the project when known at
 * synth (`vertex.project`, `config.vertexProject`, else the construct's `project`). A project only
 * known at deploy (the provider's) is added to the environment by the construct instead.
 */
function vertexSettings(v: PropValidator, vertex: ResolvedVertexAccess, project: string | undefined): TboServiceConfig {
  const settings: { vertexRegion?: string; vertexProject?: string } = {};
  if (known(vertex.region)) settings.vertexRegion = vertex.region;
  if (known(vertex.project)) {
    settings.vertexProject = vertex.project;
  } else if (vertex.project === undefined && known(project)) {
    const ok = SETTINGS.vertexProject.schema.safeParse(project).success;
    v.check(ok, 'project', project, `${VERTEX_PROJECT_ACCEPTED}: the Vertex AI routes are called in it (TBO_VERTEX_PROJECT); or set vertex.project`);
    if (ok) settings.vertexProject = project;
  }
  return settings;
}

/**
 * Whether the Anthropic API key secret is made: the prop, else whether a route uses the public API
 * (or an existing secret is given). Refuses a key switched off while routes need it.
 */
function resolveAnthropicApiKey(v: PropValidator, props: TboCloudRunServiceProps): boolean {
  const publicRoutes = routesOf(props.config ?? {}).filter((r) => r.backend === 'anthropic').map((r) => `anthropic:${r.model}`);
  if (props.anthropicApiKey === false) {
    if (props.existingAnthropicApiKeySecret !== undefined) {
      v.check(false, 'existingAnthropicApiKeySecret', props.existingAnthropicApiKeySecret, 'cannot be combined with anthropicApiKey: false');
    }
    v.check(publicRoutes.length === 0, 'anthropicApiKey', false,
      `routes ${[...new Set(publicRoutes)].join(', ')} (config.modelsFast, modelsBalanced or modelsStrongest; the service's defaults when unset) call the Anthropic API, which needs ANTHROPIC_API_KEY: leave anthropicApiKey unset, or route those models to vertex:`);
  }
  return props.anthropicApiKey ?? (publicRoutes.length > 0 || props.existingAnthropicApiKeySecret !== undefined);
}
