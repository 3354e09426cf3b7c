import type { SecretSettingName, TboServiceConfig } from '../core';

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
  /** Name of the Secret. @default 'api-secrets' */
  readonly secretName?: string;
  /** Key of each credential in the Secret. @default anthropic-key, openai-key, api-keys, jwt-secret, redis-password, admin-keys, cache-signing-key */
  readonly keys?: Partial<Record<TboSecretSetting, string>>;
  /** Credentials without which pods do not start (the others, admin keys and the cache signing key included, are optional keys). @default anthropicApiKey and jwtSecretKey, plus redisPassword with the in-cluster Redis; with `values`: every credential given */
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
  /** Secret with the TLS certificate and key for `host`. @default 'tbo-tls' */
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

/** NetworkPolicies: default deny, then only what the gateway needs. */
export interface TboKubernetesNetworkPolicyProps {
  /** Deny all traffic to and from every pod of the namespace unless a policy allows it. @default true */
  readonly defaultDeny?: boolean;
  /** Labels of the ingress controller's namespace, allowed to reach the gateway. @default { 'kubernetes.io/metadata.name': 'ingress-nginx' } */
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
  /** Labels of the namespace cluster DNS runs in. @default { 'kubernetes.io/metadata.name': 'kube-system' } */
  readonly dnsNamespaceLabels?: Readonly<Record<string, string>>;
  /** Labels of the cluster DNS pods. @default { 'k8s-app': 'kube-dns' } */
  readonly dnsPodLabels?: Readonly<Record<string, string>>;
}

/** The HorizontalPodAutoscaler (autoscaling/v2) on CPU. */
export interface TboKubernetesAutoscalingProps {
  /** Fewest pods. @default 2 */
  readonly minReplicas?: number;
  /** Most pods. @default 20 */
  readonly maxReplicas?: number;
  /** Average CPU utilization to keep, in percent of the CPU request. @default 70 */
  readonly targetCpuUtilization?: number;
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

/** Props of {@link TboKubernetesService}. */
export interface TboKubernetesServiceProps {
  /** Container image of the gateway (build it from the bundled `service/`). */
  readonly image: string;
  /** Image pull policy. @default 'IfNotPresent' */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Secrets for pulling the image from a private registry. @default - none */
  readonly imagePullSecrets?: readonly string[];
  /** Prefix of every resource name. @default 'tbo' (tbo-service, tbo-config, tbo-redis, …) */
  readonly name?: string;
  /** Namespace. @default 'tbo-system' */
  readonly namespace?: string;
  /** Create the namespace (labelled for the restricted Pod Security Standard) or use an existing one. @default true */
  readonly createNamespace?: boolean;
  /** Pods of the Deployment (the autoscaler's starting point when autoscaling). @default 5 */
  readonly replicas?: number;
  /** Gateway container requests and limits. @default requests 250m / 512Mi, limits 500m / 1Gi */
  readonly resources?: TboContainerResources;
  /** Service settings, rendered into `config.yaml` and the environment by the shared contract. @default - the contract's defaults */
  readonly config?: TboServiceConfig;
  /** Credentials. @default - reference Secret 'api-secrets' */
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
  /** NetworkPolicies, or false for none (not recommended). @default - default deny plus the gateway's and Redis's allowances */
  readonly networkPolicy?: TboKubernetesNetworkPolicyProps | false;
  /** HorizontalPodAutoscaler, or false for a fixed replica count. @default - 2 to 20 pods at 70 % CPU */
  readonly autoscaling?: TboKubernetesAutoscalingProps | false;
  /** PodDisruptionBudget, or false for none. @default - at most 1 pod unavailable */
  readonly disruptionBudget?: TboKubernetesDisruptionBudgetProps | false;
  /** ResourceQuota hard limits, merged over the defaults, or false for none. @default requests 10 CPU / 20Gi, limits 20 CPU / 40Gi, 50 pods, 10 PVCs */
  readonly resourceQuota?: Readonly<Record<string, string>> | false;
  /** LimitRange, or false for none. @default - defaults from the TBO container, max 2 CPU / 4Gi */
  readonly limitRange?: TboKubernetesLimitRangeProps | false;
  /** Seconds a terminating pod waits before SIGTERM, so endpoints and ingress stop routing to it first (needs `sleep` in the image); 0 disables. @default 5 */
  readonly preStopSleepSeconds?: number;
  /** Non-root uid (and gid) the gateway runs as. @default 1000 (the image's `node` user) */
  readonly runAsUser?: number;
}
