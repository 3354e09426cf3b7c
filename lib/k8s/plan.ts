import { CONFIG_FILE_NAME, SECRET_ENV, type ServiceConfig, type TboServiceConfig } from '../core';
import * as d from './defaults';
import type { TboIngressProfile, TboKubernetesServiceProps, TboSecretSetting } from './props';
import { parseQuantity } from './quantity';

/** Requests and limits with every value filled in. */
export interface ResolvedResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
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
  readonly name: string;
  /** The namespace name as given (for DNS names); resources use the namespace resource's token. */
  readonly namespaceName: string;
  readonly createNamespace: boolean;
  readonly image: string;
  readonly imagePullPolicy: string;
  readonly imagePullSecrets: readonly string[];
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
  readonly networkPolicy?: {
    readonly defaultDeny: boolean;
    readonly ingressControllerNamespaceLabels: Readonly<Record<string, string>>;
    readonly monitoringNamespaceLabels: Readonly<Record<string, string>>;
    readonly monitoringPodLabels?: Readonly<Record<string, string>>;
    readonly clientNamespaceLabels: readonly Readonly<Record<string, string>>[];
    readonly dnsNamespaceLabels: Readonly<Record<string, string>>;
    readonly dnsPodLabels: Readonly<Record<string, string>>;
  };
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuUtilization: number };
  readonly disruptionBudget?: { readonly maxUnavailable?: string; readonly minAvailable?: string };
  readonly resourceQuota?: Readonly<Record<string, string>>;
  readonly limitRange?: {
    readonly default: { readonly cpu: string; readonly memory: string };
    readonly defaultRequest: { readonly cpu: string; readonly memory: string };
    readonly max: { readonly cpu: string; readonly memory: string };
  };
  readonly preStopSleepSeconds: number;
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

function redisPlan(props: TboKubernetesServiceProps, name: string, namespace: string): RedisPlan {
  if (props.existingRedisUrl !== undefined) return { mode: 'external', url: props.existingRedisUrl, port: urlPort(props.existingRedisUrl) };
  if (props.redis === false) return { mode: 'none' };
  const redisName = `${name}-redis`;
  const { labels, selector } = labelSet('redis', redisName, 'cache');
  return {
    mode: 'in-cluster',
    name: redisName,
    host: `${redisName}.${namespace}.svc`,
    port: d.REDIS_DEFAULTS.port,
    image: props.redis?.image ?? d.REDIS_DEFAULTS.image,
    storage: props.redis?.storage ?? d.REDIS_DEFAULTS.storage,
    storageClassName: props.redis?.storageClassName,
    resources: resolveResources(props.redis?.resources, d.REDIS_DEFAULTS.resources),
    labels,
    selector,
  };
}

function secretRefs(props: TboKubernetesServiceProps, redis: RedisPlan): SecretRef[] {
  const keys = { ...d.DEFAULT_SECRET_KEYS, ...props.secrets?.keys };
  const values = props.secrets?.values;
  const settings = (Object.keys(SECRET_ENV) as TboSecretSetting[]).filter((s) => s !== 'redisPassword' || redis.mode !== 'none');
  if (values) {
    return settings.filter((s) => values[s] !== undefined).map((s) => ({ setting: s, env: SECRET_ENV[s], key: keys[s], optional: false }));
  }
  const required = new Set<TboSecretSetting>(props.secrets?.required ?? [...d.DEFAULT_REQUIRED_SECRETS, ...(redis.mode === 'in-cluster' ? ['redisPassword' as const] : [])]);
  return settings.map((s) => ({ setting: s, env: SECRET_ENV[s], key: keys[s], optional: !required.has(s) }));
}

/** Ingress read/send timeout: long enough for the longest stream the service lets run. */
export function ingressTimeoutSeconds(config: ServiceConfig): number {
  return Math.ceil(config.upstreamTimeout) + d.INGRESS_TIMEOUT_SLACK_SECONDS;
}

/**
 * Resolves props (already validated) into the plan every resource is built from.
 * `derivedRedisKeyPrefix` is the instance's own prefix (`redisKeyPrefixFor` of its address, from lib/core),
 * used unless the `redisKeyPrefix` prop overrides it.
 */
export function resolvePlan(props: TboKubernetesServiceProps, config: ServiceConfig, derivedRedisKeyPrefix: string): TboKubernetesPlan {
  const name = props.name ?? d.DEFAULT_NAME;
  const namespaceName = props.namespace ?? d.DEFAULT_NAMESPACE;
  const resources = resolveResources(props.resources, d.DEFAULT_RESOURCES);
  const redis = redisPlan(props, name, namespaceName);
  const preStopSleepSeconds = props.preStopSleepSeconds ?? d.DEFAULT_PRE_STOP_SECONDS;
  const { labels, selector } = labelSet('tbo', `${name}-service`, 'gateway');
  const ingress = props.ingress || undefined;
  const profile = ingress?.profile ?? 'nginx';
  const network = props.networkPolicy === false ? undefined : (props.networkPolicy ?? {});
  const autoscaling = props.autoscaling === false ? undefined : { ...d.DEFAULT_AUTOSCALING, ...props.autoscaling };
  const pdb = props.disruptionBudget === false ? undefined : (props.disruptionBudget ?? {});
  const limitRange = props.limitRange === false ? undefined : (props.limitRange ?? {});
  const configFileName = CONFIG_FILE_NAME;
  return {
    name,
    namespaceName,
    createNamespace: props.createNamespace ?? true,
    image: props.image,
    imagePullPolicy: props.imagePullPolicy ?? 'IfNotPresent',
    imagePullSecrets: props.imagePullSecrets ?? [],
    replicas: props.replicas ?? d.DEFAULT_REPLICAS,
    resources,
    userConfig: props.config ?? {},
    config,
    redisKeyPrefix: props.redisKeyPrefix ?? derivedRedisKeyPrefix,
    labels,
    selector,
    names: {
      service: `${name}-service`,
      configMap: `${name}-config`,
      quota: `${name}-quota`,
      limitRange: `${name}-limits`,
      defaultDeny: `${name}-default-deny`,
    },
    configFileName,
    secret: {
      name: props.secrets?.secretName ?? d.DEFAULT_SECRET_NAME,
      create: props.secrets?.values !== undefined,
      values: props.secrets?.values ?? {},
      refs: secretRefs(props, redis),
    },
    redis,
    ingress: ingress && {
      host: ingress.host,
      tlsSecretName: ingress.tlsSecretName ?? d.DEFAULT_TLS_SECRET_NAME,
      className: ingress.className ?? (profile === 'nginx' ? d.DEFAULT_INGRESS_CLASS_NGINX : undefined),
      profile,
      requestsPerSecond: ingress.rateLimit?.requestsPerSecond ?? Math.ceil(config.rateLimitPerMinute / 60),
      connections: ingress.rateLimit?.connections ?? d.DEFAULT_INGRESS_CONNECTIONS,
      burstMultiplier: ingress.rateLimit?.burstMultiplier ?? d.DEFAULT_INGRESS_BURST_MULTIPLIER,
      annotations: ingress.annotations ?? {},
    },
    networkPolicy: network && {
      defaultDeny: network.defaultDeny ?? true,
      ingressControllerNamespaceLabels: network.ingressControllerNamespaceLabels ?? d.DEFAULT_INGRESS_CONTROLLER_NAMESPACE_LABELS,
      monitoringNamespaceLabels: network.monitoringNamespaceLabels ?? d.DEFAULT_MONITORING_NAMESPACE_LABELS,
      monitoringPodLabels: network.monitoringPodLabels,
      clientNamespaceLabels: network.clientNamespaceLabels ?? [],
      dnsNamespaceLabels: network.dnsNamespaceLabels ?? d.DEFAULT_DNS_NAMESPACE_LABELS,
      dnsPodLabels: network.dnsPodLabels ?? d.DEFAULT_DNS_POD_LABELS,
    },
    autoscaling,
    disruptionBudget: pdb && {
      maxUnavailable: pdb.minAvailable === undefined ? String(pdb.maxUnavailable ?? d.DEFAULT_MAX_UNAVAILABLE) : undefined,
      minAvailable: pdb.minAvailable === undefined ? undefined : String(pdb.minAvailable),
    },
    resourceQuota: props.resourceQuota === false ? undefined : { ...d.DEFAULT_RESOURCE_QUOTA, ...props.resourceQuota },
    limitRange: limitRange && {
      default: { ...resources.limits, ...limitRange.default },
      defaultRequest: { ...resources.requests, ...limitRange.defaultRequest },
      max: { ...d.DEFAULT_LIMIT_RANGE_MAX, ...limitRange.max },
    },
    preStopSleepSeconds,
    terminationGracePeriodSeconds: preStopSleepSeconds + Math.ceil(config.drainTimeout) + d.TERMINATION_SLACK_SECONDS,
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
