import { Annotations, CfnCondition, Fn, RemovalPolicy, Stack, Token, Aws } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName, RegionInfo } from 'aws-cdk-lib/region-info';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';

/** Key prefix of the access logs in the bucket. */
export const ACCESS_LOGS_PREFIX = 'tbo-alb';
const NO_ELB_ACCOUNT = 'none';
const ELB_LOG_DELIVERY = 'logdelivery.elasticloadbalancing.amazonaws.com';
/** Construct id (and logical id) of the stack's condition "this region has no Elastic Load Balancing account". */
const NO_ELB_ACCOUNT_CONDITION = 'TboAccessLogsRegionHasNoElbAccount';

/** A private, SSE-S3 encrypted (ALB logs cannot use KMS), TLS-only bucket for the load balancer's access logs. */
export function createAccessLogsBucket(scope: Construct): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogsBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledge(
    bucket,
    'AwsSolutions-S1',
    'This bucket is itself the access-log destination of the load balancer; server access logs for it would need yet another log bucket, ' +
      'and reads of it are already recorded by CloudTrail.',
  );
  return bucket;
}

/**
 * The principal that writes ALB access logs in the stack's region: the region's Elastic Load
 * Balancing account where one exists, else the log delivery service. Environment-agnostic stacks
 * decide at deploy time from a region map (regions without such an account fall back to the
 * stack's own account, which grants nothing new).
 */
function elbAccountPrincipal(scope: Construct): iam.IPrincipal {
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.region)) {
    const account = RegionInfo.get(stack.region).elbv2Account;
    return account ? new iam.AccountPrincipal(account) : new iam.ServicePrincipal(ELB_LOG_DELIVERY);
  }
  const account = stack.regionalFact(FactName.ELBV2_ACCOUNT, NO_ELB_ACCOUNT);
  // one condition per stack, shared by every instance of the construct in it
  const noElbAccount =
    (stack.node.tryFindChild(NO_ELB_ACCOUNT_CONDITION) as CfnCondition | undefined) ??
    new CfnCondition(stack, NO_ELB_ACCOUNT_CONDITION, { expression: Fn.conditionEquals(account, NO_ELB_ACCOUNT) });
  const arn = Fn.conditionIf(noElbAccount.logicalId, `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`, `arn:${Aws.PARTITION}:iam::${account}:root`);
  return new iam.ArnPrincipal(Token.asString(arn));
}

/**
 * Turns on access logging of the load balancer into the bucket and grants log delivery. Works in
 * environment-agnostic stacks, where `ApplicationLoadBalancer.logAccessLogs` needs a region.
 */
export function enableAccessLogs(scope: Construct, loadBalancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket): void {
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', ACCESS_LOGS_PREFIX);
  const objects = bucket.arnForObjects(`${ACCESS_LOGS_PREFIX}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
  const delivery = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
  const first = new iam.PolicyStatement({ actions: ['s3:PutObject'], principals: [new iam.ServicePrincipal(ELB_LOG_DELIVERY)], resources: [objects] });
  if (!bucket.addToResourcePolicy(first).statementAdded) {
    Annotations.of(scope).addWarningV2(
      'tbo-deploy:accessLogsBucketPolicy',
      `existingAccessLogsBucket: the bucket is imported, so its policy cannot be changed here; allow Elastic Load Balancing to write ${ACCESS_LOGS_PREFIX}/AWSLogs/<account>/* yourself.`,
    );
    return;
  }
  bucket.addToResourcePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], principals: [elbAccountPrincipal(scope)], resources: [objects] }));
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      principals: [delivery],
      resources: [objects],
      conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
    }),
  );
  bucket.addToResourcePolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketAcl'], principals: [delivery], resources: [bucket.bucketArn] }));
  const policy = bucket.policy?.node.defaultChild;
  const lb = loadBalancer.node.defaultChild;
  if (policy && lb) lb.node.addDependency(policy);
}
