/** Recovery and rollback of a TboFargateService (ECS Fargate, ALB, ElastiCache, Secrets Manager) with the CDK. */
import { ADMIN_PORT, PROBE_PATHS } from './contract';
import { RUNBOOK_EXAMPLE_STACKS } from './runbook-outputs';
import { CHECK_OUT_GOOD_COMMIT_STEP, CONFIGURATION_IS_CODE, GOOD_COMMIT, readyCheck, REVERT_TO_GOOD_COMMIT, REVERT_WHY, SAME_SECRET_VALUES } from './runbook-shared';
import type { RunbookCommand, TargetRunbook } from './runbook-types';

const STACK = RUNBOOK_EXAMPLE_STACKS.aws;
const SERVICE = '--cluster <ClusterName> --services <EcsServiceName>';

const waitStable: RunbookCommand = { run: `aws ecs wait services-stable ${SERVICE}`, note: 'returns once the tasks of the newest deployment run and the old ones are gone (polls for up to 10 minutes)' };
const alarms: RunbookCommand = { run: "aws cloudwatch describe-alarms --state-value ALARM --query 'MetricAlarms[].[AlarmName,StateReason]' --output table", note: 'the alarms firing: TBOHighLatency, TBOCircuitBreakerActive, … prefixed with the service name' };
const targetGroup: RunbookCommand = { run: `TG=$(aws ecs describe-services ${SERVICE} --query 'services[0].loadBalancers[0].targetGroupArn' --output text)` };
const targetHealth: RunbookCommand = { run: 'aws elbv2 describe-target-health --target-group-arn "$TG" --query \'TargetHealthDescriptions[].[Target.Id,TargetHealth.State,TargetHealth.Reason]\' --output table', note: 'every task registered and healthy' };
const deployments: RunbookCommand = {
  run: `aws ecs describe-services ${SERVICE} --query 'services[0].deployments[].[status,taskDefinition,rolloutState,runningCount,desiredCount]' --output table`,
  note: 'PRIMARY is the newest deployment, ACTIVE the one it replaces',
};
const adminPortNote =
  `The admin port (${ADMIN_PORT}: ${PROBE_PATHS.healthDetails}, ${PROBE_PATHS.metrics}) admits only the security groups in \`metricsScrapers\`: from one of those, \`curl -fsS http://TASK_IP:${ADMIN_PORT}${PROBE_PATHS.healthDetails}\` ` +
  'also checks upstream connectivity (503 when unhealthy). The `DashboardUrl` output is the dashboard.';

/** AWS: the CDK construct `TboFargateService` in the example stack `TboAwsStack`. */
export const AWS_RUNBOOK: TargetRunbook = {
  target: 'aws',
  title: 'AWS: TboFargateService (CDK)',
  outputsIntro:
    `Placeholders are the stack's CloudFormation outputs. Their keys carry the construct id in front and a hash behind (\`<ClusterName>\` is the value of the key \`TboClusterName…\` in the example stack \`${STACK}\`). ` +
    '`RedisReplicationGroupId` exists when the construct creates ElastiCache, `RedisBackupBucketName` when `redis.snapshotExport` is on. Commands use your default Region (`AWS_REGION`).',
  outputsCommand: { run: `aws cloudformation describe-stacks --stack-name ${STACK} --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table` },
  recovery: [
    {
      phase: 'verify-backup',
      title: 'Find a good Redis snapshot and check it',
      why:
        'ElastiCache keeps an automatic snapshot a day for `redis.snapshotRetentionDays` (7 by default) and takes a final snapshot when the construct\'s replication group is deleted or replaced (`redis.removalPolicy`, SNAPSHOT by default). ' +
        'A snapshot in status `available` is complete, but ElastiCache gives no access to its content: exporting it to the construct\'s bucket (`redis.snapshotExport`) gives an RDB file that `redis-check-rdb` (from a Redis at least as new as the engine) can check, and that outlives the snapshot retention. ' +
        'Everything written after the snapshot is lost: with daily snapshots, up to a day of cache, sessions and batch/response ownership records.',
      inputs: [
        { name: 'SNAPSHOT', meaning: 'the snapshot to restore, from the first list (a final snapshot of a deleted group is in the second)' },
        { name: 'EXPORT_FILE', meaning: 'the exported RDB object in the bucket, from the listing after the export' },
      ],
      commands: [
        { run: "aws elasticache describe-snapshots --replication-group-id <RedisReplicationGroupId> --query 'Snapshots[].[SnapshotName,SnapshotStatus,SnapshotSource,NodeSnapshots[0].SnapshotCreateTime]' --output table", note: "the group's automatic and manual snapshots" },
        { run: "aws elasticache describe-snapshots --snapshot-source user --query 'Snapshots[].[SnapshotName,ReplicationGroupId,SnapshotStatus,NodeSnapshots[0].SnapshotCreateTime]' --output table", note: 'manual and final snapshots of every group, deleted ones included' },
        { run: 'aws elasticache copy-snapshot --source-snapshot-name "$SNAPSHOT" --target-snapshot-name "$SNAPSHOT-check" --target-bucket <RedisBackupBucketName>', note: 'export to S3 (with snapshotExport); the source snapshot shows status exporting until it is done' },
        { run: 'aws s3 ls s3://<RedisBackupBucketName>/ --recursive' },
        { run: 'aws s3 cp "s3://<RedisBackupBucketName>/$EXPORT_FILE" ./tbo-check.rdb' },
        { run: 'redis-check-rdb ./tbo-check.rdb', note: 'ends with "RDB looks OK!"' },
      ],
    },
    CHECK_OUT_GOOD_COMMIT_STEP,
    {
      phase: 'restore-redis',
      title: 'Seed a new Redis from the snapshot (only when Redis lost its data)',
      why:
        'The next deploy replaces the replication group: CloudFormation creates a new one seeded from the snapshot, the tasks roll onto its endpoint, and the old group is deleted after its final snapshot. ' +
        'The new group is still the stack\'s (security group, AUTH token, TLS, alarms), which one made by hand with `aws elasticache create-replication-group --snapshot-name` would not be. ' +
        'Keep the setting in every later commit: removing or changing it replaces the group again. ' +
        'Skip this step when Redis kept its data. The cache refills by itself, at a cost (README, "State, and what losing it costs"); batch and response ownership records do not, so their owners get 404 until the objects expire upstream.',
      change:
        "In the stack's TboFargateService props set `redis: { …, restoreFromSnapshot: { snapshotName: '<the SNAPSHOT name>' } }`, or `snapshotArns: ['arn:aws:s3:::<bucket>/<EXPORT_FILE>']` to seed from an exported RDB file (not with cluster mode). " +
        'In the example app, the context key `redisRestoreSnapshotName` (or `redisRestoreSnapshotArns`) in `cdk.json` does the same.',
      commands: [{ run: 'git commit -am "Seed Redis from snapshot $SNAPSHOT"' }],
    },
    {
      phase: 'redeploy',
      title: 'Deploy',
      why:
        'One deploy brings back everything the stack defines: network, Redis (seeded when the step before set it), the secrets (their containers; values below), the ECS service, the load balancer, alarms and dashboard. ' +
        'Creating a replication group takes the longest. The ECS deployment circuit breaker rolls a deployment whose tasks never get healthy back by itself.',
      commands: [
        { run: `npx cdk deploy ${STACK}` },
        waitStable,
        { run: "aws elasticache describe-replication-groups --replication-group-id <RedisReplicationGroupId> --query 'ReplicationGroups[0].[Status,MemberClusters]'", note: 'available' },
      ],
    },
    {
      phase: 'secrets',
      title: 'Make sure every secret holds its value',
      why:
        'Secrets Manager holds them; the stack creates each secret, never its value from a file. A secret deleted with the stack can be restored during its recovery window; ' +
        'in another Region the replicas of `secretReplicaRegions` hold the same values (`aws secretsmanager stop-replication-to-replica --secret-id ARN --region REPLICA` promotes one). ' +
        'Otherwise fill each secret from your secret store with its `<Id>FillCommand` output (each reads the env var of the same name, e.g. `ANTHROPIC_API_KEY`; export it first), then restart the service: tasks read secrets when they start. ' +
        `${SAME_SECRET_VALUES} The construct generates the cache-signing key in Secrets Manager: a stack created anew generates a new one (unless \`existingCacheSigningKeySecret\`), so a cache restored into it is all misses, while a Redis restored under the same stack keeps its entries.`,
      inputs: [{ name: 'SECRET_ID', meaning: 'the name or ARN of a secret scheduled for deletion, from the list' }],
      commands: [
        { run: "aws secretsmanager list-secrets --include-planned-deletion --query 'SecretList[].[Name,DeletedDate,PrimaryRegion]' --output table", note: 'a secret scheduled for deletion shows its DeletedDate' },
        { run: 'aws secretsmanager restore-secret --secret-id "$SECRET_ID"', note: 'only for one scheduled for deletion' },
        { run: "aws secretsmanager describe-secret --secret-id <JwtSecretArn> --query '[Name,ReplicationStatus]'", note: 'its replicas and their status' },
        { run: '<AnthropicApiKeyFillCommand>', note: 'and every other <Id>FillCommand output' },
        { run: '<RestartServiceCommand>' },
        waitStable,
      ],
    },
    {
      phase: 'verify-health',
      title: 'Check the service',
      why:
        '`/ready` answers 200 while an instance takes traffic and says whether Redis is connected (the service serves from memory when it is not, so a wrong AUTH token shows here, not as errors). ' +
        `The default load balancer is internal: run curl from inside the VPC. ${adminPortNote}`,
      commands: [
        { run: `aws ecs describe-services ${SERVICE} --query 'services[0].[status,runningCount,desiredCount,deployments[0].rolloutState]'` },
        readyCheck('<ServiceUrl>'),
        alarms,
      ],
    },
    {
      phase: 'resume-traffic',
      title: 'Send traffic back',
      why:
        'The load balancer sends traffic to each task once it passes the `/ready` health check, and the DNS record (with `domainName`) belongs to the stack: after a recovery in place there is nothing to switch. ' +
        'If clients were pointed elsewhere meanwhile (another deployment, a maintenance page), point them back at `ServiceUrl` once every target is healthy.',
      commands: [targetGroup, targetHealth],
    },
  ],
  rollback: [
    {
      phase: 'stop',
      title: 'Stop the bad rollout',
      why:
        'A deploy is a CloudFormation stack update: while it is in progress, cancelling it rolls the whole stack back to the template before it (task definition, settings, alarms). ' +
        'The ECS deployment circuit breaker already rolls back a deployment whose tasks never get healthy; this is for one that gets healthy and misbehaves.',
      commands: [
        { run: `aws cloudformation describe-stacks --stack-name ${STACK} --query 'Stacks[0].StackStatus'`, note: 'UPDATE_IN_PROGRESS: cancel it' },
        { run: `aws cloudformation cancel-update-stack --stack-name ${STACK}` },
        deployments,
      ],
    },
    {
      phase: 'deploy-previous',
      title: 'Run the previous task definition now, then deploy the known-good commit',
      why:
        'Pointing the service at the previous task definition takes minutes and needs no build; the stack still describes the bad one until the deploy that follows, which makes the rollback permanent. ' +
        `${REVERT_WHY} ${CONFIGURATION_IS_CODE}`,
      inputs: [
        { name: 'PREVIOUS_TASK_DEFINITION', meaning: 'the ACTIVE deployment\'s task definition ARN from the list above (or the revision before the current one)' },
        GOOD_COMMIT,
      ],
      commands: [
        { run: `aws ecs update-service --cluster <ClusterName> --service <EcsServiceName> --task-definition "$PREVIOUS_TASK_DEFINITION"` },
        ...REVERT_TO_GOOD_COMMIT,
        { run: `npx cdk deploy ${STACK}` },
      ],
    },
    {
      phase: 'verify',
      title: 'Check the service',
      why: `Stable means the tasks of the newest deployment run and the previous ones are gone. ${adminPortNote}`,
      commands: [waitStable, deployments, readyCheck('<ServiceUrl>'), alarms],
    },
    {
      phase: 'traffic',
      title: 'Check the load balancer',
      why: 'The load balancer and its DNS record stay in place during a rollback: the target group moves to the healthy tasks by itself. Nothing to switch unless clients were sent elsewhere meanwhile.',
      commands: [targetGroup, targetHealth],
    },
  ],
};
