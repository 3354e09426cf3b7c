/**
 * The construct outputs the runbook's commands read, per target, and the command-line tools its
 * commands may start with. The runbook drift test holds every `<placeholder>` to these lists.
 */
import type { RunbookTarget } from './runbook-types';

/**
 * The GCP outputs' prefix in the example app (`app/gcp-stack.ts`: construct id `tbo`). A
 * TboCloudRunService names its Terraform outputs `<path>_<name>`, the path of the construct inside
 * its stack with `_` for `/`.
 */
export const GCP_EXAMPLE_OUTPUT_PREFIX = 'tbo';

/** Stack names of the example apps, which the commands deploy (`bin/tbo-aws-stack.ts`, `app/main.ts`). */
export const RUNBOOK_EXAMPLE_STACKS: Readonly<Record<RunbookTarget, string>> = {
  aws: 'TboAwsStack',
  gcp: 'tbo-gcp',
  k8s: 'tbo-k8s',
};

/** An output's name and whether its value is a whole command to run. */
export interface RunbookOutput {
  readonly name: string;
  readonly command: boolean;
}

const out = (name: string, command = false): RunbookOutput => ({ name, command });

/**
 * Every output a placeholder may name, per target, as the placeholder is written: CloudFormation
 * output ids of TboFargateService (their keys in the stack carry the construct id in front and a hash
 * behind, e.g. `TboClusterName1A2B3C4D`), the example app's Terraform outputs on GCP
 * (`tbo_…`) and on Kubernetes (`app/k8s-stack.ts`). Some exist only when the feature they describe
 * is on (ElastiCache created, snapshot export or the backup bucket enabled, in-cluster Redis backups).
 */
export const RUNBOOK_OUTPUTS: Readonly<Record<RunbookTarget, readonly RunbookOutput[]>> = {
  aws: [
    out('ServiceUrl'),
    out('RestartServiceCommand', true),
    out('JwtSecretArn'),
    out('DashboardUrl'),
    out('ClusterName'),
    out('EcsServiceName'),
    out('RedisReplicationGroupId'),
    out('RedisBackupBucketName'),
  ],
  gcp: [
    out('url'),
    out('secret_commands', true),
    out('rollout_command', true),
    out('service_name'),
    out('region'),
    out('redis_instance'),
    out('backup_bucket'),
    out('redis_export_command', true),
    out('redis_import_command', true),
  ].map((o) => ({ ...o, name: `${GCP_EXAMPLE_OUTPUT_PREFIX}_${o.name}` })),
  k8s: [
    out('namespace'),
    out('secret_name'),
    out('internal_url'),
    out('deployment_name'),
    out('secret_create_command', true),
    out('redis_backup_cronjob'),
    out('redis_backup_claim'),
    out('dr_runbook_configmap'),
  ],
};

/**
 * AWS outputs named after a secret: `<Id>FillCommand`, one per secret to fill (e.g.
 * `AnthropicApiKeyFillCommand`), each a command that reads the env var of the same name.
 */
export const AWS_FILL_COMMAND_OUTPUT = /^[A-Z][A-Za-z0-9]*FillCommand$/;

/** The output a placeholder names on `target`, or undefined when it names none. */
export function runbookOutput(target: RunbookTarget, name: string): RunbookOutput | undefined {
  const listed = RUNBOOK_OUTPUTS[target].find((o) => o.name === name);
  if (listed) return listed;
  return target === 'aws' && AWS_FILL_COMMAND_OUTPUT.test(name) ? { name, command: true } : undefined;
}

/** The command-line tools a runbook command may start with (`npx cdk`, `npx cdktf` count as cdk, cdktf). */
export const RUNBOOK_CLIS = ['aws', 'gcloud', 'kubectl', 'cdk', 'cdktf', 'git', 'npm', 'curl', 'redis-cli', 'redis-check-rdb', 'sha256sum'] as const;
