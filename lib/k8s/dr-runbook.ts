import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { RUNBOOK_EXAMPLE_STACKS, K8S_RUNBOOK, RUNBOOK_REDIS_DATA_CLAIM, RUNBOOK_REDIS_STATEFULSET, renderProcedureDocument, type RunbookValues } from '../core/runbook';

/** The guide's name of the ConfigMap; each instance's is `<name>-dr-runbook`. */
export const DR_RUNBOOK_NAME = 'dr-runbook';

/** Keys of the ConfigMap: one Markdown document per procedure. */
export const DR_RUNBOOK_KEYS = { recovery: 'recovery.md', rollback: 'rollback.md' } as const;

/** Properties of {@link TboKubernetesDrRunbook}: where it goes, and the names its commands use. */
export interface TboKubernetesDrRunbookProps {
  /** Namespace of the ConfigMap and of every object the commands name (a name, or the namespace resource's token). */
  readonly namespace: string;
  /** The instance's `name`: the ConfigMap is `<instanceName>-dr-runbook`. */
  readonly instanceName: string;
  /** Labels of the ConfigMap. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** The gateway's Deployment (and Service, which has its name). */
  readonly deploymentName: string;
  /** The Secret the pods read their credentials from. */
  readonly secretName: string;
  /** The command that creates that Secret from env vars (the `secret_create_command` output). @default - left as `<secret_create_command>` */
  readonly secretCreateCommand?: string;
  /** The in-cluster Redis StatefulSet. @default - left as `$REDIS_STATEFULSET` (no in-cluster Redis) */
  readonly redisStatefulSetName?: string;
  /** The claim of the Redis data volume (`data-<statefulset>-0`). @default - left as `$REDIS_DATA_CLAIM` */
  readonly redisDataClaimName?: string;
  /** The Redis backup CronJob. @default - left as `<redis_backup_cronjob>` (no backups) */
  readonly backupCronJobName?: string;
  /** The claim the backups are written to. @default - left as `<redis_backup_claim>` */
  readonly backupClaimName?: string;
  /** The gateway's URL inside the cluster. @default - left as `<internal_url>` */
  readonly internalUrl?: string;
  /** The cdktf stack the commands deploy. @default - the id of the stack this construct is in */
  readonly stackName?: string;
}

/**
 * The guide's `dr-runbook` ConfigMap for one instance, `<name>-dr-runbook`: `recovery.md` and
 * `rollback.md`, the Kubernetes steps of RUNBOOK.md rendered from the same definitions
 * (lib/core/runbook-k8s.ts) with this deployment's names in every command, so an operator on the
 * cluster reads commands to run, not placeholders to fill:
 *
 *   kubectl -n NAMESPACE get configmap NAME-dr-runbook -o jsonpath='{.data.recovery\.md}'
 */
export class TboKubernetesDrRunbook extends Construct {
  /** The ConfigMap. */
  readonly configMap: ConfigMapV1;
  /** Its name, `<instanceName>-dr-runbook`. */
  readonly name: string;
  /** The documents, by key (as in the ConfigMap's data). */
  readonly documents: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: TboKubernetesDrRunbookProps) {
    super(scope, id);
    this.name = `${props.instanceName}-${DR_RUNBOOK_NAME}`;
    const values = drRunbookValues(props, this.name, props.stackName ?? TerraformStack.of(this).node.id);
    this.documents = {
      [DR_RUNBOOK_KEYS.recovery]: renderProcedureDocument(K8S_RUNBOOK, 'recovery', values),
      [DR_RUNBOOK_KEYS.rollback]: renderProcedureDocument(K8S_RUNBOOK, 'rollback', values),
    };
    this.configMap = new ConfigMapV1(this, 'ConfigMap', {
      metadata: { name: this.name, namespace: props.namespace, labels: { ...props.labels } },
      data: { ...this.documents },
    });
  }
}

/** What the runbook's blanks become for this deployment; those the props do not know stay blank. */
export function drRunbookValues(props: TboKubernetesDrRunbookProps, configMapName: string, stackName: string): RunbookValues {
  const known = (entries: Record<string, string | undefined>) => Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    outputs: known({
      namespace: props.namespace,
      deployment_name: props.deploymentName,
      secret_name: props.secretName,
      secret_create_command: props.secretCreateCommand,
      redis_backup_cronjob: props.backupCronJobName,
      redis_backup_claim: props.backupClaimName,
      internal_url: props.internalUrl,
      dr_runbook_configmap: configMapName,
    }),
    variables: known({ [RUNBOOK_REDIS_STATEFULSET.name]: props.redisStatefulSetName, [RUNBOOK_REDIS_DATA_CLAIM.name]: props.redisDataClaimName }),
    words: { [RUNBOOK_EXAMPLE_STACKS.k8s]: stackName },
  };
}
