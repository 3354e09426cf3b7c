import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import {
  bedrockResolutionOf,
  invokedBedrockModel,
  PropValidator,
  REDIS_KEY_PREFIX_PATTERN,
  resolveServiceConfig,
  routedBackends,
  SETTINGS,
  ungrantedBedrockRoutes,
  type ServiceConfig,
  type TboServiceConfig,
} from '../core';
import { scraperProblem } from './admin-port';
import { resolveCpuArchitecture, type TboCpuArchitectureName } from './architecture';
import { AWS_DEFAULTS, AWS_LIMITS, FARGATE_MEMORY_BY_CPU } from './defaults';
import { resolveModelAccess, type ResolvedBedrockAccess } from './model-access';
import type { TboFargateServiceProps, TboRedisOptions } from './props';
import { resolveRedisBackup, resolveSecretReplicaRegions, type ResolvedRedisBackup } from './resolve-backup';
import { resolveTracing, type ResolvedTracing } from './resolve-telemetry';

/** The Redis the construct creates, with every default filled in (backup and restore included). */
export interface ResolvedRedisOptions extends ResolvedRedisBackup {
  readonly nodeType: string;
  readonly replicasPerShard: number;
  readonly clusterMode: boolean;
  readonly shards: number;
  readonly engineVersion: string;
  readonly snapshotRetentionDays: number;
}

/** Props after validation, with every default filled in and the values derived from the service config. */
export interface ResolvedProps {
  /** The service config with every default filled in, `serviceName` as deployed. */
  readonly config: ServiceConfig;
  /** The deployment's name: `TBO_SERVICE_NAME`, EMF `Service` dimension, alarm and log group name prefix. */
  readonly serviceName: string;
  readonly logGroupRemovalPolicy: RemovalPolicy;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  /** The tasks' CPU architecture: the task definition's `RuntimePlatform` and the bundled image's build platform. */
  readonly cpuArchitecture: TboCpuArchitectureName;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly targetCpuUtilization: number;
  readonly requestsPerTarget: number;
  readonly targetQueueLength: number;
  readonly overheadAlarmThresholdSeconds: number;
  readonly internetFacing: boolean;
  readonly accessLogs: boolean;
  /** Whether the service gets an OpenAI API key: `openAi`, else whether a route uses `openai:`. */
  readonly openAi: boolean;
  /** Whether a route uses `anthropic:` (the public API, so the Anthropic API key). */
  readonly anthropic: boolean;
  /** Bedrock access of `modelAccess.bedrock`, resolved; undefined without it. */
  readonly bedrock?: ResolvedBedrockAccess;
  readonly https: boolean;
  /** Where the cache lives: a Redis the construct creates, one the user runs, or none. */
  readonly redisMode: 'create' | 'existing' | 'none';
  readonly redis: ResolvedRedisOptions;
  readonly healthCheckIntervalSeconds: number;
  /** How long a response may run and still finish when its task is stopped (whole seconds). */
  readonly maxStreamDurationSeconds: number;
  /** The target group's deregistration delay: `maxStreamDurationSeconds`. */
  readonly deregistrationDelaySeconds: number;
  /** The service's drain timeout after SIGTERM (`TBO_DRAIN_TIMEOUT`), whole seconds. */
  readonly drainTimeoutSeconds: number;
  /** The container's stop timeout (SIGTERM to SIGKILL): the drain timeout plus a margin, at most Fargate's 120 s. */
  readonly stopTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  /** The config the container runs with: the user's, plus what the load balancer requires. */
  readonly serviceConfig: TboServiceConfig;
  /** Regions every secret the construct creates is replicated to (none by default). */
  readonly secretReplicaRegions: readonly string[];
  /** Where the gateway's traces go; undefined when tracing is off. */
  readonly tracing?: ResolvedTracing;
  /** Memory of the gateway container in MiB: the task's, less the collector sidecar's. */
  readonly gatewayMemoryMiB: number;
}

const CONSTRUCT = 'TboFargateService';
const FARGATE_CPUS = Object.keys(FARGATE_MEMORY_BY_CPU).map(Number);
const CIDR = /^(?:(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const LOG_GROUP_REMOVAL_POLICIES = [RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy.DESTROY];
/** Props this construct accepted once: a JavaScript caller (no type check) is told what replaced them. */
const REMOVED_PROPS: Readonly<Record<string, string>> = {
  desiredCount:
    'no longer accepted: autoscaling owns the task count, and a desired count in the template would reset it on every deploy; minCapacity is the floor and what the first deploy starts',
  scaleOutLatency:
    'no longer accepted: the load balancer\'s response time is mostly the model\'s generation time, which more tasks cannot shorten; the service scales on CPU, requests per target and queue length (targetQueueLength), and overheadAlarmThreshold alarms on TBO\'s own time',
};

const known = (v: number | undefined): v is number => v !== undefined && !Token.isUnresolved(v);

/** Whether a secret defined in this app carries its value in the template (`SecretValue.unsafePlainText`). */
export function hasPlaintextValue(secret: secretsmanager.ISecret | undefined): boolean {
  const cfn = secret?.node.defaultChild;
  if (!(cfn instanceof secretsmanager.CfnSecret) || cfn.secretString === undefined) return false;
  const resolved: unknown = Stack.of(cfn).resolve(cfn.secretString);
  return !JSON.stringify(resolved).includes('{{resolve:');
}

/** The default service name: unique per construct path within the app (stack name, path, hash), stable across synths. */
export function defaultServiceName(scope: IConstruct): string {
  return Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' });
}

/**
 * Validates the props and fills in the defaults. Throws one `TboConfigValidationError` listing
 * every problem, each naming the prop, the value received and what is accepted. `scope` is the
 * construct, whose path names the deployment unless `serviceName` does.
 */
export function resolveProps(props: TboFargateServiceProps, scope: IConstruct): ResolvedProps {
  const v = new PropValidator();
  const d = AWS_DEFAULTS;
  for (const [prop, accepted] of Object.entries(REMOVED_PROPS)) {
    const received = (props as Record<string, unknown>)[prop];
    if (received !== undefined) v.check(false, prop, received instanceof Duration ? received.toHumanString() : received, accepted);
  }

  const configName = props.config?.serviceName;
  const serviceName = props.serviceName ?? configName ?? defaultServiceName(scope);
  v.check(
    props.serviceName === undefined || configName === undefined || props.serviceName === configName,
    'serviceName',
    props.serviceName,
    `differs from config.serviceName (${JSON.stringify(configName)}); both name the same thing (TBO_SERVICE_NAME), give one of them`,
  );
  const nameOk = !Token.isUnresolved(serviceName) && SETTINGS.serviceName.schema.safeParse(serviceName).success;
  if (props.serviceName !== undefined) {
    v.check(nameOk, 'serviceName', props.serviceName, 'accepted values: 1 to 64 characters of A-Z a-z 0-9 . _ - known at synth (e.g. "tbo-prod"), unique per account and region');
  }
  // Bedrock access renders the routing tiers and the Bedrock settings over the user's config.
  const modelAccess = resolveModelAccess(props.modelAccess?.bedrock, props.config ?? {}, Stack.of(scope).region, v);
  const userConfig: TboServiceConfig = { ...props.config, ...modelAccess.config };
  // (an invalid config.serviceName is reported by the service's own schema, as config.serviceName)
  const config = resolveServiceConfig(nameOk ? { ...userConfig, serviceName } : userConfig, 'config');
  checkBedrockRoutes(config, modelAccess.bedrock, Stack.of(scope).region, v);
  const backends = routedBackends(config);
  const logGroupRemovalPolicy = props.logGroupRemovalPolicy ?? RemovalPolicy.RETAIN;
  if (props.logGroupRemovalPolicy !== undefined) {
    v.check(
      LOG_GROUP_REMOVAL_POLICIES.includes(props.logGroupRemovalPolicy),
      'logGroupRemovalPolicy',
      props.logGroupRemovalPolicy,
      'accepted values: RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy.DESTROY (a log group has no snapshot)',
    );
  }

  const cpu = props.cpu ?? d.cpu;
  const memoryLimitMiB = props.memoryLimitMiB ?? d.memoryLimitMiB;
  v.oneOf('cpu', props.cpu, FARGATE_CPUS);
  const memories = FARGATE_MEMORY_BY_CPU[cpu];
  if (memories && known(memoryLimitMiB)) {
    v.check(memories.includes(memoryLimitMiB), 'memoryLimitMiB', memoryLimitMiB, `with cpu ${cpu}, Fargate accepts ${memories.join(', ')}`);
  }

  const cpuArchitecture = resolveCpuArchitecture(props.cpuArchitecture, v);

  const minCapacity = props.minCapacity ?? d.minCapacity;
  const maxCapacity = props.maxCapacity ?? d.maxCapacity;
  v.integer('minCapacity', props.minCapacity, 0, 10_000).integer('maxCapacity', props.maxCapacity, 1, 10_000);
  if (known(minCapacity) && known(maxCapacity) && Number.isInteger(minCapacity) && Number.isInteger(maxCapacity)) {
    v.check(minCapacity <= maxCapacity, 'minCapacity', minCapacity, `must be ≤ maxCapacity (${maxCapacity})`);
  }
  const targetCpuUtilization = props.targetCpuUtilization ?? d.targetCpuUtilization;
  if (known(props.targetCpuUtilization)) {
    v.check(props.targetCpuUtilization > 0 && props.targetCpuUtilization <= 100, 'targetCpuUtilization', props.targetCpuUtilization, 'must be a percentage above 0 and at most 100');
  }
  const requestsPerTarget = props.requestsPerTarget ?? d.requestsPerTarget;
  v.integer('requestsPerTarget', props.requestsPerTarget, 1);
  const targetQueueLength = props.targetQueueLength ?? d.targetQueueLength;
  if (known(props.targetQueueLength)) {
    v.check(props.targetQueueLength > 0 && Number.isFinite(props.targetQueueLength), 'targetQueueLength', props.targetQueueLength, 'must be a number of waiting requests per task above 0 (the guide\'s: 50)');
  }
  const overheadAlarmThresholdSeconds = props.overheadAlarmThreshold ? props.overheadAlarmThreshold.toMilliseconds() / 1000 : d.overheadAlarmThresholdSeconds;
  v.check(overheadAlarmThresholdSeconds > 0, 'overheadAlarmThreshold', `${overheadAlarmThresholdSeconds} s`, 'must be above 0 seconds (e.g. Duration.millis(50))');

  if (props.allowedCidrs) {
    v.check(props.allowedCidrs.length > 0, 'allowedCidrs', props.allowedCidrs, 'must list at least one CIDR range (omit the prop for the default)');
    for (const cidr of props.allowedCidrs) {
      if (!Token.isUnresolved(cidr)) v.check(CIDR.test(cidr), 'allowedCidrs', cidr, 'each must be an IPv4 or IPv6 CIDR range such as 203.0.113.0/24');
    }
  }
  v.check(!(props.domainName !== undefined && !props.hostedZone && !props.certificate), 'domainName', props.domainName, 'needs hostedZone (to validate a certificate and add a record) or certificate');
  v.check(!(props.hostedZone && props.domainName === undefined), 'hostedZone', props.hostedZone?.zoneName, 'needs domainName (the name to serve in that zone)');
  const https = props.certificate !== undefined || (props.domainName !== undefined && props.hostedZone !== undefined);
  const allowPlaintextInternet = props.allowPlaintextInternet ?? false;
  const internetFacing = props.internetFacing ?? (https || allowPlaintextInternet);
  v.check(
    https || !internetFacing || allowPlaintextInternet,
    'internetFacing',
    true,
    'without a certificate an internet-facing load balancer would carry API keys and prompts in plain text; pass certificate (or domainName and hostedZone), ' +
      'leave internetFacing unset for an internal load balancer, or set allowPlaintextInternet: true for a throwaway test',
  );
  v.check(!(https && props.allowPlaintextInternet), 'allowPlaintextInternet', true, 'is unused with a certificate (the listener is HTTPS and HTTP redirects to it); remove one of them');
  v.check(!(allowPlaintextInternet && props.internetFacing === false), 'allowPlaintextInternet', true, 'contradicts internetFacing: false; remove one of them');

  const accessLogs = props.accessLogs ?? true;
  v.check(!(props.accessLogs === false && props.existingAccessLogsBucket), 'existingAccessLogsBucket', props.existingAccessLogsBucket?.bucketName, 'is unused with accessLogs: false; remove one of them');
  const openAi = props.openAi ?? backends.has('openai');
  v.check(!(props.openAi === false && props.existingOpenAiApiKeySecret), 'existingOpenAiApiKeySecret', props.existingOpenAiApiKeySecret?.secretName, 'is unused with openAi: false; remove one of them');
  const secretProps: [string, secretsmanager.ISecret | undefined][] = [
    ['existingAnthropicApiKeySecret', props.existingAnthropicApiKeySecret],
    ['existingOpenAiApiKeySecret', props.existingOpenAiApiKeySecret],
    ['existingJwtSecret', props.existingJwtSecret],
    ['existingApiKeysSecret', props.existingApiKeysSecret],
    ['existingAdminKeysSecret', props.existingAdminKeysSecret],
    ['existingCacheSigningKeySecret', props.existingCacheSigningKeySecret],
    ['existingSentryDsnSecret', props.existingSentryDsnSecret],
    ['existingRedis.authSecret', props.existingRedis?.authSecret],
  ];
  for (const [prop, secret] of secretProps) {
    v.check(!hasPlaintextValue(secret), prop, '(secret, not shown)', 'its value would be written into the template in plain text (SecretValue.unsafePlainText); create the secret empty or generated and fill it with put-secret-value');
  }
  for (const email of props.alarmEmails ?? []) v.check(Token.isUnresolved(email) || EMAIL.test(email), 'alarmEmails', email, 'each must be an email address');

  if (props.existingCluster && props.existingVpc) {
    const same = props.existingCluster.vpc === props.existingVpc || props.existingCluster.vpc.vpcId === props.existingVpc.vpcId;
    v.check(same, 'existingCluster', props.existingCluster.clusterName, `must be in existingVpc (${props.existingVpc.vpcId}); omit existingVpc to use the cluster's VPC`);
  }

  const redisMode = props.redis === false ? 'none' : props.existingRedis ? 'existing' : 'create';
  v.check(!(props.redis === false && props.existingCacheSigningKeySecret), 'existingCacheSigningKeySecret', props.existingCacheSigningKeySecret?.secretName, 'is unused with redis: false (only entries in Redis are signed); remove one of them');
  if (props.redisKeyPrefix !== undefined) {
    v.check(REDIS_KEY_PREFIX_PATTERN.test(props.redisKeyPrefix), 'redisKeyPrefix', props.redisKeyPrefix, 'accepted values: 1 to 64 characters of A-Z a-z 0-9 . _ - known at synth (e.g. "tbo-prod")');
  }
  for (const scraper of props.metricsScrapers ?? []) {
    const problem = scraperProblem(scraper);
    if (problem) v.check(false, 'metricsScrapers', problem.received, problem.accepted);
  }
  const redis = resolveRedis(props.redis === false ? undefined : props.redis, v);
  if (props.existingRedis) {
    v.check(props.redis !== false, 'redis', false, 'redis: false (no Redis) contradicts existingRedis; remove one of them');
    const options = props.redis === false ? undefined : props.redis;
    if (options?.clusterMode) {
      v.check(props.existingRedis.endpoint.cluster === true, 'redis.clusterMode', true, `existingRedis.endpoint.cluster is ${JSON.stringify(props.existingRedis.endpoint.cluster ?? false)}; set existingRedis.endpoint.cluster: true for a cluster-mode Redis (the service then runs with REDIS_CLUSTER=true)`);
    }
    const others = Object.keys(options ?? {}).filter((k) => k !== 'clusterMode');
    v.check(others.length === 0, `redis.${others.join(', redis.')}`, others, 'these options shape a Redis the construct creates and do not apply to existingRedis; remove them');
    const port = props.existingRedis.endpoint.port;
    if (typeof port === 'number' && known(port)) v.integer('existingRedis.endpoint.port', port, 1, 65535);
  }

  const healthCheckIntervalSeconds = config.healthCheckInterval;
  const hc = AWS_LIMITS.healthCheckInterval;
  v.check(healthCheckIntervalSeconds >= hc.min && healthCheckIntervalSeconds <= hc.max && Number.isInteger(healthCheckIntervalSeconds), 'config.healthCheckInterval', healthCheckIntervalSeconds, `the ALB and ECS health checks accept whole seconds from ${hc.min} to ${hc.max}`);
  // Stopping a task (deploy, scale-in): the load balancer sends it no new request from the start of
  // deregistration; ECS sends SIGTERM once the deregistration delay has passed (or no request is
  // left); the service then drains for TBO_DRAIN_TIMEOUT, and Fargate kills it at the stop timeout.
  // So the deregistration delay carries the streams, and the drain ends before the stop timeout.
  const drainTimeoutSeconds = Math.ceil(config.drainTimeout);
  const stopTimeoutSeconds = drainTimeoutSeconds + d.stopMarginSeconds;
  v.check(stopTimeoutSeconds <= AWS_LIMITS.maxStopTimeout, 'config.drainTimeout', config.drainTimeout, `Fargate stops a container at most ${AWS_LIMITS.maxStopTimeout} s after SIGTERM, so the drain timeout must be at most ${AWS_LIMITS.maxStopTimeout - d.stopMarginSeconds} s`);
  const dereg = AWS_LIMITS.deregistrationDelay;
  const maxStreamDurationSeconds = Math.ceil(props.maxStreamDuration ? props.maxStreamDuration.toMilliseconds() / 1000 : config.upstreamTimeout);
  if (props.maxStreamDuration) {
    v.check(
      maxStreamDurationSeconds >= 1 && maxStreamDurationSeconds <= dereg.max,
      'maxStreamDuration',
      props.maxStreamDuration.toHumanString(),
      `accepted values: 1 second to ${dereg.max / 60} minutes (the load balancer keeps a deregistering task at most ${dereg.max} s; Fargate's stop timeout, at most ${AWS_LIMITS.maxStopTimeout} s, cannot carry a stream)`,
    );
  }
  const idleTimeoutSeconds = props.idleTimeout ? props.idleTimeout.toSeconds() : Math.min(Math.ceil(config.upstreamTimeout), AWS_LIMITS.idleTimeout.max);
  if (props.idleTimeout) v.integer('idleTimeout', idleTimeoutSeconds, AWS_LIMITS.idleTimeout.min, AWS_LIMITS.idleTimeout.max);
  // The service must keep idle connections open longer than the ALB does, or the ALB may reuse a
  // connection the service is closing (a 502). Set from the idle timeout unless the user chose one.
  const keepAliveTimeout = props.config?.keepAliveTimeout ?? idleTimeoutSeconds + d.keepAliveMarginSeconds;
  v.check(keepAliveTimeout > idleTimeoutSeconds, 'config.keepAliveTimeout', keepAliveTimeout, `must be above the load balancer idle timeout (${idleTimeoutSeconds} s)`);
  const serviceConfig: TboServiceConfig = { ...userConfig, serviceName, keepAliveTimeout, drainTimeout: config.drainTimeout };
  const secretReplicaRegions = resolveSecretReplicaRegions(props.secretReplicaRegions, Stack.of(scope).region, v);
  const tracing = resolveTracing(props.tracing, memoryLimitMiB, v);

  v.throwIfInvalid(CONSTRUCT);
  return {
    config,
    serviceConfig,
    serviceName,
    logGroupRemovalPolicy,
    cpu,
    memoryLimitMiB,
    cpuArchitecture,
    minCapacity,
    maxCapacity,
    targetCpuUtilization,
    requestsPerTarget,
    targetQueueLength,
    overheadAlarmThresholdSeconds,
    internetFacing,
    accessLogs,
    openAi,
    anthropic: backends.has('anthropic'),
    bedrock: modelAccess.bedrock,
    https,
    redisMode,
    redis,
    healthCheckIntervalSeconds,
    maxStreamDurationSeconds,
    deregistrationDelaySeconds: maxStreamDurationSeconds,
    drainTimeoutSeconds,
    stopTimeoutSeconds,
    idleTimeoutSeconds,
    secretReplicaRegions,
    tracing: tracing.tracing,
    gatewayMemoryMiB: memoryLimitMiB - (tracing.tracing?.sidecar?.memoryLimitMiB ?? 0),
  };
}


/** Every `bedrock:` route must resolve to a granted model: the task role could not invoke it otherwise. */
function checkBedrockRoutes(config: ServiceConfig, bedrock: ResolvedBedrockAccess | undefined, stackRegion: string, v: PropValidator): void {
  const resolution = bedrock?.resolution ?? bedrockResolutionOf(config, stackRegion);
  const missing = ungrantedBedrockRoutes(config, bedrock?.grants ?? [], resolution);
  if (!missing.length) return;
  const described = missing.map((model) => {
    try {
      return `${model} (invoked as ${invokedBedrockModel(model, resolution).id})`;
    } catch {
      return model;
    }
  });
  v.check(
    false,
    'modelAccess.bedrock.models',
    bedrock ? bedrock.grants.map((g) => g.model) : undefined,
    `does not grant the bedrock: routes of ${described.join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} (the task role may invoke only granted models), or route ${missing.length > 1 ? 'them' : 'it'} to another backend`,
  );
}

function resolveRedis(options: TboRedisOptions | undefined, v: PropValidator): ResolvedRedisOptions {
  const d = AWS_DEFAULTS.redis;
  const clusterMode = options?.clusterMode ?? false;
  v.integer('redis.replicasPerShard', options?.replicasPerShard, 1, 5)
    .integer('redis.shards', options?.shards, 1, 500)
    .integer('redis.snapshotRetentionDays', options?.snapshotRetentionDays, 0, 35);
  if (options?.shards !== undefined && options.shards > 1) {
    v.check(clusterMode, 'redis.shards', options.shards, 'more than one shard needs redis.clusterMode: true');
  }
  return {
    ...resolveRedisBackup(options, clusterMode, v),
    nodeType: options?.nodeType ?? d.nodeType,
    replicasPerShard: options?.replicasPerShard ?? d.replicasPerShard,
    clusterMode,
    shards: options?.shards ?? (clusterMode ? d.clusterShards : 1),
    engineVersion: options?.engineVersion ?? d.engineVersion,
    snapshotRetentionDays: options?.snapshotRetentionDays ?? d.snapshotRetentionDays,
  };
}
