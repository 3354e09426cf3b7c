import { Aws, CfnOutput } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { SecretToFill } from './secrets';

export interface TboOutputsInputs {
  readonly url: string;
  readonly toFill: readonly SecretToFill[];
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  readonly jwtSecret: secretsmanager.ISecret;
  /** The `iss` and `aud` client JWTs must carry. */
  readonly jwtClaims: { readonly issuer: string; readonly audience: string };
  readonly dashboard: cloudwatch.Dashboard;
  /** The replication group the construct created, if any. */
  readonly redis?: elasticache.CfnReplicationGroup;
  /** The bucket of snapshot exports, with `redis.snapshotExport`. */
  readonly redisBackupBucket?: s3.IBucket;
}

/** The command that fills a secret from the shell variable of the same name as the service's env var (the value never reaches the template). */
export function fillCommand(envName: string, secret: secretsmanager.ISecret): string {
  return `aws secretsmanager put-secret-value --region ${Aws.REGION} --secret-id ${secret.secretArn} --secret-string "$${envName}"`;
}

/**
 * Stack outputs: where the service is, how to fill its secrets and restart it, where to read the
 * JWT key and the dashboard, and the names the runbook's commands read (cluster, ECS service,
 * replication group, backup bucket).
 */
export function createOutputs(scope: Construct, inputs: TboOutputsInputs): void {
  new CfnOutput(scope, 'ServiceUrl', { value: inputs.url, description: 'Base URL of the TBO gateway (point the Anthropic and OpenAI SDKs here; OpenAI adds /v1)' });
  for (const { envName, id, secret } of inputs.toFill) {
    new CfnOutput(scope, `${id}FillCommand`, {
      value: fillCommand(envName, secret),
      description: `Fills ${envName}: export ${envName}=<your key>, run this, then RestartServiceCommand`,
    });
  }
  new CfnOutput(scope, 'RestartServiceCommand', {
    value: `aws ecs update-service --region ${Aws.REGION} --cluster ${inputs.cluster.clusterName} --service ${inputs.service.serviceName} --force-new-deployment`,
    description: 'Starts fresh tasks, which read the current secret values',
  });
  new CfnOutput(scope, 'JwtSecretArn', {
    value: inputs.jwtSecret.secretArn,
    description: `Secret holding the HS256 key that signs client JWTs (claims: exp, iat, tenant; iss ${inputs.jwtClaims.issuer}, aud ${inputs.jwtClaims.audience})`,
  });
  new CfnOutput(scope, 'DashboardUrl', {
    value: `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${inputs.dashboard.dashboardName}`,
    description: 'CloudWatch dashboard of the gateway',
  });
  new CfnOutput(scope, 'ClusterName', { value: inputs.cluster.clusterName, description: 'ECS cluster of the gateway (aws ecs --cluster)' });
  new CfnOutput(scope, 'EcsServiceName', { value: inputs.service.serviceName, description: 'ECS service of the gateway (aws ecs --service)' });
  if (inputs.redis) {
    new CfnOutput(scope, 'RedisReplicationGroupId', {
      value: inputs.redis.ref,
      description: 'ElastiCache replication group of the cache: aws elasticache describe-snapshots --replication-group-id <this> lists its snapshots',
    });
  }
  if (inputs.redisBackupBucket) {
    new CfnOutput(scope, 'RedisBackupBucketName', {
      value: inputs.redisBackupBucket.bucketName,
      description: 'S3 bucket of Redis snapshot exports: aws elasticache copy-snapshot --source-snapshot-name <snapshot> --target-snapshot-name <name> --target-bucket <this>',
    });
  }
}
