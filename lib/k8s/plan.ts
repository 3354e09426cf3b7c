import { CONFIG_FILE_NAME, SECRET_ENV, routedBackends, routesToVertex, type ServiceConfig, type TboServiceConfig } from '../core';
import * as d from './defaults';
import { TBO_DNS_DESTINATIONS, TBO_INGRESS_SOURCES } from './network-sources';
import { nodeSelectorFor } from './image';
import type { TboAutoscalingMetric, TboGatewayParentRef, TboIngressProfile, TboKubernetesLimitRangeProps, TboKubernetesServiceProps, TboNetworkPeer, TboSecretSetting, TboToleration } from './props';
import { parseQuantity } from './quantity';
import { resolveTelemetry, type TelemetryPlan } from './telemetry';
import { resolveWorkloadIdentity, type WorkloadIdentityPlan } from './workload-identity';

/** Requests and limits with every value filled in. */
export interface ResolvedResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Requests and limits as the provider's container `resources` takes them. */
export function containerResources(resolved: ResolvedResources): { requests: Record<string, string>; limits: Record<string, string> } {
  return { requests: { ...resolved.requests }, limits: { ...resolved.limits } };
}

/** The backup claim: created here (size, class) or an existing one the user names. */
export type RedisBackupClaimPlan =
  | { readonly create: true; readonly name: string; readonly storage: string; readonly storageClassName?: string }
  | { readonly create: false; readonly name: string };

/** Backups of the in-cluster Redis (the CronJob, its claim and policy) and the optional restore. */
export interface RedisBackupPlan {
  /** Name of the CronJob and its NetworkPolicy (and of the claim when created here): `<name>-backup`. */
  readonly name: string;
  readonly schedule: string;
  readonly keep: number;
  readonly claim: RedisBackupClaimPlan;
  readonly resources: ResolvedResources;
  readonly activeDeadlineSeconds: number;
  /** The backup file (or `latest`) the restore init container loads into an empty data volume. */
  readonly restoreFrom?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
}

/** Where the gateway finds Redis. */
export type RedisPlan =
  | {
      readonly mode: 'in-cluster';
      readonly name: string;
      readonly host: string;
      readonly port: number;
      readonly image: string;
      readonly storage: string;
      readonly storageClassName?: string;
      readonly resources: ResolvedResources;
      readonly labels: Readonly<Record<string, string>>;
      readonly selector: Readonly<Record<string, string>>;
      /** Scheduled backups, unless `redis.backup: false`. */
      readonly backup?: RedisBackupPlan;
    }
  | { readonly mode: 'external'; readonly url: string; readonly port: number }
  | { readonly mode: 'none' };

/** One credential injected into a container. */
export interface SecretRef {
  readonly setting: TboSecretSetting;
  readonly env: string;
  readonly key: string;
  readonly optional: boolean;
}

/** Every prop resolved to the value the resources use; built once, read by each kind's file. */
export interface TboKubernetesPlan {
  /** Start of every object name: the prop, or the default derived from the construct path. */
  readonly name: string;
  /** The namespace name as given (for DNS names); resources use the namespace resource's token. */
  readonly namespaceName: string;
  /** The construct creates the namespace, so namespace-wide objects are its own to create. */
  readonly createNamespace: boolean;
  /** The image the pods run: `image`, or the built image by digest (`<registry>/<repository>@sha256:…`). */
  readonly image: string;
  readonly imagePullPolicy: string;
  readonly imagePullSecrets: readonly string[];
  /** The pods' node selector: `kubernetes.io/arch` of `platform`, when one is named. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly TboToleration[];
  readonly replicas: number;
  readonly resources: ResolvedResources;
  readonly userConfig: TboServiceConfig;
  readonly config: ServiceConfig;
  /** `TBO_REDIS_KEY_PREFIX`: the prop, or the one derived from the construct's address. */
  readonly redisKeyPrefix: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly names: {
    readonly service: string;
    readonly configMap: string;
    readonly quota: string;
    readonly limitRange: string;
    readonly defaultDeny: string;
    readonly redis: string;
  };
  /** Key of `config.yaml` in the ConfigMap: the file name the service reads by default. */
  readonly configFileName: string;
  readonly secret: {
    readonly name: string;
    readonly create: boolean;
    readonly values: Readonly<Partial<Record<TboSecretSetting, string>>>;
    readonly refs: readonly SecretRef[];
  };
  readonly redis: RedisPlan;
  readonly ingress?: {
    readonly host: string;
    readonly tlsSecretName: string;
    readonly className?: string;
    readonly profile: TboIngressProfile;
    readonly requestsPerSecond: number;
    readonly connections: number;
    readonly burstMultiplier: number;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly httpRoute?: {
    readonly parentRefs: readonly TboGatewayParentRef[];
    readonly hostnames: readonly string[];
    readonly requestTimeoutSeconds: number;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly networkPolicy?: {
    /** The namespace-wide default deny (`podSelector: {}`). */
    readonly defaultDeny: boolean;
    /** Who may reach the public port (besides clientNamespaceLabels). */
    readonly ingressSources: readonly TboNetworkPeer[];
    readonly monitoringNamespaceLabels: Readonly<Record<string, string>>;
    readonly monitoringPodLabels?: Readonly<Record<string, string>>;
    readonly clientNamespaceLabels: readonly Readonly<Record<string, string>>[];
    /** Where DNS queries may go. */
    readonly dnsDestinations: readonly TboNetworkPeer[];
  };
  readonly autoscaling?: {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly targetCpuUtilization: number;
    readonly metrics: readonly TboAutoscalingMetric[];
  };
  readonly disruptionBudget?: { readonly maxUnavailable?: string; readonly minAvailable?: string };
  readonly resourceQuota?: Readonly<Record<string, string>>;
  readonly limitRange?: {
    readonly default: { readonly cpu: string; readonly memory: string };
    readonly defaultRequest: { readonly cpu: string; readonly memory: string };
    readonly max: { readonly cpu: string; readonly memory: string };
  };
  /** The pods' cloud identity (ServiceAccount annotations, credential endpoints the NetworkPolicy allows). */
  readonly workloadIdentity: WorkloadIdentityPlan;
  /** Tracing (`OTEL_*`) and where the telemetry endpoints are (OTLP collector, Pushgateway, Sentry), for the egress. */
  readonly telemetry: TelemetryPlan;
  /** Longest stream that survives a rollout, scale-in or node drain, in seconds. */
  readonly maxStreamDuration: number;
  /** Seconds the pod keeps serving after it is told to stop, before SIGTERM (the preStop hook). */
  readonly preStopSleepSeconds: number;
  /** Seconds the service lets in-flight requests and streams finish after SIGTERM (`TBO_DRAIN_TIMEOUT`), rounded up. */
  readonly drainSeconds: number;
  /** preStop + drain + slack: when the kubelet sends SIGKILL. */
  readonly terminationGracePeriodSeconds: number;
  readonly runAsUser: number;
}

/** Requests and limits over defaults. */
export function resolveResources(given: TboKubernetesServiceProps['resources'], defaults: ResolvedResources): ResolvedResources {
  return {
    requests: { ...defaults.requests, ...given?.requests },
    limits: { ...defaults.limits, ...given?.limits },
  };
}

/** Recommended labels; the selector is the subset that never changes. */
function labelSet(appName: string, instance: string, component: string) {
  const selector = {
    'app.kubernetes.io/name': appName,
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
  };
  return { selector, labels: { ...selector, 'app.kubernetes.io/part-of': 'tbo', 'app.kubernetes.io/managed-by': 'cdktf' } };
}

/** The port of a Redis URL, or 6379 when it cannot be read (e.g. a deploy-time token). */
function urlPort(url: string): number {
  try {
    return Number(new URL(url).port || d.REDIS_DEFAULTS.port);
  } catch {
    return d.REDIS_DEFAULTS.port;
  }
}

/** Redis's `maxmemory` in bytes: a share of its memory limit, so it evicts before the kernel kills it. */
export function redisMaxMemoryOf(resources: ResolvedResources): number {
  return Math.floor(quantity(resources.limits.memory) * d.REDIS_DEFAULTS.maxMemoryRatio);
}

/** The default backup claim size: keep + 1 backups (the newest is written before old ones go) of maxmemory, in whole Gi. */
export function defaultBackupStorage(keep: number, redisResources: ResolvedResources): string {
  const maxMemory = redisMaxMemoryOf(redisResources);
  const bytes = (keep + 1) * (Number.isFinite(maxMemory) ? maxMemory : redisMaxMemoryOf(d.REDIS_DEFAULTS.resources));
  return `${Math.max(1, Math.ceil(bytes / 2 ** 30))}Gi`;
}

/** The backup plan of the in-cluster Redis (validated first), or undefined with `redis.backup: false`. */
export function redisBackupPlan(props: TboKubernetesServiceProps, name: string, redisResources: ResolvedResources): RedisBackupPlan | undefined {
  const given = props.redis ? props.redis.backup : undefined;
  if (given === false) return undefined;
  const backupName = `${name}${d.REDIS_BACKUP_NAME_SUFFIX}`;
  const keep = given?.keep ?? d.REDIS_BACKUP_DEFAULTS.keep;
  const { labels, selector } = labelSet('redis-backup', backupName, 'backup');
  return {
    name: backupName,
    schedule: given?.schedule ?? d.REDIS_BACKUP_DEFAULTS.schedule,
    keep,
    claim:
      given?.existingClaim !== undefined
        ? { create: false, name: given.existingClaim }
        : { create: true, name: backupName, storage: given?.storage ?? defaultBackupStorage(keep, redisResources), storageClassName: given?.storageClassName },
    resources: resolveResources(given?.resources, d.REDIS_BACKUP_DEFAULTS.resources),
    activeDeadlineSeconds: given?.activeDeadlineSeconds ?? d.REDIS_BACKUP_DEFAULTS.activeDeadlineSeconds,
    restoreFrom: given?.restoreFrom,
    labels,
    selector,
  };
}

function redisPlan(props: TboKubernetesServiceProps, name: string, namespace: string): RedisPlan {
  if (props.existingRedisUrl !== undefined) return { mode: 'external', url: props.existingRedisUrl, port: urlPort(props.existingRedisUrl) };
  if (props.redis === false) return { mode: 'none' };
  const redisName = `${name}-redis`;
  const { labels, selector } = labelSet('redis', redisName, 'cache');
  const resources = resolveResources(props.redis?.resources, d.REDIS_DEFAULTS.resources);
  return {
    mode: 'in-cluster',
    name: redisName,
    host: `${redisName}.${namespace}.svc`,
    port: d.REDIS_DEFAULTS.port,
    image: props.redis?.image ?? d.REDIS_DEFAULTS.image,
    storage: props.redis?.storage ?? d.REDIS_DEFAULTS.storage,
    storageClassName: props.redis?.storageClassName,
    resources,
    labels,
    selector,
    backup: redisBackupPlan(props, name, resources),
  };
}

function secretRefs(props: TboKubernetesServiceProps, redis: RedisPlan): SecretRef[] {
  const keys = { ...d.DEFAULT_SECRET_KEYS, ...props.secrets?.keys };
  const values = props.secrets?.values;
  const settings = (Object.keys(SECRET_ENV) as TboSecretSetting[]).filter((s) => s !== 'redisPassword' || redis.mode !== 'none');
  if (values) {
    return settings.filter((s) => values[s] !== undefined).map((s) => ({ setting: s, env: SECRET_ENV[s], key: keys[s], optional: false }));
  }
  const publicApi = routedBackends(props.config ?? {}).has('anthropic') ? ['anthropicApiKey' as const] : [];
  const required = new Set<TboSecretSetting>(props.secrets?.required ?? [...d.DEFAULT_REQUIRED_SECRETS, ...publicApi, ...(redis.mode === 'in-cluster' ? ['redisPassword' as const] : [])]);
  return settings.map((s) => ({ setting: s, env: SECRET_ENV[s], key: keys[s], optional: !required.has(s) }));
}

/** The longest stream to keep alive: the prop, or the service's upstream timeout (no call outlives it). */
export function maxStreamDurationOf(props: TboKubernetesServiceProps, config: ServiceConfig): number {
  return props.maxStreamDuration ?? Math.ceil(config.upstreamTimeout);
}

/**
 * The settings the `bedrock` and `vertex` props give (validated first), for the backends the routes
 * use: `bedrock.region` → `bedrockRegion`, `vertex.region` / `vertex.project` → `vertexRegion` /
 * `vertexProject`.
 */
export function cloudBackendSettings(props: TboKubernetesServiceProps): TboServiceConfig {
  const config = props.config ?? {};
  const settings: { bedrockRegion?: string; vertexRegion?: string; vertexProject?: string } = {};
  if (routedBackends(config).has('bedrock') && props.bedrock?.region !== undefined) settings.bedrockRegion = props.bedrock.region;
  if (routesToVertex(config)) {
    if (props.vertex?.region !== undefined) settings.vertexRegion = props.vertex.region;
    if (props.vertex?.project !== undefined) settings.vertexProject = props.vertex.project;
  }
  return settings;
}

/**
 * The service config this target deploys: the user's, with the Bedrock and Vertex AI settings of the
 * `bedrock` and `vertex` props, the drain timeout defaulting to maxStreamDuration (streams in flight at
 * SIGTERM may run that long) and the service name to `name` (logs of two instances stay apart).
 */
export function deployedServiceConfig(props: TboKubernetesServiceProps, userResolved: ServiceConfig, name: string): TboServiceConfig {
  const given = props.config ?? {};
  return { ...given, ...cloudBackendSettings(props), drainTimeout: given.drainTimeout ?? maxStreamDurationOf(props, userResolved), serviceName: given.serviceName ?? name };
}

/** Ingress read/send and HTTPRoute request timeout: longer than the longest stream the pods keep alive. */
export function streamTimeoutSeconds(config: ServiceConfig, maxStreamDuration: number): number {
  return Math.max(Math.ceil(config.upstreamTimeout), maxStreamDuration) + d.INGRESS_TIMEOUT_SLACK_SECONDS;
}

/**
 * ResourceQuota or LimitRange: in a namespace the construct creates, on unless false; in an existing
 * (shared) namespace, off unless asked for (`true` or values), because it caps every workload there.
 */
function namespaceWide<T extends object>(value: T | boolean | undefined, ownsNamespace: boolean): Partial<T> | undefined {
  if (value === false || (value === undefined && !ownsNamespace)) return undefined;
  return value === true || value === undefined ? {} : value;
}

/** The ResourceQuota's hard limits: merged over the guide's in an own namespace, exactly the given ones in a shared one. */
export function resolveQuota(props: TboKubernetesServiceProps): Readonly<Record<string, string>> | undefined {
  const own = props.createNamespace ?? true;
  const given = namespaceWide<Readonly<Record<string, string>>>(props.resourceQuota, own);
  if (!given) return undefined;
  const hard = Object.fromEntries(Object.entries(given).filter((e): e is [string, string] => e[1] !== undefined));
  return own || props.resourceQuota === true ? { ...d.DEFAULT_RESOURCE_QUOTA, ...hard } : hard;
}

/** The LimitRange props when one is created (see {@link namespaceWide}). */
export function limitRangeProps(props: TboKubernetesServiceProps): TboKubernetesLimitRangeProps | undefined {
  return namespaceWide(props.limitRange, props.createNamespace ?? true);
}

/** Sources of the public port and destinations of DNS: the new props, or the shorthand labels. */
function networkPlan(props: TboKubernetesServiceProps, ownsNamespace: boolean): TboKubernetesPlan['networkPolicy'] {
  if (props.networkPolicy === false) return undefined;
  const np = props.networkPolicy ?? {};
  const ingressSources = np.ingressSources ?? (np.ingressControllerNamespaceLabels ? [{ namespaceLabels: np.ingressControllerNamespaceLabels }] : TBO_INGRESS_SOURCES.INGRESS_NGINX);
  const dnsDestinations =
    np.dnsDestinations ??
    (np.dnsNamespaceLabels || np.dnsPodLabels
      ? [{ namespaceLabels: np.dnsNamespaceLabels ?? d.DEFAULT_DNS_NAMESPACE_LABELS, podLabels: np.dnsPodLabels ?? d.DEFAULT_DNS_POD_LABELS }]
      : TBO_DNS_DESTINATIONS.KUBE_DNS);
  return {
    defaultDeny: np.defaultDeny ?? ownsNamespace,
    ingressSources,
    monitoringNamespaceLabels: np.monitoringNamespaceLabels ?? d.DEFAULT_MONITORING_NAMESPACE_LABELS,
    monitoringPodLabels: np.monitoringPodLabels,
    clientNamespaceLabels: np.clientNamespaceLabels ?? [],
    dnsDestinations,
  };
}

/** What the construct derived for this instance from its construct path. */
export interface DerivedIdentity {
  /** Default `name`, unique per construct path. */
  readonly name: string;
  /** Default Redis key prefix (`redisKeyPrefixFor` of the construct's address, from lib/core). */
  readonly redisKeyPrefix: string;
  /** The image the construct built and pushed (with `registry`), by digest. */
  readonly image?: string;
}

/**
 * Resolves props (already validated) into the plan every resource is built from. `config` is the
 * deployed service config ({@link deployedServiceConfig}, resolved); `derived` holds the instance's
 * own name and Redis key prefix, used unless the props override them.
 */
export function resolvePlan(props: TboKubernetesServiceProps, config: ServiceConfig, derived: DerivedIdentity): TboKubernetesPlan {
  const name = props.name ?? derived.name;
  const namespaceName = props.namespace ?? name;
  const createNamespace = props.createNamespace ?? true;
  const resources = resolveResources(props.resources, d.DEFAULT_RESOURCES);
  const redis = redisPlan(props, name, namespaceName);
  const preStopSleepSeconds = props.preStopSleepSeconds ?? d.DEFAULT_PRE_STOP_SECONDS;
  const maxStreamDuration = maxStreamDurationOf(props, config);
  const drainSeconds = Math.ceil(config.drainTimeout);
  const { labels, selector } = labelSet('tbo', `${name}-service`, 'gateway');
  const ingress = props.ingress || undefined;
  const route = props.httpRoute || undefined;
  const profile = ingress?.profile ?? 'nginx';
  const autoscaling = props.autoscaling === false ? undefined : { ...d.DEFAULT_AUTOSCALING, ...props.autoscaling, metrics: props.autoscaling?.metrics ?? [] };
  const pdb = props.disruptionBudget === false ? undefined : (props.disruptionBudget ?? {});
  const limitRange = limitRangeProps(props);
  const configFileName = CONFIG_FILE_NAME;
  const image = props.image ?? derived.image;
  if (image === undefined) throw new Error('TboKubernetesService: no image to run: give image, or registry (the construct then builds one)');
  const refs = secretRefs(props, redis);
  return {
    name,
    namespaceName,
    createNamespace,
    image,
    imagePullPolicy: props.imagePullPolicy ?? 'IfNotPresent',
    imagePullSecrets: props.imagePullSecrets ?? [],
    nodeSelector: nodeSelectorFor(props.platform),
    tolerations: props.tolerations ?? [],
    replicas: props.replicas ?? d.DEFAULT_REPLICAS,
    resources,
    userConfig: deployedServiceConfig(props, config, name),
    config,
    redisKeyPrefix: props.redisKeyPrefix ?? derived.redisKeyPrefix,
    labels,
    selector,
    names: {
      service: `${name}-service`,
      configMap: `${name}-config`,
      quota: `${name}-quota`,
      limitRange: `${name}-limits`,
      defaultDeny: `${name}-default-deny`,
      redis: `${name}-redis`,
    },
    configFileName,
    secret: {
      name: props.secrets?.secretName ?? `${name}${d.SECRET_NAME_SUFFIX}`,
      create: props.secrets?.values !== undefined,
      values: props.secrets?.values ?? {},
      refs,
    },
    redis,
    ingress: ingress && {
      host: ingress.host,
      tlsSecretName: ingress.tlsSecretName ?? `${name}${d.TLS_SECRET_NAME_SUFFIX}`,
      className: ingress.className ?? (profile === 'nginx' ? d.DEFAULT_INGRESS_CLASS_NGINX : undefined),
      profile,
      requestsPerSecond: ingress.rateLimit?.requestsPerSecond ?? Math.ceil(config.rateLimitPerMinute / 60),
      connections: ingress.rateLimit?.connections ?? d.DEFAULT_INGRESS_CONNECTIONS,
      burstMultiplier: ingress.rateLimit?.burstMultiplier ?? d.DEFAULT_INGRESS_BURST_MULTIPLIER,
      annotations: ingress.annotations ?? {},
    },
    httpRoute: route && {
      parentRefs: route.parentRefs,
      hostnames: route.hostnames ?? [],
      requestTimeoutSeconds: route.requestTimeoutSeconds ?? streamTimeoutSeconds(config, maxStreamDuration),
      annotations: route.annotations ?? {},
    },
    networkPolicy: networkPlan(props, createNamespace),
    autoscaling,
    disruptionBudget: pdb && {
      maxUnavailable: pdb.minAvailable === undefined ? String(pdb.maxUnavailable ?? d.DEFAULT_MAX_UNAVAILABLE) : undefined,
      minAvailable: pdb.minAvailable === undefined ? undefined : String(pdb.minAvailable),
    },
    resourceQuota: resolveQuota(props),
    limitRange: limitRange && {
      default: { ...resources.limits, ...limitRange.default },
      defaultRequest: { ...resources.requests, ...limitRange.defaultRequest },
      max: { ...d.DEFAULT_LIMIT_RANGE_MAX, ...limitRange.max },
    },
    workloadIdentity: resolveWorkloadIdentity(props.workloadIdentity),
    telemetry: resolveTelemetry(props, config, refs.some((r) => r.setting === 'sentryDsn')),
    maxStreamDuration,
    preStopSleepSeconds,
    drainSeconds,
    terminationGracePeriodSeconds: preStopSleepSeconds + drainSeconds + d.TERMINATION_SLACK_SECONDS,
    runAsUser: props.runAsUser ?? d.DEFAULT_RUN_AS_USER,
  };
}

/** Pods a rolling update may run at once: desired plus the surge (25 %, rounded up). */
export function peakPods(desired: number): number {
  const surge = Number.parseInt(d.ROLLING_UPDATE.maxSurge, 10) / 100;
  return desired + Math.ceil(desired * surge);
}

/** A quantity known to be valid (validation ran first). */
export function quantity(text: string): number {
  return parseQuantity(text) ?? Number.NaN;
}
