import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { choiceFromEnv, optionalEnv, settingFromEnv } from './env';
import { IMAGE_PLATFORMS, REGISTRY_HOST, REPOSITORY_PATH, TboKubernetesService, type TboImagePlatform, type TboKubernetesImageRegistry, type TboKubernetesServiceProps } from '../lib/k8s';

/**
 * The names this example deploys under: the guide's namespace and `tbo-` names (`tbo-service`,
 * `tbo-config`, Secret `tbo-secrets`), so kubectl commands stay short. The construct's own defaults
 * derive both from the construct path instead, which lets several instances share a cluster.
 */
export const K8S_EXAMPLE_NAMES = { name: 'tbo', namespace: 'tbo-system' } as const;

/** Placeholders synthesized when the environment does not say. */
export const K8S_PLACEHOLDERS = {
  /** The kubeconfig most clusters' tooling writes; the provider expands `~`. */
  kubeconfig: '~/.kube/config',
  /** Where the built image would be pushed: the `.invalid` top-level domain never resolves, so a deploy with it fails at the push. */
  registry: 'replace-with-your-registry.invalid/tbo-service',
} as const;

/** What to set instead of the registry placeholder. */
const REGISTRY_HINT = 'set TBO_REGISTRY (HOST[:PORT]/PATH, e.g. ghcr.io/acme/tbo-service) for the bundled service to be built and pushed there, or TBO_IMAGE to run an image you built';

/**
 * `TBO_REGISTRY`'s form, `HOST[:PORT][/PATH]`, as the construct's `registry`: the host is the
 * registry's address, the rest its repository (`tbo-service` when there is none).
 */
export function registryFromReference(reference: string, authDisabled: boolean): TboKubernetesImageRegistry {
  const slash = reference.indexOf('/');
  const address = slash === -1 ? reference : reference.slice(0, slash);
  const repository = slash === -1 ? undefined : reference.slice(slash + 1);
  if (!REGISTRY_HOST.test(address) || (repository !== undefined && !REPOSITORY_PATH.test(repository))) {
    throw new Error(`TBO_REGISTRY: received ${JSON.stringify(reference)}; must be HOST[:PORT]/PATH without scheme, tag or digest, the path in lowercase (e.g. ghcr.io/acme/tbo-service, localhost:5001/tbo-service)`);
  }
  return { address, ...(repository ? { repository } : {}), ...(authDisabled ? { authDisabled } : {}) };
}

/** Properties of {@link TboKubernetesStack}. */
export interface TboKubernetesStackProps {
  /** kubeconfig file(s) (several separated by the path delimiter, as in KUBECONFIG). @default - env `KUBECONFIG`, else `~/.kube/config` */
  readonly kubeconfig?: string;
  /** kubeconfig context. @default - env `KUBE_CONTEXT`, else the kubeconfig's current context */
  readonly kubeContext?: string;
  /** TBO container image, built elsewhere (or loaded into a local cluster); nothing is built then. @default - env `TBO_IMAGE`, else the bundled service built and pushed to `registry` */
  readonly image?: string;
  /**
   * Where `cdktf deploy` pushes the bundled service it builds (without `image`); credentials from
   * `DOCKER_REGISTRY_USER` / `DOCKER_REGISTRY_PASS` at deploy, else the Docker config file.
   * @default - env `TBO_REGISTRY` (`HOST[:PORT]/PATH`; `TBO_REGISTRY_AUTH_DISABLED=true` for a registry without auth), else a placeholder
   */
  readonly registry?: TboKubernetesImageRegistry;
  /** CPU platform of the pods (and of the built image). @default - env `TBO_PLATFORM`, else built for linux/amd64 with no node selector */
  readonly platform?: TboImagePlatform;
  /** Local state file. @default - `terraform.<stack id>.tfstate` in the working directory */
  readonly statePath?: string;
  /** Further {@link TboKubernetesService} props. @default - the construct's defaults, named as {@link K8S_EXAMPLE_NAMES} */
  readonly service?: Omit<TboKubernetesServiceProps, 'image' | 'registry' | 'platform'>;
}

/**
 * The example Kubernetes deployment: the kubernetes provider configured from a kubeconfig, a local
 * backend, and {@link TboKubernetesService} with its defaults under the guide's names (namespace
 * `tbo-system`, in-cluster Redis, Secret `tbo-secrets` referenced, not created). One `cdktf deploy`
 * (with Docker running) builds the bundled service, pushes it to `TBO_REGISTRY` and runs it by
 * digest; `TBO_IMAGE` runs an image built elsewhere instead. Outputs (the runbook, RUNBOOK.md, reads
 * them): the namespace, the Secret to fill and the command that creates it, the in-cluster URL, the
 * Deployment, the Redis backup CronJob and claim, and the `dr-runbook` ConfigMap.
 */
export class TboKubernetesStack extends TerraformStack {
  /** The kubernetes provider. */
  readonly provider: KubernetesProvider;
  /** The local backend. */
  readonly backend: LocalBackend;
  /** The TBO service. */
  readonly tbo: TboKubernetesService;

  constructor(scope: Construct, id: string, props: TboKubernetesStackProps = {}) {
    super(scope, id);
    const kubeconfig = settingFromEnv(props.kubeconfig, 'KUBECONFIG', K8S_PLACEHOLDERS.kubeconfig, this);
    const paths = kubeconfig.split(kubeconfig.includes(';') ? ';' : ':').filter(Boolean);
    const kubeContext = props.kubeContext ?? optionalEnv('KUBE_CONTEXT');
    const image = props.image ?? optionalEnv('TBO_IMAGE');
    const platform = choiceFromEnv(props.platform, 'TBO_PLATFORM', IMAGE_PLATFORMS);
    const authDisabled = choiceFromEnv(undefined, 'TBO_REGISTRY_AUTH_DISABLED', ['true', 'false'] as const) === 'true';
    const registry = image !== undefined
      ? undefined
      : (props.registry ?? registryFromReference(settingFromEnv(undefined, 'TBO_REGISTRY', K8S_PLACEHOLDERS.registry, this, REGISTRY_HINT), authDisabled));

    this.provider = new KubernetesProvider(this, 'kubernetes', {
      ...(paths.length > 1 ? { configPaths: paths } : { configPath: paths[0] ?? K8S_PLACEHOLDERS.kubeconfig }),
      configContext: kubeContext,
    });
    this.backend = new LocalBackend(this, props.statePath ? { path: props.statePath } : {});
    this.tbo = new TboKubernetesService(this, 'tbo', { ...K8S_EXAMPLE_NAMES, ...props.service, image, registry, platform });
    new TerraformOutput(this, 'namespace', { value: this.tbo.namespaceName, description: 'Namespace of the TBO gateway' });
    new TerraformOutput(this, 'secret_name', { value: this.tbo.secretName, description: 'Secret the pods read their credentials from (create it before the pods can start)' });
    new TerraformOutput(this, 'internal_url', { value: this.tbo.internalUrl, description: 'Base URL of the gateway inside the cluster' });
    new TerraformOutput(this, 'deployment_name', { value: this.tbo.deployment.metadata.name, description: 'The gateway Deployment (its Service and autoscaler have the same name)' });
    if (this.tbo.secretCreateCommand !== undefined) {
      new TerraformOutput(this, 'secret_create_command', {
        value: this.tbo.secretCreateCommand,
        description: 'Creates the Secret with every key the pods read, each value from the shell variable it names (export them from your secret store first; unset ones become empty keys, which the service treats as unset)',
      });
    }
    const backup = this.tbo.redisBackup;
    if (backup) {
      new TerraformOutput(this, 'redis_backup_cronjob', { value: backup.cronJob.metadata.name, description: 'The CronJob that backs up the in-cluster Redis' });
      new TerraformOutput(this, 'redis_backup_claim', { value: backup.claimName, description: 'The PersistentVolumeClaim holding the Redis backups (tbo-<UTC time>.rdb with .sha256)' });
    }
    if (this.tbo.drRunbook) {
      new TerraformOutput(this, 'dr_runbook_configmap', {
        value: this.tbo.drRunbook.configMap.metadata.name,
        description: 'ConfigMap with the recovery and rollback steps, this deployment\'s names filled in (keys recovery.md, rollback.md)',
      });
    }
  }
}
