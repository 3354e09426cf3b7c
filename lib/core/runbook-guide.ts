/**
 * The deployment guide's "Backup and Disaster Recovery" section, step by step, and what replaces
 * each step on every target, or why it is deliberately not done. Rendered into RUNBOOK.md and the
 * README.
 */
import type { GuideBackupStep, GuideRunbookStep } from './runbook-types';

/** The guide's `backup.sh`: a Redis RDB, the ConfigMap and Secret as YAML, logs tarred, all synced to S3. */
export const GUIDE_BACKUP_STEPS: readonly GuideBackupStep[] = [
  {
    guide: 'Redis RDB with `redis-cli --rdb`',
    replacedBy: {
      aws: 'ElastiCache automatic daily snapshots (`redis.snapshotRetentionDays`, 7 days), a final snapshot whenever the group is deleted or replaced (`redis.removalPolicy`)',
      gcp: 'Memorystore RDB persistence (`redis.rdbSnapshotPeriod`, 12 h) against node failure, and exports to Cloud Storage (`redis.export`; the `_redis_export_command` output) to restore from: Memorystore for Redis instances have no managed backups',
      k8s: 'the backup CronJob (`redis.backup`, hourly, 24 kept): `redis-cli --rdb` against the in-cluster Redis with the password from the Secret, checked with `redis-check-rdb`, with a SHA-256 beside each file, the newest kept on the backup claim',
    },
  },
  {
    guide: 'Copy the backups to an S3 bucket',
    replacedBy: {
      aws: 'snapshot exports (`aws elasticache copy-snapshot --target-bucket`) to the bucket of `redis.snapshotExport`: encrypted, TLS only, expiring with a lifecycle rule',
      gcp: 'the bucket `redis.export` creates (uniform access, public access prevented, old exports deleted by a lifecycle rule) or one you bring; only the instance\'s service identity is granted on it',
      k8s: 'the backup claim `<name>-backup`, or with `redis.backup.existingClaim` a claim that outlives the cluster: a bucket mounted through a CSI driver (GCS FUSE, Mountpoint for Amazon S3), or a volume with reclaimPolicy Retain',
    },
  },
  {
    guide: 'Export the ConfigMap as YAML',
    notDone:
      'Configuration is the synthesized code: the commit is the backup, and recovery deploys a known-good commit. An exported ConfigMap would be a second copy that drifts from what git holds, restored over what the deploy just rendered.',
  },
  {
    guide: 'Export the `api-secrets` Secret as YAML',
    notDone:
      'It would copy every credential in clear into a bucket (a Secret\'s data is base64, not encrypted): whoever can read the bucket, or any copy of it, holds every key. Secrets stay in their store: ' +
      'AWS Secrets Manager, replicated to other Regions with `secretReplicaRegions`; GCP Secret Manager with its replication policy; on Kubernetes the operator\'s own secret store, from which `secret_create_command` recreates the Secret.',
  },
  {
    guide: 'Tar the logs into the backup',
    notDone:
      'The logs are already shipped to where they are kept and searched: AWS CloudWatch Logs `/ecs/<serviceName>/…` (`logRetention`, one month), GCP Cloud Logging (its `_Default` bucket keeps 30 days), Kubernetes the cluster\'s log pipeline. ' +
      'A tarball of a pod\'s log holds only what the kubelet has not rotated away. The service\'s logs hold no prompt text and no credential.',
  },
];

/** The guide's `dr-runbook` ConfigMap: its recovery and rollback steps, and the runbook phases doing each. */
export const GUIDE_RUNBOOK_STEPS: readonly GuideRunbookStep[] = [
  { procedure: 'recovery', guide: 'Verify backup integrity', phases: ['verify-backup'] },
  { procedure: 'recovery', guide: 'Restore Redis', phases: ['restore-redis'] },
  { procedure: 'recovery', guide: 'Redeploy', phases: ['redeploy'] },
  {
    procedure: 'recovery',
    guide: 'Restore configuration and secrets',
    phases: ['redeploy', 'secrets'],
    note: 'configuration comes with the commit; secrets are set again from the operator\'s store, never restored from an exported file',
  },
  { procedure: 'recovery', guide: 'Verify health', phases: ['verify-health'] },
  { procedure: 'recovery', guide: 'Resume traffic', phases: ['resume-traffic'] },
  { procedure: 'rollback', guide: 'Stop the deployment', phases: ['stop'] },
  { procedure: 'rollback', guide: 'Deploy the previous known-good version', phases: ['deploy-previous'] },
  { procedure: 'rollback', guide: 'Restore the previous configuration', phases: ['deploy-previous'], note: 'part of the known-good commit' },
  { procedure: 'rollback', guide: 'Verify', phases: ['verify'] },
  { procedure: 'rollback', guide: 'Update DNS / load balancer', phases: ['traffic'], note: 'they stay the stack\'s; the step checks them' },
];
