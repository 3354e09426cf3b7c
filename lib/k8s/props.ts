import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import type { TboImagePlatform } from '../cdktf-image';
import type { SecretSettingName, TboServiceConfig, TboTracingOptions, TboVertexLocation } from '../core';

/** A credential the service reads from its Secret (the contract's secret settings). */
export type TboSecretSetting = SecretSettingName;

/** CPU and memory as Kubernetes quantities (`250m`, `0.5`, `512Mi`, `1Gi`). */
export interface TboResourceQuantities {
  /** CPU. @default - the enclosing prop's default */
  readonly cpu?: string;
  /** Memory. @default - the enclosing prop's default */
  readonly memory?: string;
}

/** Requests and limits of one container; unset values keep their defaults. */
export interface TboContainerResources {
  /** What the scheduler reserves. @default - the enclosing prop's default */
  readonly requests?: TboResourceQuantities;
  /** What the container may use at most. @default - the enclosing prop's default */
  readonly limits?: TboResourceQuantities;
}

/**
 * The Secret holding the service's credentials, referenced by default so no key enters Terraform state.
 *
 * The cache signing key (`cacheSigningKey`, env `TBO_CACHE_SIGNING_KEY`: the HMAC key that
 * authenticates cache entries in Redis) is optional everywhere: without it the service derives one
 * from its other credentials and the Redis key prefix, so rotating any of those empties the shared
 * cache. Give one (32+ characters) to keep the cache across such rotations. The construct never
 * generates one: a value made at synth would change the Secret, and so the key, on every synth.
 */
export interface TboKubernetesSecretsProps {
  /** Name of the Secret. @default `<name>-secrets` */
  readonly secretName?: string;
  /** Key of each credential in the Secret. @default anthropic-key, openai-key, api-keys, jwt-secret, redis-password, admin-keys, cache-signing-key */
  readonly keys?: Partial<Record<TboSecretSetting, string>>;
  /** Credentials without which pods do not start (the others, admin keys and the cache signing key included, are optional keys). @default jwtSecretKey, plus anthropicApiKey when a route uses `anthropic:` (the service's default routes do) and redisPassword with the in-cluster Redis; with `values`: every credential given */
  readonly required?: readonly TboSecretSetting[];
  /**
   * Create the Secret from these values instead of referencing an existing one: Terraform state then
   * holds them. Only the credentials given go into the Secret and the pods; `cacheSigningKey` and
   * `adminKeys` are optional here too (see above).
   * @default - none: reference an existing Secret
   */
  readonly values?: Partial<Record<TboSecretSetting, string>>;
}

/** The in-cluster Redis: official `redis:7-alpine`, one StatefulSet pod with a volume, AOF persistence and AUTH. */
export interface TboKubernetesRedisProps {
  /** Container image. @default 'redis:7-alpine' */
  readonly image?: string;
  /** Size of the data volume. @default '1Gi' */
  readonly storage?: string;
  /** StorageClass of the data volume. @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** Requests and limits; `maxmemory` is set to 75 % of the memory limit. @default requests 100m / 256Mi, limits 500m / 512Mi */
  readonly resources?: TboContainerResources;
  /**
   * Scheduled RDB backups of this Redis (a CronJob writing to a backup volume), or false for none.
   * @default - an hourly backup keeping the newest 24, on a claim the construct creates
   */
  readonly backup?: TboKubernetesRedisBackupProps | false;
}

/**
 * Backups of the in-cluster Redis: a CronJob of the same official Redis image, under the restricted
 * Pod Security Standard, takes a full RDB snapshot with `redis-cli --rdb` (AUTH from the Secret's
 * Redis password, never on a command line), checks it with `redis-check-rdb`, writes it as
 * `tbo-<UTC yyyymmddThhmmssZ>.rdb` with a `.sha256` beside it, and deletes all but the newest `keep`.
 * The scripts are `redisBackupScript()` / `redisRestoreScript()` of lib/core, the ones the loopback
 * drill (`npm run dr-drill`) runs. The job's pods reach Redis and DNS only.
 */
export interface TboKubernetesRedisBackupProps {
  /** When backups run: a cron expression (5 fields, or `@hourly`, `@daily`, …) in the controller's time zone (UTC on managed clusters). @default '0 * * * *' (hourly) */
  readonly schedule?: string;
  /** Backups kept, newest first; older ones (and their checksums) are deleted after each backup. @default 24 */
  readonly keep?: number;
  /**
   * Size of the backup claim the construct creates (`<name>-backup`, ReadWriteOnce). Each RDB is at most about the
   * size of the data in Redis (`maxmemory`, 75 % of its memory limit); a backup is written in full before old ones go.
   * @default - room for keep + 1 backups of maxmemory, rounded up to whole Gi (10Gi with the defaults)
   */
  readonly storage?: string;
  /** StorageClass of the backup claim the construct creates. @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
  /**
   * An existing PersistentVolumeClaim in the namespace to write backups to instead of creating one: e.g. a bucket
   * mounted through a CSI driver (GCS FUSE, Mountpoint for Amazon S3, Azure Blob), or a claim on a StorageClass
   * with `reclaimPolicy: Retain`, so backups outlive the namespace. The pods write as uid 999, gid 1000.
   * @default - a claim `<name>-backup` created here (deleted with the namespace)
   */
  readonly existingClaim?: string;
  /** Requests and limits of the backup container (the restore init container has Redis's: it loads the data set into memory). @default requests 50m / 64Mi, limits 500m / 256Mi */
  readonly resources?: TboContainerResources;
  /** Seconds a backup Job may run before it is stopped and marked failed. @default 900 */
  readonly activeDeadlineSeconds?: number;
  /**
   * Restore this backup into Redis's data volume when it is empty, before Redis starts: a backup file name
   * (`tbo-20261202T030000Z.rdb`) or `latest`. An init container verifies its checksum and the RDB, then loads
   * it; a volume that already holds data is left alone, so a pod restart never rolls Redis back. The Redis
   * pod then mounts the backup claim read-only, and the backup Job runs on Redis's node (a ReadWriteOnce
   * claim attaches to one node). To restore: delete the Redis data claim (`data-<name>-redis-0`) and pod, or
   * deploy to a new namespace, with this set.
   * @default - no restore
   */
  readonly restoreFrom?: string;
}

/** Annotation profiles for the Ingress. */
export const TBO_INGRESS_PROFILES = ['nginx', 'none', 'custom'] as const;
/** `nginx`: annotations ingress-nginx reads; `none`: no annotations; `custom`: only `annotations`. */
export type TboIngressProfile = (typeof TBO_INGRESS_PROFILES)[number];

/** Per-client-IP limits ingress-nginx enforces (it answers 503 above them). */
export interface TboIngressRateLimit {
  /** Requests per second per client IP (`limit-rps`); 0 leaves it out. @default config.rateLimitPerMinute / 60, rounded up (167) */
  readonly requestsPerSecond?: number;
  /** Concurrent connections per client IP (`limit-connections`); each stream holds one. @default 100 */
  readonly connections?: number;
  /** Burst allowed above the rate, as a multiple of it (`limit-burst-multiplier`). @default 5 */
  readonly burstMultiplier?: number;
}

/** The Ingress (networking.k8s.io/v1), TLS only. */
export interface TboKubernetesIngressProps {
  /** Host name clients use. */
  readonly host: string;
  /** Secret with the TLS certificate and key for `host`. @default `<name>-tls` */
  readonly tlsSecretName?: string;
  /** IngressClass. @default 'nginx' with the nginx profile, otherwise the cluster's default class */
  readonly className?: string;
  /** Annotation profile. @default 'nginx' */
  readonly profile?: TboIngressProfile;
  /** Per-client limits (nginx profile only). @default see TboIngressRateLimit */
  readonly rateLimit?: TboIngressRateLimit;
  /** Annotations added over the profile's (the whole set with `custom`). @default - none */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An address block (NetworkPolicy `ipBlock`): IPv4 or IPv6 CIDR, minus the `except` blocks inside it. */
export interface TboIpBlock {
  /** The block, e.g. `10.0.0.0/16` or `35.191.0.0/16`. */
  readonly cidr: string;
  /** Blocks inside `cidr` to leave out. @default - none */
  readonly except?: readonly string[];
}

/**
 * One source or destination of NetworkPolicy traffic: pods chosen by labels, or an address block.
 * `podLabels` alone means pods of the gateway's namespace; `namespaceLabels` alone every pod of the
 * matching namespaces; both, the matching pods of the matching namespaces. Give selectors or
 * `ipBlock`, not both; selectors name at least one label (an empty selector matches everything).
 * Presets: {@link TBO_INGRESS_SOURCES}, {@link TBO_DNS_DESTINATIONS}.
 */
export interface TboNetworkPeer {
  /** Labels of the namespaces. @default - the gateway's own namespace (with podLabels) */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** Labels of the pods. @default - every pod of the matching namespaces (with namespaceLabels) */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** An address block instead of selectors. @default - none */
  readonly ipBlock?: TboIpBlock;
}

/**
 * NetworkPolicies. The gateway's and Redis's own policies always select only this instance's pods;
 * the namespace-wide default deny (`podSelector: {}`) is created only in a namespace the construct
 * creates, unless asked for.
 */
export interface TboKubernetesNetworkPolicyProps {
  /**
   * Also deny all traffic to and from every other pod of the namespace unless a policy allows it
   * (a NetworkPolicy with `podSelector: {}`). The gateway and Redis pods are isolated by their own
   * policies either way.
   * @default - true in a namespace created here; false in an existing one (createNamespace: false), where it would cut off other workloads
   */
  readonly defaultDeny?: boolean;
  /**
   * Who may reach the public port (8000): the load balancer or ingress data plane in front of the
   * gateway. Presets in {@link TBO_INGRESS_SOURCES}: ingress-nginx, the AWS Load Balancer Controller
   * in IP mode, GKE's load balancers (NEGs), a Gateway API data plane. At least one source, here or in
   * `clientNamespaceLabels`.
   * @default TBO_INGRESS_SOURCES.INGRESS_NGINX (namespace ingress-nginx), or the namespace of ingressControllerNamespaceLabels
   */
  readonly ingressSources?: readonly TboNetworkPeer[];
  /** Labels of the ingress controller's namespace; shorthand for `ingressSources: [{ namespaceLabels }]` (give one of the two). @default { 'kubernetes.io/metadata.name': 'ingress-nginx' } */
  readonly ingressControllerNamespaceLabels?: Readonly<Record<string, string>>;
  /**
   * Labels of the monitoring namespace: the only namespace whose pods may reach the admin port (9464:
   * `/metrics`, `/health/details`). Nothing else may reach it; the public port never serves those paths.
   * @default { 'kubernetes.io/metadata.name': 'monitoring' }
   */
  readonly monitoringNamespaceLabels?: Readonly<Record<string, string>>;
  /** Labels of the monitoring pods (e.g. Prometheus) within that namespace, to narrow the admin port further. @default - every pod of the monitoring namespace */
  readonly monitoringPodLabels?: Readonly<Record<string, string>>;
  /** Labels of further namespaces whose pods call the gateway directly. @default - none */
  readonly clientNamespaceLabels?: readonly Readonly<Record<string, string>>[];
  /**
   * Where the gateway's DNS queries go (53 UDP and TCP). Presets in {@link TBO_DNS_DESTINATIONS}:
   * the kube-dns pods, NodeLocal DNSCache (169.254.20.10), Cloud DNS for GKE.
   * @default TBO_DNS_DESTINATIONS.KUBE_DNS (pods k8s-app=kube-dns in kube-system), or dnsNamespaceLabels / dnsPodLabels
   */
  readonly dnsDestinations?: readonly TboNetworkPeer[];
  /** Labels of the namespace cluster DNS runs in (with dnsPodLabels, shorthand for one dnsDestinations entry). @default { 'kubernetes.io/metadata.name': 'kube-system' } */
  readonly dnsNamespaceLabels?: Readonly<Record<string, string>>;
  /** Labels of the cluster DNS pods. @default { 'k8s-app': 'kube-dns' } */
  readonly dnsPodLabels?: Readonly<Record<string, string>>;
  /**
   * Where the Pushgateway of `config.prometheusGateway` (`PROMETHEUS_GATEWAY`) runs, for the gateway's egress.
   * @default - with config.prometheusGateway: derived from its URL (see TboEgressDestination)
   */
  readonly pushgateway?: TboEgressDestination;
  /**
   * Where the Sentry of `SENTRY_DSN` (Secret key `sentry-dsn`) receives events, for the gateway's egress. The DSN
   * is a secret, so the construct cannot read it: set this for a self-hosted Sentry on another port or address.
   * @default - with secrets.values.sentryDsn: derived from it (see TboEgressDestination); otherwise port 443 to any address, as for the model APIs
   */
  readonly sentry?: TboEgressDestination;
}

/**
 * Where the gateway's traffic to an endpoint goes (an OTLP collector, a Pushgateway, Sentry), for its
 * NetworkPolicy egress. NetworkPolicies see pod ports after a Service's port mapping, so `port` is the
 * port the receiving pods listen on.
 */
export interface TboEgressDestination {
  /**
   * The pods or addresses the traffic reaches.
   * @default - for a cluster Service URL (`<service>.<namespace>.svc` or `….svc.cluster.local`), every pod of that namespace; otherwise any address
   */
  readonly peer?: TboNetworkPeer;
  /** Port the receiving pods listen on. @default - the URL's port (80 / 443 by scheme when it has none) */
  readonly port?: number;
}

/**
 * OpenTelemetry traces on Kubernetes: the gateway exports OTLP/HTTP to an existing collector (e.g. the
 * OpenTelemetry Collector or a Datadog Agent in the cluster), configured only by the standard `OTEL_*`
 * variables; its NetworkPolicy lets it reach the collector.
 */
export interface TboKubernetesTracingProps extends TboTracingOptions {
  /**
   * Where the collector of `otlpEndpoint` runs, for the gateway's egress.
   * @default - derived from otlpEndpoint (a cluster Service name: its namespace; otherwise any address), on the URL's port
   */
  readonly collector?: TboEgressDestination;
}

/** A metric from the Prometheus adapter (custom or external metrics API) the autoscaler also scales on. */
export interface TboAutoscalingMetric {
  /**
   * `Pods`: a per-pod series of the gateway's pods (custom.metrics.k8s.io), averaged by the HPA;
   * `External`: a series not tied to the pods (external.metrics.k8s.io), divided by the pod count.
   */
  readonly type: 'Pods' | 'External';
  /** Metric name as the adapter serves it, e.g. `tbo_queue_length`. */
  readonly name: string;
  /** Target value per pod (a number or a Kubernetes quantity such as `500m`). */
  readonly averageValue: number | string;
  /** Labels the series must carry (External: pin it to this instance). @default - none */
  readonly selector?: Readonly<Record<string, string>>;
}

/**
 * The HorizontalPodAutoscaler (autoscaling/v2) on CPU, optionally also on TBO's own signals from the
 * Prometheus adapter (the HPA follows whichever metric asks for the most pods).
 */
export interface TboKubernetesAutoscalingProps {
  /** Fewest pods. @default 2 */
  readonly minReplicas?: number;
  /** Most pods. @default 20 */
  readonly maxReplicas?: number;
  /** Average CPU utilization to keep, in percent of the CPU request. @default 70 */
  readonly targetCpuUtilization?: number;
  /**
   * Further metrics from the Prometheus adapter, e.g. `TBO_AUTOSCALING_METRICS.queueLength()`
   * (`tbo_queue_length` averaged per pod, target 50: the guide's "queue > 50"). The adapter must
   * serve them (README: Kubernetes, autoscaling on TBO's signals).
   * @default - none: CPU only
   */
  readonly metrics?: readonly TboAutoscalingMetric[];
}

/** The Gateway (listener) an HTTPRoute attaches to: Gateway API `parentRefs`. */
export interface TboGatewayParentRef {
  /** Name of the Gateway. */
  readonly name: string;
  /** Namespace of the Gateway; its listener's `allowedRoutes` must admit the gateway's namespace. @default - the gateway's own namespace */
  readonly namespace?: string;
  /**
   * The Gateway's HTTPS listener (`spec.listeners[].name`). Required: without it the route would
   * attach to every listener of the Gateway, plain-HTTP ones included.
   */
  readonly sectionName: string;
  /** Listener port, to narrow further. @default - any port of that listener */
  readonly port?: number;
}

/**
 * An HTTPRoute (gateway.networking.k8s.io/v1) attached to an existing Gateway: the alternative to
 * Ingress now that ingress-nginx is retired. Created with the provider's `kubernetes_manifest`, so the
 * Gateway API CRDs must be installed before `cdktf deploy` plans it. TLS terminates at the Gateway's
 * HTTPS listener named in each parentRef.
 */
export interface TboKubernetesHttpRouteProps {
  /** The Gateway listeners to attach to (at least one). */
  readonly parentRefs: readonly TboGatewayParentRef[];
  /** Host names the route answers. @default - every host of the listener */
  readonly hostnames?: readonly string[];
  /** `timeouts.request` in seconds: at least maxStreamDuration, so the Gateway never cuts a stream the pods keep alive. @default - the longer of config.upstreamTimeout and maxStreamDuration, + 30 (630) */
  readonly requestTimeoutSeconds?: number;
  /** Annotations on the HTTPRoute. @default - none */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The PodDisruptionBudget; give one of the two. */
export interface TboKubernetesDisruptionBudgetProps {
  /** Pods a voluntary disruption may take at once (a count or a percentage). @default 1 */
  readonly maxUnavailable?: number | string;
  /** Pods that must stay available instead (a count or a percentage). @default - unset: maxUnavailable applies */
  readonly minAvailable?: number | string;
}

/** The LimitRange for containers in the namespace. */
export interface TboKubernetesLimitRangeProps {
  /** Limits given to containers that set none. @default - the TBO container's limits */
  readonly default?: TboResourceQuantities;
  /** Requests given to containers that set none. @default - the TBO container's requests */
  readonly defaultRequest?: TboResourceQuantities;
  /** Largest limits a container may have. @default 2 CPU / 4Gi */
  readonly max?: TboResourceQuantities;
}

/**
 * The cloud identity the gateway's pods call Bedrock or Vertex AI with, instead of API keys: typed
 * annotations on its ServiceAccount and, when NetworkPolicies are on, egress to exactly the address
 * and port each mechanism needs. The cloud side (the role or service account, its trust and its model
 * access) is made outside the cluster: see the README, "Workload identity".
 */
export interface TboWorkloadIdentityProps {
  /**
   * EKS IAM roles for service accounts (IRSA): the role the pods assume, as the ServiceAccount
   * annotation `eks.amazonaws.com/role-arn` (`arn:aws:iam::<account>:role/<name>`). EKS's pod identity
   * webhook then mounts a projected token (`aws-iam-token`) and sets `AWS_ROLE_ARN` and
   * `AWS_WEB_IDENTITY_TOKEN_FILE`; the SDK exchanges the token at STS (HTTPS, already allowed). The
   * role's trust policy must name this namespace and ServiceAccount. Give this or `eksPodIdentity`.
   * @default - no IRSA annotation
   */
  readonly awsRoleArn?: string;
  /**
   * EKS Pod Identity: the role is associated with this namespace and ServiceAccount in EKS
   * (`aws eks create-pod-identity-association`); nothing goes on the ServiceAccount. EKS injects
   * `AWS_CONTAINER_CREDENTIALS_FULL_URI`, and the pods fetch credentials from the node's Pod Identity
   * Agent, 169.254.170.23 (IPv4) and fd00:ec2::23 (IPv6) on port 80, which the NetworkPolicy then allows.
   * @default false
   */
  readonly eksPodIdentity?: boolean;
  /**
   * GKE Workload Identity through a Google service account (`NAME@PROJECT.iam.gserviceaccount.com`),
   * as the ServiceAccount annotation `iam.gke.io/gcp-service-account`; the Google service account must
   * grant this Kubernetes ServiceAccount `roles/iam.workloadIdentityUser`. Implies `gkeWorkloadIdentity`.
   * @default - no annotation
   */
  readonly gcpServiceAccount?: string;
  /**
   * GKE Workload Identity Federation: the pods get tokens from the GKE metadata server, so the
   * NetworkPolicy allows 169.254.169.254 on port 80 and 169.254.169.252 on port 988. Alone (without
   * `gcpServiceAccount`) the pods act as their own principal
   * (`principal://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/PROJECT.svc.id.goog/subject/ns/NAMESPACE/sa/NAME`),
   * to which the Vertex AI role is granted directly.
   * @default - true with `gcpServiceAccount`, else false
   */
  readonly gkeWorkloadIdentity?: boolean;
}

/** Amazon Bedrock for the `bedrock:` routes. */
export interface TboKubernetesBedrockProps {
  /**
   * AWS Region of Bedrock Runtime (`TBO_BEDROCK_REGION`), the source Region of the inference
   * profiles. Required when a route uses `bedrock:` (unless `config.bedrockRegion` gives it): EKS Pod
   * Identity sets no `AWS_REGION`, and the service refuses to start without a Region.
   * @default - config.bedrockRegion
   */
  readonly region?: string;
}

/**
 * The registry the construct pushes the image it builds to (`registry` of
 * {@link TboKubernetesService}), and how Terraform's docker provider logs in to it. No credential
 * is ever written into the synthesized configuration: by default the provider reads
 * `DOCKER_REGISTRY_USER` / `DOCKER_REGISTRY_PASS` at deploy, else the Docker config file that
 * `docker login` (or a credential helper such as `docker-credential-ecr-login` or `gcloud auth
 * configure-docker`) maintains. The cluster pulls with its own credentials: node identity (GKE → Artifact
 * Registry, EKS → ECR) or `imagePullSecrets`.
 */
export interface TboKubernetesImageRegistry {
  /**
   * Registry host, with its port when not 443: `ghcr.io`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
   * `europe-west1-docker.pkg.dev`, `registry.example.com:5000`. No scheme, no path.
   */
  readonly address: string;
  /**
   * Repository path in the registry, without host, tag or digest (lowercase path components separated
   * by `/`): `acme/tbo-service`, `my-project/tbo/tbo-service` (Artifact Registry: project, repository, image).
   * @default 'tbo-service'
   */
  readonly repository?: string;
  /**
   * User the docker provider pushes as.
   * @default - `DOCKER_REGISTRY_USER` at deploy time; when that is unset too, the Docker config file (`configFile`)
   */
  readonly username?: string;
  /**
   * Password or token for `username`, as a Terraform reference only, never a literal (it would be
   * written into `cdktf.out`): e.g. a sensitive `TerraformVariable`'s value, set at deploy with
   * `TF_VAR_<name>`, or a data source's token (`data.aws_ecr_authorization_token`).
   * @default - `DOCKER_REGISTRY_PASS` at deploy time
   */
  readonly password?: string;
  /**
   * Docker config file holding the registry's credentials or naming its credential helper, read at
   * deploy (used when no username is set).
   * @default - `DOCKER_CONFIG`, else `~/.docker/config.json`
   */
  readonly configFile?: string;
  /** The registry takes pushes without credentials (a local or in-cluster registry). @default false */
  readonly authDisabled?: boolean;
}

/** The Kubernetes taint effects a toleration can name. */
export const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
/** How a toleration matches a taint's value. */
export const TOLERATION_OPERATORS = ['Equal', 'Exists'] as const;

/** A toleration of the gateway pods (Kubernetes `tolerations`), e.g. for a tainted arm64 node pool. */
export interface TboToleration {
  /** Taint key. @default - every key (only with operator 'Exists') */
  readonly key?: string;
  /** 'Equal' matches `value`; 'Exists' any value. @default 'Equal' */
  readonly operator?: (typeof TOLERATION_OPERATORS)[number];
  /** Taint value, with operator 'Equal'. @default '' */
  readonly value?: string;
  /** Taint effect matched. @default - every effect */
  readonly effect?: (typeof TOLERATION_EFFECTS)[number];
  /** With effect 'NoExecute': seconds the pod stays bound after the taint appears. @default - forever */
  readonly tolerationSeconds?: number;
}

/** Props of {@link TboKubernetesService}. */
export interface TboKubernetesServiceProps {
  /**
   * Container image of the gateway, by tag or digest: an image you build and push (or load into a
   * local cluster: `kind load docker-image`, `minikube image load`) yourself. Give this or `registry`.
   * @default - none: with `registry`, the bundled service built and pushed there at deploy
   */
  readonly image?: string;
  /**
   * Build the bundled service (`serviceDirectory()`) with Terraform's docker provider at deploy, push
   * it here, and run it by digest (`<address>/<repository>@sha256:…`). Give this or `image`. Needs a
   * Docker daemon at deploy (never at synth) and `@cdktf/provider-docker`.
   * @default - none: `image` is required
   */
  readonly registry?: TboKubernetesImageRegistry;
  /**
   * A docker provider of yours to build and push with (with `registry`), e.g. one with a remote `host`;
   * its `registry_auth` must cover `registry.address`, whose credential props must then be unset.
   * @default - a docker provider the construct adds (aliased `tbo_<12 hex>`), logging in as `registry` says
   */
  readonly dockerProvider?: DockerProvider;
  /**
   * CPU platform of the gateway pods: the built image is built for it, and the pods get the node
   * selector `kubernetes.io/arch: <amd64|arm64>`, so they land only on nodes that can run the image
   * (arm64 pools, e.g. Graviton or Tau T2A, cost less per vCPU). With `image`, name the platform
   * your image was built for (a multi-arch image needs none). A tainted arm64 pool also needs
   * `tolerations` (`ARM64_TOLERATION`).
   * @default - built for 'linux/amd64'; no node selector
   */
  readonly platform?: TboImagePlatform;
  /** Tolerations of the gateway pods, e.g. `[ARM64_TOLERATION]` for an arm64 pool tainted `kubernetes.io/arch=arm64:NoSchedule`. @default - none */
  readonly tolerations?: readonly TboToleration[];
  /** Image pull policy. @default 'IfNotPresent' */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Secrets for pulling the image from a private registry. @default - none */
  readonly imagePullSecrets?: readonly string[];
  /**
   * Start of every object name (`<name>-service`, `<name>-config`, `<name>-redis`, `<name>-secrets`,
   * …) and of the pods' `app.kubernetes.io/instance` label: a DNS label of at most 40 characters.
   * Two instances in one namespace need different names.
   * @default - unique per construct path and the same on every synth: `tbo-` (or the construct id when it starts with "tbo"), then 8 hex digits of the path's hash, e.g. `tbo-3f9a1c2e`
   */
  readonly name?: string;
  /** Namespace. @default - the instance's `name`: every instance gets its own namespace */
  readonly namespace?: string;
  /**
   * Create the namespace (labelled for the restricted Pod Security Standard) or use an existing one.
   * In an existing namespace nothing namespace-wide is created unless asked for: no default-deny
   * NetworkPolicy, ResourceQuota or LimitRange.
   * @default true
   */
  readonly createNamespace?: boolean;
  /** Pods of the Deployment at creation (with autoscaling, the HPA owns the count afterwards). @default 5 */
  readonly replicas?: number;
  /** Gateway container requests and limits. @default requests 250m / 512Mi, limits 500m / 1Gi */
  readonly resources?: TboContainerResources;
  /**
   * Service settings, rendered into `config.yaml` and the environment by the shared contract. The
   * routing tiers (`modelsFast`, `modelsBalanced`, `modelsStrongest`: `backend:model` lists) decide
   * which credentials the pods need: the Anthropic key for `anthropic:`, a workload identity for
   * `bedrock:`, `vertex:` and `vertex-openai:`.
   * @default - the contract's defaults, with `drainTimeout` = maxStreamDuration and `serviceName` = name
   */
  readonly config?: TboServiceConfig;
  /**
   * The cloud identity of the pods (EKS IRSA or Pod Identity, GKE Workload Identity), for Bedrock and
   * Vertex AI routes without API keys.
   * @default - none: the ServiceAccount has no annotations, and the NetworkPolicy allows no metadata or credential endpoint
   */
  readonly workloadIdentity?: TboWorkloadIdentityProps;
  /** Bedrock for the `bedrock:` routes. @default - config.bedrockRegion (required with bedrock routes) */
  readonly bedrock?: TboKubernetesBedrockProps;
  /**
   * Vertex AI for the `vertex:` and `vertex-openai:` routes: location (`TBO_VERTEX_REGION`) and project
   * (`TBO_VERTEX_PROJECT`).
   * @default - location 'global'; the project of the pods' credentials (on GKE, the cluster's project, from the metadata server)
   */
  readonly vertex?: TboVertexLocation;
  /**
   * Longest stream, in seconds, that survives a rollout, a scale-in or a node drain: the pod's drain
   * (`TBO_DRAIN_TIMEOUT`, config.drainTimeout) is at least this long, `terminationGracePeriodSeconds`
   * is preStop + drain + 5, and the Ingress/HTTPRoute timeouts exceed it. Each terminating pod can
   * take this long to go away, so it also bounds how long a rollout or node drain may take.
   * @default - config.upstreamTimeout rounded up (600): no stream the service allows is cut
   */
  readonly maxStreamDuration?: number;
  /** Credentials. @default - reference Secret `<name>-secrets` */
  readonly secrets?: TboKubernetesSecretsProps;
  /**
   * Prefix of every Redis key this deployment writes (`TBO_REDIS_KEY_PREFIX`), so deployments that
   * share a Redis never read each other's cache, rate limits or sessions. 1-64 of A-Z a-z 0-9 . _ -.
   * Changing it starts the deployment afresh: empty cache, rate limits and sessions. Set it when
   * separate apps with the same stack and construct ids share one Redis.
   * @default - `tbo-` and 12 hex digits derived from this construct's path: unique per instance, stable across synths
   */
  readonly redisKeyPrefix?: string;
  /** In-cluster Redis settings. @default - an in-cluster Redis, unless existingRedisUrl is given */
  readonly redis?: TboKubernetesRedisProps | false;
  /** A Redis the gateway uses instead of the in-cluster one (redis:// or rediss://, no password: that stays in the Secret). @default - none */
  readonly existingRedisUrl?: string;
  /** Ingress, or false for none. @default - no Ingress (the Service is reachable inside the cluster) */
  readonly ingress?: TboKubernetesIngressProps | false;
  /** Gateway API HTTPRoute attached to an existing Gateway, or false for none. @default - no HTTPRoute */
  readonly httpRoute?: TboKubernetesHttpRouteProps | false;
  /** NetworkPolicies, or false for none (not recommended). @default - the gateway's and Redis's own policies, plus a default deny in a namespace created here */
  readonly networkPolicy?: TboKubernetesNetworkPolicyProps | false;
  /** HorizontalPodAutoscaler, or false for a fixed replica count. @default - 2 to 20 pods at 70 % CPU */
  readonly autoscaling?: TboKubernetesAutoscalingProps | false;
  /** PodDisruptionBudget, or false for none. @default - at most 1 pod unavailable */
  readonly disruptionBudget?: TboKubernetesDisruptionBudgetProps | false;
  /**
   * ResourceQuota hard limits, true for the guide's, or false for none. In a namespace created here
   * they are merged over the guide's; in an existing namespace (createNamespace: false) the quota
   * caps every workload there, so only the limits given are set.
   * @default - in a namespace created here: requests 10 CPU / 20Gi, limits 20 CPU / 40Gi, 50 pods, 10 PVCs; in an existing namespace: none
   */
  readonly resourceQuota?: Readonly<Record<string, string>> | boolean;
  /**
   * LimitRange, true for the defaults, or false for none.
   * @default - in a namespace created here: defaults from the TBO container, max 2 CPU / 4Gi; in an existing namespace: none
   */
  readonly limitRange?: TboKubernetesLimitRangeProps | boolean;
  /**
   * Seconds a terminating pod keeps serving before SIGTERM, so endpoints, the ingress and load
   * balancers stop sending it new requests first (the hook runs `node`, which the image has; it has
   * no shell tools); 0 disables.
   * @default 5
   */
  readonly preStopSleepSeconds?: number;
  /** Non-root uid (and gid) the gateway runs as. @default 1000 (the image's `node` user) */
  readonly runAsUser?: number;
  /**
   * OpenTelemetry traces to an existing collector (`tracing.otlpEndpoint` is required here: there is no
   * collector sidecar on Kubernetes); the NetworkPolicy lets the gateway reach it. Prompt and completion
   * text stay off spans unless `config.traceContent`.
   * @default - no tracing
   */
  readonly tracing?: TboKubernetesTracingProps;
  /**
   * The guide's `dr-runbook` ConfigMap, `<name>-dr-runbook`: the recovery and rollback steps of RUNBOOK.md
   * (keys `recovery.md`, `rollback.md`) with this deployment's names in every command. No secret is in it.
   * @default true
   */
  readonly drRunbook?: boolean;
}
