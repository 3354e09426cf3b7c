import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import type { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import type { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import type { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import type { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import type { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import type { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import type { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import type { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import type { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import type { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import type { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { Annotations, TerraformStack } from 'cdktf';
import { Construct, type IConstruct } from 'constructs';
import type { TboServiceImage } from '../cdktf-image';
import { PropValidator, redisKeyPrefixFor, resolveServiceConfig, routedBackends, routesToVertex, type ServiceConfig } from '../core';
import { createAutoscaler } from './autoscaler';
import { createConfigMap } from './config-map';
import { SERVICE_EXPOSED_PORT } from './defaults';
import { createDeployment } from './deployment';
import { createDisruptionBudget } from './disruption-budget';
import { createHttpRoute } from './http-route';
import { createServiceImage } from './image';
import { createIngress } from './ingress';
import { createLimitRange } from './limit-range';
import { createNamespace } from './namespace';
import { defaultInstanceName } from './names';
import { createDefaultDenyPolicy, createGatewayPolicy } from './network-policy';
import { defaultBackupStorage, deployedServiceConfig, redisMaxMemoryOf, resolvePlan, type TboKubernetesPlan } from './plan';
import { formatBytes, parseQuantity } from './quantity';
import type { TboKubernetesServiceProps } from './props';
import type { TboKubernetesRedisBackup } from './backup';
import { TboKubernetesDrRunbook } from './dr-runbook';
import { TboKubernetesRedis } from './redis';
import { createResourceQuota } from './resource-quota';
import { createSecret, secretCreateCommand } from './secret';
import { createService } from './service';
import { createServiceAccount } from './service-account';
import { validateProps } from './validate';
import { hasAwsIdentity } from './workload-identity';

/** Names each instance holds in its stack, so two instances can never create the same object. */
const CLAIMS = new WeakMap<IConstruct, Map<string, string>>();

/**
 * The TBO gateway on Kubernetes, as the guide lays it out and hardened: its own namespace, a
 * ConfigMap with `config.yaml`, a Deployment under the restricted Pod Security Standard, a ClusterIP
 * Service, an optional TLS Ingress and/or Gateway API HTTPRoute, NetworkPolicies that still allow
 * DNS, ResourceQuota and LimitRange, HorizontalPodAutoscaler, PodDisruptionBudget and an in-cluster
 * Redis. Every object name starts with `name` (unique per construct path by default), so instances
 * never collide; in an existing namespace nothing namespace-wide is created unless asked for.
 * Streams up to `maxStreamDuration` survive rollouts, scale-in and node drains. Credentials stay in a
 * Secret referenced by name unless values are given. The admin port (9464: `/metrics`,
 * `/health/details`) is reachable from the monitoring namespace only and never through the Service,
 * Ingress or HTTPRoute; each instance writes Redis keys under its own prefix.
 *
 * The in-cluster Redis is backed up by a CronJob (`redis.backup`: hourly RDB files with checksums,
 * the newest 24 kept, on a claim created here or an existing one) and restored from one into an
 * empty volume by an init container (`redis.backup.restoreFrom`). `tracing` sends OpenTelemetry
 * traces to an existing collector; the NetworkPolicy lets the pods reach it, the Pushgateway of
 * `config.prometheusGateway` and Sentry. The guide's `dr-runbook` ConfigMap (`drRunbook`) holds the
 * recovery and rollback steps with this instance's names.
 *
 * The image is `image`, or, with `registry`, the bundled service built by Terraform's docker
 * provider during `cdktf deploy` (a Docker daemon then, never at synth), pushed to
 * `<address>/<repository>` and run by digest; it is rebuilt and pushed only when the service's build
 * context changed. `platform: 'linux/arm64'` builds for arm64 and pins the pods to arm64 nodes.
 */
export class TboKubernetesService extends Construct {
  /** Start of every object name (`<name>-service`, `<name>-config`, …): the prop, or derived from the construct path. */
  readonly name: string;
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
  /** The Gateway API HTTPRoute (a `kubernetes_manifest`), when configured. */
  readonly httpRoute: Manifest | undefined;
  /** Namespace-wide default deny: in a namespace created here (or when asked for), when NetworkPolicies are on. */
  readonly defaultDenyPolicy: NetworkPolicyV1 | undefined;
  /** What the gateway pods may send and receive, when NetworkPolicies are on. */
  readonly gatewayPolicy: NetworkPolicyV1 | undefined;
  /** The namespace's ResourceQuota: in a namespace created here, or when asked for. */
  readonly resourceQuota: ResourceQuotaV1 | undefined;
  /** The namespace's LimitRange: in a namespace created here, or when asked for. */
  readonly limitRange: LimitRangeV1 | undefined;
  /** The HorizontalPodAutoscaler (autoscaling/v2). */
  readonly autoscaler: HorizontalPodAutoscalerV2 | undefined;
  /** The PodDisruptionBudget. */
  readonly disruptionBudget: PodDisruptionBudgetV1 | undefined;
  /** The in-cluster Redis (StatefulSet, Service, NetworkPolicy), when used. */
  readonly redis: TboKubernetesRedis | undefined;
  /** The in-cluster Redis's scheduled backups (CronJob, claim, NetworkPolicy): `redis.backup`, unless false. */
  readonly redisBackup: TboKubernetesRedisBackup | undefined;
  /**
   * The command that creates the referenced Secret with every key the pods read, each value from the shell
   * variable named like its environment variable (`--from-literal=jwt-secret="$JWT_SECRET_KEY"`).
   * @default - undefined when the Secret is created from `secrets.values`
   */
  readonly secretCreateCommand: string | undefined;
  /** The guide's `dr-runbook` ConfigMap (`<name>-dr-runbook`): recovery and rollback with this deployment's names. @default - undefined with `drRunbook: false` */
  readonly drRunbook: TboKubernetesDrRunbook | undefined;
  /** The service configuration deployed, with every default filled in. */
  readonly serviceConfig: ServiceConfig;
  /** URL of the gateway inside the cluster (what SDKs in other pods use as base URL). */
  readonly internalUrl: string;
  /** Prefix of every Redis key this deployment writes (`TBO_REDIS_KEY_PREFIX`): the prop, or derived from this construct's address. */
  readonly redisKeyPrefix: string;
  /** Every prop resolved (names, labels, defaults); for extensions and tests. */
  readonly plan: TboKubernetesPlan;
  /** The bundled service's build and push. @default - undefined with `image` */
  readonly serviceImage: TboServiceImage | undefined;
  /** The docker provider this construct added for the push (aliased). @default - undefined with `image` or `dockerProvider` */
  readonly dockerProvider: DockerProvider | undefined;
  /** The image the pods run: `image`, or the built image by digest (`<address>/<repository>@sha256:…`). */
  readonly imageUri: string;

  constructor(scope: Construct, id: string, props: TboKubernetesServiceProps) {
    super(scope, id);
    const construct = `TboKubernetesService ${this.node.path}`;
    const userConfig = resolveServiceConfig(props.config, 'config');
    validateProps(props, userConfig, construct);
    // The bundled service, built and pushed at deploy, when a registry is given instead of an image.
    const built = props.registry ? createServiceImage(this, { ...props, registry: props.registry }) : undefined;
    this.serviceImage = built?.serviceImage;
    this.dockerProvider = built?.dockerProvider;
    // Name and prefix derive from the construct's path: unique per instance in the app, the same on every synth.
    const derived = { name: defaultInstanceName(this.node.path, id), redisKeyPrefix: redisKeyPrefixFor(this.node.addr), image: this.serviceImage?.imageUri };
    this.serviceConfig = resolveServiceConfig(deployedServiceConfig(props, userConfig, props.name ?? derived.name), 'config');
    const plan = resolvePlan(props, this.serviceConfig, derived);
    this.plan = plan;
    this.imageUri = plan.image;
    this.name = plan.name;
    this.redisKeyPrefix = plan.redisKeyPrefix;
    this.claimNames(construct);
    this.warnAboutWeakenedDefaults(props);
    this.warnAboutCloudCredentials(props);

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
    this.secretCreateCommand = secretCreateCommand(plan);
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
    this.redisBackup = this.redis?.backup;

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
    if (this.redisBackup && guards.length) this.redisBackup.cronJob.dependsOn = guards.map((g) => g.fqn);

    this.service = createService(this, plan, ns);
    this.ingress = createIngress(this, plan, ns, this.service.metadata.name);
    this.httpRoute = createHttpRoute(this, plan, ns, this.service.metadata.name);
    this.autoscaler = createAutoscaler(this, plan, ns, this.deployment.metadata.name);
    this.disruptionBudget = createDisruptionBudget(this, plan, ns);
    this.internalUrl = `http://${plan.names.service}.${plan.namespaceName}.svc:${SERVICE_EXPOSED_PORT}`;
    this.drRunbook = props.drRunbook === false ? undefined : this.createDrRunbook(ns);
  }

  /**
   * The `dr-runbook` ConfigMap, its commands filled in with this instance's names. The namespace is the
   * namespace resource's token, like every object's here (Terraform fills it into the text at apply).
   */
  private createDrRunbook(namespace: string): TboKubernetesDrRunbook {
    const plan = this.plan;
    const redis = plan.redis.mode === 'in-cluster' ? plan.redis : undefined;
    return new TboKubernetesDrRunbook(this, 'DrRunbook', {
      namespace,
      instanceName: plan.name,
      labels: plan.labels,
      deploymentName: plan.names.service,
      secretName: plan.secret.name,
      secretCreateCommand: this.secretCreateCommand,
      redisStatefulSetName: redis?.name,
      // The StatefulSet's claim template `data`, for its one pod.
      redisDataClaimName: redis && `data-${redis.name}-0`,
      backupCronJobName: redis?.backup?.name,
      backupClaimName: redis?.backup?.claim.name,
      internalUrl: this.internalUrl,
    });
  }

  /**
   * Refuses a second instance in the same stack that would create the same namespace, or objects of
   * the same names in the same namespace (Terraform would fight over them, or the apply would fail).
   */
  private claimNames(construct: string): void {
    const stack = TerraformStack.of(this);
    const claims = CLAIMS.get(stack) ?? new Map<string, string>();
    CLAIMS.set(stack, claims);
    const { name, namespaceName: ns, secret, createNamespace } = this.plan;
    type Claim = [key: string, prop: string, value: string, why: (other: string) => string];
    const namespace: Claim = [`namespace ${ns}`, 'namespace', ns, (o) => `${o} already creates namespace "${ns}": give each instance its own namespace, or set createNamespace: false on all but one`];
    const objects: Claim = [`objects ${ns}/${name}`, 'name', name, (o) => `${o} already uses this name in namespace "${ns}" (${name}-service, ${name}-config, …): give each instance its own name`];
    const createdSecret: Claim = [`secret ${ns}/${secret.name}`, 'secrets.secretName', secret.name, (o) => `${o} already creates Secret "${secret.name}" in namespace "${ns}": give each instance its own secrets.secretName`];
    const mine = [...(createNamespace ? [namespace] : []), objects, ...(secret.create ? [createdSecret] : [])];
    const v = new PropValidator();
    for (const [key, prop, value, why] of mine) {
      const other = claims.get(key);
      v.check(other === undefined, prop, value, why(`TboKubernetesService ${other}`));
    }
    v.throwIfInvalid(construct);
    for (const [key] of mine) claims.set(key, this.node.path);
  }

  /**
   * Says at synth when routes to Bedrock or Vertex AI have no credentials the NetworkPolicy lets the
   * pods fetch (the node's metadata service stays blocked), or when `bedrock` / `vertex` apply to no route.
   */
  private warnAboutCloudCredentials(props: TboKubernetesServiceProps): void {
    const warn = (message: string) => Annotations.of(this).addWarning(`TboKubernetesService: ${message}`);
    const used = routedBackends(props.config ?? {});
    const vertex = routesToVertex(props.config ?? {});
    const wi = this.plan.workloadIdentity;
    if (this.plan.networkPolicy) {
      if (used.has('bedrock') && !hasAwsIdentity(wi)) {
        warn("bedrock: routes need AWS credentials, and the NetworkPolicy blocks the node's instance metadata: set workloadIdentity.awsRoleArn (IRSA) or workloadIdentity.eksPodIdentity");
      }
      if (vertex && !wi.gkeWorkloadIdentity) {
        warn('vertex: routes need Google credentials from the GKE metadata server, which the NetworkPolicy blocks: set workloadIdentity.gcpServiceAccount (or gkeWorkloadIdentity: true)');
      }
    }
    if (props.bedrock !== undefined && !used.has('bedrock')) warn('bedrock: no route uses bedrock: (config.modelsFast, modelsBalanced, modelsStrongest), so it sets nothing; remove it or route models to bedrock');
    if (props.vertex !== undefined && !vertex) warn('vertex: no route uses vertex: or vertex-openai: (config.modelsFast, modelsBalanced, modelsStrongest), so it sets nothing; remove it or route models to vertex');
  }

  /** Says at synth when the backup claim created here cannot hold `keep` + 1 backups as large as Redis's maxmemory. */
  private warnAboutBackupStorage(): void {
    const redis = this.plan.redis;
    const backup = redis.mode === 'in-cluster' ? redis.backup : undefined;
    if (redis.mode !== 'in-cluster' || !backup?.claim.create) return;
    const size = parseQuantity(backup.claim.storage);
    const maxMemory = redisMaxMemoryOf(redis.resources);
    if (size === undefined || !Number.isFinite(maxMemory) || size >= (backup.keep + 1) * maxMemory) return;
    Annotations.of(this).addWarning(
      `TboKubernetesService: redis.backup.storage: ${backup.claim.storage} holds fewer than keep + 1 (${backup.keep + 1}) backups of Redis's maxmemory (${formatBytes(maxMemory)}); ` +
        `RDB files are usually smaller, but once the claim is full every backup fails: raise storage to ${defaultBackupStorage(backup.keep, redis.resources)} or lower keep`,
    );
  }

  /** Says at synth when a prop trades away a secure default. */
  private warnAboutWeakenedDefaults(props: TboKubernetesServiceProps): void {
    const warn = (message: string) => Annotations.of(this).addWarning(`TboKubernetesService: ${message}`);
    if (props.secrets?.values) warn('secrets.values: the Secret is created from values, so Terraform state holds the credentials; reference an existing Secret to keep them out');
    if (props.networkPolicy === false) warn('networkPolicy: false leaves the gateway (its admin port included) and Redis open to every pod in the cluster');
    else if (props.networkPolicy?.defaultDeny === false) warn('networkPolicy.defaultDeny: false lets other pods in the namespace talk to anything');
    if (props.redis && props.redis.backup === false && props.existingRedisUrl === undefined) {
      warn('redis.backup: false leaves the in-cluster Redis without backups: a lost volume empties the cache, sessions and rate limits');
    }
    this.warnAboutBackupStorage();
    if (props.createNamespace === false) warn(`createNamespace: false: label namespace "${this.plan.namespaceName}" pod-security.kubernetes.io/enforce=restricted yourself`);
    const np = this.plan.networkPolicy;
    const open = np?.ingressSources.filter((p) => p.ipBlock && /^(0\.0\.0\.0|::)\/0$/.test(p.ipBlock.cidr) && !p.ipBlock.except?.length);
    if (open?.length) warn(`networkPolicy.ingressSources: ${open[0].ipBlock!.cidr} admits every address to the public port; name the load balancer's subnets instead`);
    const sourcesGiven = props.networkPolicy && (props.networkPolicy.ingressSources || props.networkPolicy.ingressControllerNamespaceLabels);
    if (props.httpRoute && np && !sourcesGiven) {
      warn('httpRoute: the NetworkPolicy admits the public port only from ingress-nginx; add your Gateway\'s data plane with networkPolicy.ingressSources (TBO_INGRESS_SOURCES.gatewayDataPlane(namespace), GKE_LOAD_BALANCER, …)');
    }
    if (props.ingress && (props.ingress.profile ?? 'nginx') === 'nginx') {
      Annotations.of(this).addInfo('TboKubernetesService: the nginx ingress profile targets ingress-nginx, which is retired; use profile "custom" for your controller');
    }
  }
}
