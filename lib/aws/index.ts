/**
 * tbo-deploy/aws: the TBO gateway on AWS (aws-cdk-lib). Users of other targets never load this
 * module or its dependencies.
 */
export { TboFargateService } from './fargate-service';
export type { TboBedrockModelAccess, TboExistingRedis, TboFargateServiceProps, TboModelAccess, TboRedisOptions } from './props';
export { BEDROCK_INVOKE_ACTIONS, type TboBedrockModelGrant } from './bedrock';
export { AWS_DEFAULTS, AWS_LIMITS } from './defaults';
export { SIGNAL_METRICS, TboServiceMetrics } from './metrics';
