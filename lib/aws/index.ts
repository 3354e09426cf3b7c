/**
 * tbo-deploy/aws: the TBO gateway on AWS (aws-cdk-lib). Users of other targets never load this
 * module or its dependencies.
 */
export { TboFargateService } from './fargate-service';
export type {
  TboAwsTracingOptions,
  TboBedrockModelAccess,
  TboCollectorSidecarOptions,
  TboExistingRedis,
  TboFargateServiceProps,
  TboModelAccess,
  TboRedisOptions,
  TboRedisSnapshotExportOptions,
  TboRedisSnapshotSource,
} from './props';
export { ELASTICACHE_EXPORT_BUCKET_ACTIONS, ELASTICACHE_EXPORT_OBJECT_ACTIONS } from './backup';
export { COLLECTOR_CONTAINER_NAME, XRAY_WRITE_ACTIONS } from './telemetry';
export { BEDROCK_INVOKE_ACTIONS, type TboBedrockModelGrant } from './bedrock';
export { AWS_DEFAULTS, AWS_LIMITS } from './defaults';
export { SIGNAL_METRICS, TboServiceMetrics } from './metrics';
