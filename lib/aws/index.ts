/**
 * tbo-deploy/aws: the TBO gateway on AWS (aws-cdk-lib). Users of other targets never load this
 * module or its dependencies.
 */
export { TboFargateService } from './fargate-service';
export type { TboExistingRedis, TboFargateServiceProps, TboRedisOptions } from './props';
export { AWS_DEFAULTS, AWS_LIMITS } from './defaults';
export { SIGNAL_METRICS, TboServiceMetrics } from './metrics';
