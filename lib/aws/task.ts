import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ADMIN_PORT, PROBE_PATHS, SECRET_ENV, SERVICE_BUILD_EXCLUDES, SERVICE_PORT, SETTINGS, renderEnvironment, serviceDirectory, type TboServiceConfig } from '../core';
import { assetPlatformOf, cpuArchitectureOf, type TboCpuArchitectureName } from './architecture';
import { AWS_DEFAULTS } from './defaults';
import { acknowledge } from './nag';
import type { TboRedis } from './redis';
import type { ResolvedProps } from './resolve-props';
import type { TboSecrets } from './secrets';
import { gatewayTracingEnvironment } from './telemetry';

/** The container's name in the task definition (the load balancer targets it by this name). */
export const CONTAINER_NAME = 'tbo';
/** The writable scratch volume: the root filesystem is read-only. */
export const TMP_VOLUME = { name: 'tmp', path: '/tmp' } as const;

/**
 * The bundled service folder as a Docker image asset for the tasks' architecture (built by
 * `cdk deploy` with `docker build --platform linux/amd64` or `linux/arm64`; synth only stages the folder).
 */
export function bundledServiceImage(arch: TboCpuArchitectureName): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(serviceDirectory(), { exclude: [...SERVICE_BUILD_EXCLUDES], platform: assetPlatformOf(arch) });
}

/** Liveness probe inside the container, with no curl: the service image is Node. */
export function livenessCommand(): string[] {
  const probe = `require('http').get({host:'127.0.0.1',port:${SERVICE_PORT},path:'${PROBE_PATHS.liveness}',timeout:3000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`;
  return ['CMD', 'node', '-e', probe];
}

/**
 * The container environment: the config rendered by the shared contract (admin port, JWT issuer
 * and audience included), this deployment's Redis key prefix, the `OTEL_*` trace settings, and
 * what this target owns; `bedrockRegionToken` is `TBO_BEDROCK_REGION` when it is a deploy-time
 * value the config cannot hold.
 */
export function containerEnvironment(
  config: TboServiceConfig | undefined,
  redis: TboRedis | undefined,
  redisKeyPrefix: string,
  memoryLimitMiB?: number,
  bedrockRegionToken?: string,
  tracingEnv: Record<string, string> = {},
): Record<string, string> {
  return {
    ...renderEnvironment(config, redis?.endpoint, { redisKeyPrefix, memoryBytes: memoryLimitMiB === undefined ? undefined : memoryLimitMiB * 1024 ** 2 }),
    ...tracingEnv,
    // a Bedrock Region known only at deploy (the stack's, with crossRegion global or none)
    ...(bedrockRegionToken === undefined ? {} : { [SETTINGS.bedrockRegion.env]: bedrockRegionToken }),
    [SETTINGS.host.env]: '0.0.0.0',
    [SETTINGS.port.env]: String(SERVICE_PORT),
    [SETTINGS.metricsEmf.env]: 'true',
  };
}

/** The container's secrets, by env var name, all injected by ECS from Secrets Manager. */
export function containerSecrets(secrets: TboSecrets, redis: TboRedis | undefined): Record<string, ecs.Secret> {
  const out: Record<string, ecs.Secret> = {};
  if (secrets.anthropicApiKey) out[SECRET_ENV.anthropicApiKey] = ecs.Secret.fromSecretsManager(secrets.anthropicApiKey);
  out[SECRET_ENV.jwtSecretKey] = ecs.Secret.fromSecretsManager(secrets.jwtSecret);
  if (secrets.openAiApiKey) out[SECRET_ENV.openaiApiKey] = ecs.Secret.fromSecretsManager(secrets.openAiApiKey);
  if (secrets.apiKeys) out[SECRET_ENV.apiKeys] = ecs.Secret.fromSecretsManager(secrets.apiKeys);
  if (secrets.adminKeys) out[SECRET_ENV.adminKeys] = ecs.Secret.fromSecretsManager(secrets.adminKeys);
  if (secrets.cacheSigningKey) out[SECRET_ENV.cacheSigningKey] = ecs.Secret.fromSecretsManager(secrets.cacheSigningKey);
  if (secrets.sentryDsn) out[SECRET_ENV.sentryDsn] = ecs.Secret.fromSecretsManager(secrets.sentryDsn);
  if (redis?.authSecret) out[SECRET_ENV.redisPassword] = ecs.Secret.fromSecretsManager(redis.authSecret);
  return out;
}

export interface TboTask {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;
}

export interface TboTaskInputs {
  readonly image: ecs.ContainerImage;
  readonly config: TboServiceConfig | undefined;
  readonly secrets: TboSecrets;
  readonly redis: TboRedis | undefined;
  /** Prefix of this deployment's Redis keys. */
  readonly redisKeyPrefix: string;
  /** The user's log group name; undefined for the default, {@link defaultLogGroupName}. */
  readonly logGroupName: string | undefined;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The default log group name: `/ecs/<serviceName>/` and the first 8 hex digits of the stack's id.
 * The id is new with every stack creation and fixed for the stack's life, so a redeploy after
 * `cdk destroy` creates a fresh log group next to the retained one instead of failing on its name.
 */
export function defaultLogGroupName(serviceName: string): string {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `${AWS_DEFAULTS.logGroupPrefix}${serviceName}/${Fn.select(0, Fn.split('-', stackUuid))}`;
}

/**
 * The Fargate task: the guide's size, Linux on `cpuArchitecture`, a non-root container with a
 * read-only root filesystem and a writable /tmp, the public and admin ports, secrets by reference,
 * logs to `/ecs/<serviceName>/…` with stream prefix `ecs`, a liveness health check, and a stop
 * timeout just above the service's drain timeout.
 */
export function createTask(scope: Construct, r: ResolvedProps, inputs: TboTaskInputs): TboTask {
  const logGroup = new logs.LogGroup(scope, 'LogGroup', {
    logGroupName: inputs.logGroupName ?? defaultLogGroupName(r.serviceName),
    retention: inputs.logRetention,
    removalPolicy: r.logGroupRemovalPolicy,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
    cpu: r.cpu,
    memoryLimitMiB: r.memoryLimitMiB,
    runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: cpuArchitectureOf(r.cpuArchitecture) },
  });
  taskDefinition.addVolume({ name: TMP_VOLUME.name });
  const container = taskDefinition.addContainer('Container', {
    containerName: CONTAINER_NAME,
    image: inputs.image,
    essential: true,
    // the public port (the load balancer's target) first: it is the container's default port
    portMappings: [
      { containerPort: SERVICE_PORT, name: 'http' },
      { containerPort: ADMIN_PORT, name: 'admin' },
    ],
    environment: containerEnvironment(
      inputs.config,
      inputs.redis,
      inputs.redisKeyPrefix,
      r.gatewayMemoryMiB,
      r.bedrock && !r.bedrock.regionKnown ? r.bedrock.resolution.region : undefined,
      gatewayTracingEnvironment(r.serviceName, r.tracing),
    ),
    secrets: containerSecrets(inputs.secrets, inputs.redis),
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: AWS_DEFAULTS.logStreamPrefix }),
    healthCheck: {
      command: livenessCommand(),
      interval: Duration.seconds(r.healthCheckIntervalSeconds),
      timeout: Duration.seconds(5),
      retries: 3,
      startPeriod: Duration.seconds(15),
    },
    readonlyRootFilesystem: true,
    user: AWS_DEFAULTS.containerUser,
    stopTimeout: Duration.seconds(r.stopTimeoutSeconds),
  });
  container.addMountPoints({ sourceVolume: TMP_VOLUME.name, containerPath: TMP_VOLUME.path, readOnly: false });

  acknowledge(
    taskDefinition,
    'AwsSolutions-ECS2',
    'The plain environment variables are only the non-secret settings rendered by the shared contract (levels, sizes, timeouts, Redis ' +
      'host and port, Redis key prefix, OpenTelemetry endpoint and sampling; the collector sidecar\'s Go memory limit); every credential (provider API keys, JWT key, client and admin keys, cache signing key, Redis AUTH ' +
      'token) is injected from Secrets Manager.',
  );
  const executionRole = taskDefinition.obtainExecutionRole();
  acknowledge(
    executionRole,
    'AwsSolutions-IAM5[Resource::*]',
    'ecr:GetAuthorizationToken, which pulling the image from ECR needs, supports no resource-level permissions; every other grant of the ' +
      'execution role names its log group, repository or secret.',
  );
  return { taskDefinition, container, logGroup };
}
