import { Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { PropValidator, REDIS_KEY_PREFIX_PATTERN, resolveServiceConfig, type ServiceConfig, type TboServiceConfig } from '../core';
import { scraperProblem } from './admin-port';
import { AWS_DEFAULTS, AWS_LIMITS, FARGATE_MEMORY_BY_CPU } from './defaults';
import type { TboFargateServiceProps, TboRedisOptions } from './props';

/** The Redis the construct creates, with every default filled in. */
export interface ResolvedRedisOptions {
  readonly nodeType: string;
  readonly replicasPerShard: number;
  readonly clusterMode: boolean;
  readonly shards: number;
  readonly engineVersion: string;
  readonly snapshotRetentionDays: number;
}

/** Props after validation, with every default filled in and the values derived from the service config. */
export interface ResolvedProps {
  readonly config: ServiceConfig;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly desiredCount: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly targetCpuUtilization: number;
  readonly scaleOutLatencySeconds: number;
  readonly requestsPerTarget: number;
  readonly internetFacing: boolean;
  readonly accessLogs: boolean;
  readonly openAi: boolean;
  readonly https: boolean;
  /** Where the cache lives: a Redis the construct creates, one the user runs, or none. */
  readonly redisMode: 'create' | 'existing' | 'none';
  readonly redis: ResolvedRedisOptions;
  readonly healthCheckIntervalSeconds: number;
  readonly stopTimeoutSeconds: number;
  readonly deregistrationDelaySeconds: number;
  readonly idleTimeoutSeconds: number;
  /** The config the container runs with: the user's, plus what the load balancer requires. */
  readonly serviceConfig: TboServiceConfig;
}

const CONSTRUCT = 'TboFargateService';
const FARGATE_CPUS = Object.keys(FARGATE_MEMORY_BY_CPU).map(Number);
const CIDR = /^(?:(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const known = (v: number | undefined): v is number => v !== undefined && !Token.isUnresolved(v);

/** Whether a secret defined in this app carries its value in the template (`SecretValue.unsafePlainText`). */
export function hasPlaintextValue(secret: secretsmanager.ISecret | undefined): boolean {
  const cfn = secret?.node.defaultChild;
  if (!(cfn instanceof secretsmanager.CfnSecret) || cfn.secretString === undefined) return false;
  const resolved: unknown = Stack.of(cfn).resolve(cfn.secretString);
  return !JSON.stringify(resolved).includes('{{resolve:');
}

/**
 * Validates the props and fills in the defaults. Throws one {@link TboConfigValidationError} listing
 * every problem, each naming the prop, the value received and what is accepted.
 */
export function resolveProps(props: TboFargateServiceProps): ResolvedProps {
  const config = resolveServiceConfig(props.config, 'config');
  const v = new PropValidator();
  const d = AWS_DEFAULTS;

  const cpu = props.cpu ?? d.cpu;
  const memoryLimitMiB = props.memoryLimitMiB ?? d.memoryLimitMiB;
  v.oneOf('cpu', props.cpu, FARGATE_CPUS);
  const memories = FARGATE_MEMORY_BY_CPU[cpu];
  if (memories && known(memoryLimitMiB)) {
    v.check(memories.includes(memoryLimitMiB), 'memoryLimitMiB', memoryLimitMiB, `with cpu ${cpu}, Fargate accepts ${memories.join(', ')}`);
  }

  const desiredCount = props.desiredCount ?? d.desiredCount;
  const minCapacity = props.minCapacity ?? d.minCapacity;
  const maxCapacity = props.maxCapacity ?? d.maxCapacity;
  v.integer('minCapacity', props.minCapacity, 0, 10_000).integer('maxCapacity', props.maxCapacity, 1, 10_000).integer('desiredCount', props.desiredCount, 0, 10_000);
  if (known(minCapacity) && known(maxCapacity) && Number.isInteger(minCapacity) && Number.isInteger(maxCapacity)) {
    v.check(minCapacity <= maxCapacity, 'minCapacity', minCapacity, `must be ≤ maxCapacity (${maxCapacity})`);
    if (known(desiredCount) && minCapacity <= maxCapacity) {
      v.check(desiredCount >= minCapacity && desiredCount <= maxCapacity, 'desiredCount', desiredCount, `must be from minCapacity (${minCapacity}) to maxCapacity (${maxCapacity})`);
    }
  }
  const targetCpuUtilization = props.targetCpuUtilization ?? d.targetCpuUtilization;
  if (known(props.targetCpuUtilization)) {
    v.check(props.targetCpuUtilization > 0 && props.targetCpuUtilization <= 100, 'targetCpuUtilization', props.targetCpuUtilization, 'must be a percentage above 0 and at most 100');
  }
  const scaleOutLatencySeconds = props.scaleOutLatency ? props.scaleOutLatency.toMilliseconds() / 1000 : d.scaleOutLatencySeconds;
  v.check(scaleOutLatencySeconds > 0, 'scaleOutLatency', `${scaleOutLatencySeconds} s`, 'must be above 0 seconds');
  const requestsPerTarget = props.requestsPerTarget ?? d.requestsPerTarget;
  v.integer('requestsPerTarget', props.requestsPerTarget, 1);

  const internetFacing = props.internetFacing ?? true;
  if (props.allowedCidrs) {
    v.check(props.allowedCidrs.length > 0, 'allowedCidrs', props.allowedCidrs, 'must list at least one CIDR range (omit the prop for the default)');
    for (const cidr of props.allowedCidrs) {
      if (!Token.isUnresolved(cidr)) v.check(CIDR.test(cidr), 'allowedCidrs', cidr, 'each must be an IPv4 or IPv6 CIDR range such as 203.0.113.0/24');
    }
  }
  v.check(!(props.domainName !== undefined && !props.hostedZone && !props.certificate), 'domainName', props.domainName, 'needs hostedZone (to validate a certificate and add a record) or certificate');
  v.check(!(props.hostedZone && props.domainName === undefined), 'hostedZone', props.hostedZone?.zoneName, 'needs domainName (the name to serve in that zone)');
  const https = props.certificate !== undefined || (props.domainName !== undefined && props.hostedZone !== undefined);

  const accessLogs = props.accessLogs ?? true;
  v.check(!(props.accessLogs === false && props.existingAccessLogsBucket), 'existingAccessLogsBucket', props.existingAccessLogsBucket?.bucketName, 'is unused with accessLogs: false; remove one of them');
  const openAi = props.openAi ?? true;
  v.check(!(props.openAi === false && props.existingOpenAiApiKeySecret), 'existingOpenAiApiKeySecret', props.existingOpenAiApiKeySecret?.secretName, 'is unused with openAi: false; remove one of them');
  const secretProps: [string, secretsmanager.ISecret | undefined][] = [
    ['existingAnthropicApiKeySecret', props.existingAnthropicApiKeySecret],
    ['existingOpenAiApiKeySecret', props.existingOpenAiApiKeySecret],
    ['existingJwtSecret', props.existingJwtSecret],
    ['existingApiKeysSecret', props.existingApiKeysSecret],
    ['existingAdminKeysSecret', props.existingAdminKeysSecret],
    ['existingCacheSigningKeySecret', props.existingCacheSigningKeySecret],
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
  const drain = Math.ceil(config.drainTimeout);
  const stopTimeoutSeconds = drain + d.deregistrationMarginSeconds;
  v.check(stopTimeoutSeconds <= AWS_LIMITS.maxStopTimeout, 'config.drainTimeout', config.drainTimeout, `Fargate stops a container at most ${AWS_LIMITS.maxStopTimeout} s after SIGTERM, so the drain timeout must be at most ${AWS_LIMITS.maxStopTimeout - d.deregistrationMarginSeconds} s`);
  const idleTimeoutSeconds = props.idleTimeout ? props.idleTimeout.toSeconds() : Math.min(Math.ceil(config.upstreamTimeout), AWS_LIMITS.idleTimeout.max);
  if (props.idleTimeout) v.integer('idleTimeout', idleTimeoutSeconds, AWS_LIMITS.idleTimeout.min, AWS_LIMITS.idleTimeout.max);
  // The service must keep idle connections open longer than the ALB does, or the ALB may reuse a
  // connection the service is closing (a 502). Set from the idle timeout unless the user chose one.
  const keepAliveTimeout = props.config?.keepAliveTimeout ?? idleTimeoutSeconds + d.keepAliveMarginSeconds;
  v.check(keepAliveTimeout > idleTimeoutSeconds, 'config.keepAliveTimeout', keepAliveTimeout, `must be above the load balancer idle timeout (${idleTimeoutSeconds} s)`);
  const serviceConfig = { ...props.config, keepAliveTimeout };

  v.throwIfInvalid(CONSTRUCT);
  return {
    config,
    serviceConfig,
    cpu,
    memoryLimitMiB,
    desiredCount,
    minCapacity,
    maxCapacity,
    targetCpuUtilization,
    scaleOutLatencySeconds,
    requestsPerTarget,
    internetFacing,
    accessLogs,
    openAi,
    https,
    redisMode,
    redis,
    healthCheckIntervalSeconds,
    stopTimeoutSeconds,
    deregistrationDelaySeconds: stopTimeoutSeconds,
    idleTimeoutSeconds,
  };
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
    nodeType: options?.nodeType ?? d.nodeType,
    replicasPerShard: options?.replicasPerShard ?? d.replicasPerShard,
    clusterMode,
    shards: options?.shards ?? (clusterMode ? d.clusterShards : 1),
    engineVersion: options?.engineVersion ?? d.engineVersion,
    snapshotRetentionDays: options?.snapshotRetentionDays ?? d.snapshotRetentionDays,
  };
}
