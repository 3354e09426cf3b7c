import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { settingFromEnv } from './env';
import { TboKubernetesService, type TboKubernetesServiceProps } from '../lib/k8s';

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
  /** Not pullable: `cdktf deploy` with it leaves pods in ImagePullBackOff until TBO_IMAGE is set. */
  image: 'replace-with-your-registry/tbo-service:set-TBO_IMAGE',
} as const;

/** Properties of {@link TboKubernetesStack}. */
export interface TboKubernetesStackProps {
  /** kubeconfig file(s) (several separated by the path delimiter, as in KUBECONFIG). @default - env `KUBECONFIG`, else `~/.kube/config` */
  readonly kubeconfig?: string;
  /** kubeconfig context. @default - env `KUBE_CONTEXT`, else the kubeconfig's current context */
  readonly kubeContext?: string;
  /** TBO container image. @default - env `TBO_IMAGE`, else a placeholder */
  readonly image?: string;
  /** Local state file. @default - `terraform.<stack id>.tfstate` in the working directory */
  readonly statePath?: string;
  /** Further {@link TboKubernetesService} props. @default - the construct's defaults, named as {@link K8S_EXAMPLE_NAMES} */
  readonly service?: Omit<TboKubernetesServiceProps, 'image'>;
}

/**
 * The example Kubernetes deployment: the kubernetes provider configured from a kubeconfig, a local
 * backend, and {@link TboKubernetesService} with its defaults under the guide's names (namespace
 * `tbo-system`, in-cluster Redis, Secret `tbo-secrets` referenced, not created). Image from
 * `TBO_IMAGE`. Outputs: the namespace, the Secret to fill and the in-cluster URL.
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
    const kubeContext = props.kubeContext ?? (process.env.KUBE_CONTEXT?.trim() || undefined);
    const image = settingFromEnv(props.image, 'TBO_IMAGE', K8S_PLACEHOLDERS.image, this);

    this.provider = new KubernetesProvider(this, 'kubernetes', {
      ...(paths.length > 1 ? { configPaths: paths } : { configPath: paths[0] ?? K8S_PLACEHOLDERS.kubeconfig }),
      configContext: kubeContext,
    });
    this.backend = new LocalBackend(this, props.statePath ? { path: props.statePath } : {});
    this.tbo = new TboKubernetesService(this, 'tbo', { ...K8S_EXAMPLE_NAMES, ...props.service, image });
    new TerraformOutput(this, 'namespace', { value: this.tbo.namespaceName, description: 'Namespace of the TBO gateway' });
    new TerraformOutput(this, 'secret_name', { value: this.tbo.secretName, description: 'Secret the pods read their credentials from (create it before the pods can start)' });
    new TerraformOutput(this, 'internal_url', { value: this.tbo.internalUrl, description: 'Base URL of the gateway inside the cluster' });
  }
}
