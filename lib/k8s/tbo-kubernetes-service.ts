import type { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import type { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import type { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import type { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import type { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import type { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import type { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import type { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import type { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import type { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { redisKeyPrefixFor, resolveServiceConfig, type ServiceConfig } from '../core';
import { createAutoscaler } from './autoscaler';
import { createConfigMap } from './config-map';
import { SERVICE_EXPOSED_PORT } from './defaults';
import { createDeployment } from './deployment';
import { createDisruptionBudget } from './disruption-budget';
import { createIngress } from './ingress';
import { createLimitRange } from './limit-range';
import { createNamespace } from './namespace';
import { createDefaultDenyPolicy, createGatewayPolicy } from './network-policy';
import { resolvePlan, type TboKubernetesPlan } from './plan';
import type { TboKubernetesServiceProps } from './props';
import { TboKubernetesRedis } from './redis';
import { createResourceQuota } from './resource-quota';
import { createSecret } from './secret';
import { createService } from './service';
import { createServiceAccount } from './service-account';
import { validateProps } from './validate';

/**
 * The TBO gateway on Kubernetes, as the guide lays it out and hardened: namespace `tbo-system`,
 * ConfigMap `tbo-config` with `config.yaml`, a Deployment under the restricted Pod Security
 * Standard, a ClusterIP Service, an optional TLS Ingress, default-deny NetworkPolicies that still
 * allow DNS, ResourceQuota and LimitRange, HorizontalPodAutoscaler, PodDisruptionBudget and an
 * in-cluster Redis. Credentials stay in a Secret referenced by name unless values are given.
 * The admin port (9464: `/metrics`, `/health/details`) is reachable from the monitoring namespace
 * only and never through the Service or Ingress; each instance writes Redis keys under its own prefix.
 */
export class TboKubernetesService extends Construct {
  /** The namespace, when created here. */
  readonly namespace: NamespaceV1 | undefined;
  /** Name of the namespace everything lives in. */
  readonly namespaceName: string;
  /** ConfigMap with `config.yaml`. */
  readonly configMap: ConfigMapV1;
  /** The credentials Secret, when created from `secrets.values`. */
  readonly secret: SecretV1 | undefined;
  /** Name of the credentials Secret the pods read (created here or existing). */
  readonly secretName: string;
  /** The gateway's ServiceAccount. */
  readonly serviceAccount: ServiceAccountV1;
  /** The gateway Deployment. */
  readonly deployment: DeploymentV1;
  /** The ClusterIP Service (80 → the container port). */
  readonly service: ServiceV1;
  /** The Ingress, when configured. */
  readonly ingress: IngressV1 | undefined;
  /** Namespace-wide default deny, when NetworkPolicies are on. */
  readonly defaultDenyPolicy: NetworkPolicyV1 | undefined;
  /** What the gateway pods may send and receive, when NetworkPolicies are on. */
  readonly gatewayPolicy: NetworkPolicyV1 | undefined;
  /** The namespace's ResourceQuota. */
  readonly resourceQuota: ResourceQuotaV1 | undefined;
  /** The namespace's LimitRange. */
  readonly limitRange: LimitRangeV1 | undefined;
  /** The HorizontalPodAutoscaler (autoscaling/v2). */
  readonly autoscaler: HorizontalPodAutoscalerV2 | undefined;
  /** The PodDisruptionBudget. */
  readonly disruptionBudget: PodDisruptionBudgetV1 | undefined;
  /** The in-cluster Redis (StatefulSet, Service, NetworkPolicy), when used. */
  readonly redis: TboKubernetesRedis | undefined;
  /** The service configuration deployed, with every default filled in. */
  readonly serviceConfig: ServiceConfig;
  /** URL of the gateway inside the cluster (what SDKs in other pods use as base URL). */
  readonly internalUrl: string;
  /** Prefix of every Redis key this deployment writes (`TBO_REDIS_KEY_PREFIX`): the prop, or derived from this construct's address. */
  readonly redisKeyPrefix: string;
  /** Every prop resolved (names, labels, defaults); for extensions and tests. */
  readonly plan: TboKubernetesPlan;

  constructor(scope: Construct, id: string, props: TboKubernetesServiceProps) {
    super(scope, id);
    this.serviceConfig = resolveServiceConfig(props.config, 'config');
    validateProps(props, this.serviceConfig, `TboKubernetesService ${this.node.path}`);
    // node.addr hashes the construct's path: unique per instance in the app, the same on every synth.
    const plan = resolvePlan(props, this.serviceConfig, redisKeyPrefixFor(this.node.addr));
    this.plan = plan;
    this.redisKeyPrefix = plan.redisKeyPrefix;
    this.warnAboutWeakenedDefaults(props);

    this.namespace = plan.createNamespace ? createNamespace(this, plan) : undefined;
    this.namespaceName = plan.namespaceName;
    // Referencing the namespace resource makes Terraform create it before anything inside it.
    const ns = this.namespace?.metadata.name ?? plan.namespaceName;

    this.resourceQuota = createResourceQuota(this, plan, ns);
    this.limitRange = createLimitRange(this, plan, ns);
    this.defaultDenyPolicy = createDefaultDenyPolicy(this, plan, ns);
    this.gatewayPolicy = createGatewayPolicy(this, plan, ns);
    this.configMap = createConfigMap(this, plan, ns);
    this.secret = createSecret(this, plan, ns);
    this.secretName = this.secret?.metadata.name ?? plan.secret.name;
    this.serviceAccount = createServiceAccount(this, plan, ns);

    const redis = plan.redis;
    this.redis =
      redis.mode === 'in-cluster'
        ? new TboKubernetesRedis(this, 'Redis', plan, redis, {
            namespace: ns,
            secretName: this.secretName,
            passwordKey: plan.secret.refs.find((r) => r.setting === 'redisPassword')!.key,
            clientSelector: plan.selector,
          })
        : undefined;

    this.deployment = createDeployment(this, plan, {
      namespace: ns,
      configMap: this.configMap.metadata.name,
      serviceAccount: this.serviceAccount.metadata.name,
      secret: this.secretName,
    });
    // Quota and limits must exist before pods are admitted, or the first pods escape them.
    const guards = [this.resourceQuota, this.limitRange].filter((r) => r !== undefined);
    if (guards.length) this.deployment.dependsOn = [...(this.deployment.dependsOn ?? []), ...guards.map((g) => g.fqn)];
    if (this.redis && guards.length) this.redis.statefulSet.dependsOn = guards.map((g) => g.fqn);

    this.service = createService(this, plan, ns);
    this.ingress = createIngress(this, plan, ns, this.service.metadata.name);
    this.autoscaler = createAutoscaler(this, plan, ns, this.deployment.metadata.name);
    this.disruptionBudget = createDisruptionBudget(this, plan, ns);
    this.internalUrl = `http://${plan.names.service}.${plan.namespaceName}.svc:${SERVICE_EXPOSED_PORT}`;
  }

  /** Says at synth when a prop trades away a secure default. */
  private warnAboutWeakenedDefaults(props: TboKubernetesServiceProps): void {
    const warn = (message: string) => Annotations.of(this).addWarning(`TboKubernetesService: ${message}`);
    if (props.secrets?.values) warn('secrets.values: the Secret is created from values, so Terraform state holds the credentials; reference an existing Secret to keep them out');
    if (props.networkPolicy === false) warn('networkPolicy: false leaves the gateway (its admin port included) and Redis open to every pod in the cluster');
    else if (props.networkPolicy?.defaultDeny === false) warn('networkPolicy.defaultDeny: false lets other pods in the namespace talk to anything');
    if (props.createNamespace === false) warn(`createNamespace: false: label namespace "${this.plan.namespaceName}" pod-security.kubernetes.io/enforce=restricted yourself`);
    if (props.ingress && (props.ingress.profile ?? 'nginx') === 'nginx') {
      Annotations.of(this).addInfo('TboKubernetesService: the nginx ingress profile targets ingress-nginx, which is retired; use profile "custom" for your controller');
    }
  }
}
