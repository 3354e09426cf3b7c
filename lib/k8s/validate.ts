import { Token } from 'cdktf';
import {
  BODY_MEMORY_FACTOR,
  PropValidator,
  REDIS_KEY_PREFIX_PATTERN,
  SECRET_ENV,
  SETTINGS,
  bedrockModel,
  modelsRoutedTo,
  resolveVertexLocation,
  settingFromProp,
  type ServiceConfig,
} from '../core';
import * as d from './defaults';
import { validateImageSource } from './image';
import { limitRangeProps, maxStreamDurationOf, peakPods, quantity, redisBackupPlan, resolveQuota, resolveResources, type RedisBackupPlan, type ResolvedResources } from './plan';
import { TBO_INGRESS_PROFILES, type TboKubernetesServiceProps, type TboSecretSetting } from './props';
import { formatBytes, parseQuantity } from './quantity';
import { requiredMemoryBytes } from './sizing';
import { validateRedisBackup } from './validate-backup';
import { DNS_LABEL, DNS_SUBDOMAIN, known, quantities, resources, validatePeer } from './validate-common';
import { validateTelemetry } from './validate-telemetry';
import { validateWorkloadIdentity } from './workload-identity';

export { isCidr } from './validate-common';

/** Gateway API `Hostname`: a DNS name, optionally with a leading `*.` wildcard label. */
const GATEWAY_HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A metric name as the Prometheus adapter serves it. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const INT_OR_PERCENT = /^(\d+|\d+%)$/;
const MAX_REPLICAS = 1000;
/** Gateway API durations have at most 5 digits per unit. */
const MAX_ROUTE_TIMEOUT_SECONDS = 99_999;

function intOrPercent(v: PropValidator, prop: string, value: number | string | undefined): void {
  if (value === undefined) return;
  v.check(INT_OR_PERCENT.test(String(value)), prop, value, 'must be a whole number or a percentage such as "25%"');
}

function validateRedis(v: PropValidator, props: TboKubernetesServiceProps): void {
  const url = props.existingRedisUrl;
  if (url !== undefined) {
    v.check(props.redis === undefined, 'redis', props.redis, 'must be left unset with existingRedisUrl (one Redis: in-cluster or existing, not both)');
    if (known(url)) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      v.check(parsed !== undefined && ['redis:', 'rediss:'].includes(parsed.protocol), 'existingRedisUrl', url, 'must be a URL starting with redis:// or rediss://');
      v.check(!parsed?.password, 'existingRedisUrl', url.replace(/:[^:@/]*@/, ':***@'), `must not contain a password: put it in the Secret under secrets.keys.redisPassword (${d.DEFAULT_SECRET_KEYS.redisPassword})`);
    }
  }
  if (props.redis) {
    resources(v, 'redis.resources', props.redis.resources, d.REDIS_DEFAULTS.resources);
    const storage = props.redis.storage;
    if (known(storage)) v.check(parseQuantity(storage) !== undefined && parseQuantity(storage)! > 0, 'redis.storage', storage, 'must be a positive Kubernetes quantity such as 1Gi');
    if (known(props.redis.image)) v.check(props.redis.image.trim() !== '', 'redis.image', props.redis.image, 'must be a container image reference');
    if (props.redis.backup) validateRedisBackup(v, props.redis.backup);
  }
}

function validateSecrets(v: PropValidator, props: TboKubernetesServiceProps): void {
  const secrets = props.secrets ?? {};
  const settings = Object.keys(SECRET_ENV) as TboSecretSetting[];
  const accepted = `accepted credentials: ${settings.join(', ')}`;
  if (secrets.secretName !== undefined) v.check(DNS_SUBDOMAIN.test(secrets.secretName), 'secrets.secretName', secrets.secretName, 'must be a DNS subdomain name (lower case letters, digits, "-" and ".")');
  for (const [setting, key] of Object.entries(secrets.keys ?? {})) {
    v.check(settings.includes(setting as TboSecretSetting), `secrets.keys.${setting}`, key, accepted);
    v.check(typeof key === 'string' && SECRET_KEY.test(key), `secrets.keys.${setting}`, key, 'must be a Secret key (letters, digits, "-", "_" and ".")');
  }
  for (const setting of secrets.required ?? []) v.check(settings.includes(setting), 'secrets.required', setting, accepted);
  const values = secrets.values;
  if (!values) return;
  for (const [setting, value] of Object.entries(values) as [TboSecretSetting, string | undefined][]) {
    if (!settings.includes(setting)) {
      v.check(false, `secrets.values.${setting}`, '(hidden)', accepted);
      continue;
    }
    if (!known(value)) continue;
    const parsed = SETTINGS[setting].schema.safeParse(value);
    v.check(parsed.success, `secrets.values.${setting}`, '(hidden)', parsed.success ? '' : parsed.error.issues.map((i) => i.message).join('; '));
  }
  for (const setting of secrets.required ?? []) {
    v.check(values[setting] !== undefined, 'secrets.required', setting, 'with secrets.values, every required credential needs a value');
  }
  const inClusterRedis = props.redis !== false && props.existingRedisUrl === undefined;
  v.check(!inClusterRedis || values.redisPassword !== undefined, 'secrets.values.redisPassword', undefined, 'required with the in-cluster Redis when the Secret is created from values (Redis runs with requirepass)');
}

function validateIngress(v: PropValidator, props: TboKubernetesServiceProps, config: ServiceConfig): void {
  const ingress = props.ingress;
  if (!ingress) return;
  if (known(ingress.host)) v.check(DNS_SUBDOMAIN.test(ingress.host), 'ingress.host', ingress.host, 'must be a DNS host name such as tbo.example.com');
  if (ingress.tlsSecretName !== undefined) v.check(DNS_SUBDOMAIN.test(ingress.tlsSecretName), 'ingress.tlsSecretName', ingress.tlsSecretName, 'must be a Secret name (a DNS subdomain name)');
  v.oneOf('ingress.profile', ingress.profile, TBO_INGRESS_PROFILES);
  const profile = ingress.profile ?? 'nginx';
  v.check(ingress.rateLimit === undefined || profile === 'nginx', 'ingress.rateLimit', ingress.rateLimit, 'only the nginx profile enforces it; set ingress.profile to "nginx" or drop ingress.rateLimit');
  v.check(profile !== 'custom' || Object.keys(ingress.annotations ?? {}).length > 0, 'ingress.annotations', ingress.annotations, 'the custom profile needs at least one annotation');
  v.integer('ingress.rateLimit.requestsPerSecond', ingress.rateLimit?.requestsPerSecond, 0, 1_000_000);
  v.integer('ingress.rateLimit.connections', ingress.rateLimit?.connections, 0, 1_000_000);
  v.integer('ingress.rateLimit.burstMultiplier', ingress.rateLimit?.burstMultiplier, 1, 1000);
  v.check(config.auth !== 'none', 'config.auth', config.auth, 'an Ingress exposes the gateway: keep "auto" and give secrets apiKeys or jwtSecretKey');
}

function validateNetworkPolicy(v: PropValidator, props: TboKubernetesServiceProps): void {
  const np = props.networkPolicy;
  if (!np) return;
  const nonEmpty = (prop: string, labels: Readonly<Record<string, string>> | undefined) =>
    labels === undefined || v.check(Object.keys(labels).length > 0, `networkPolicy.${prop}`, labels, 'must name at least one label (an empty selector admits every namespace)');
  nonEmpty('ingressControllerNamespaceLabels', np.ingressControllerNamespaceLabels);
  nonEmpty('monitoringNamespaceLabels', np.monitoringNamespaceLabels);
  if (np.monitoringPodLabels !== undefined) {
    v.check(Object.keys(np.monitoringPodLabels).length > 0, 'networkPolicy.monitoringPodLabels', np.monitoringPodLabels, 'must name at least one label, or be left unset to admit every pod of the monitoring namespace');
  }
  nonEmpty('dnsNamespaceLabels', np.dnsNamespaceLabels);
  np.clientNamespaceLabels?.forEach((labels, i) => nonEmpty(`clientNamespaceLabels[${i}]`, labels));

  if (np.ingressSources !== undefined) {
    v.check(np.ingressControllerNamespaceLabels === undefined, 'networkPolicy.ingressControllerNamespaceLabels', np.ingressControllerNamespaceLabels, 'give ingressSources or its shorthand ingressControllerNamespaceLabels, not both');
    np.ingressSources.forEach((peer, i) => validatePeer(v, `networkPolicy.ingressSources[${i}]`, peer));
    v.check(np.ingressSources.length + (np.clientNamespaceLabels?.length ?? 0) > 0, 'networkPolicy.ingressSources', np.ingressSources,
      'must name at least one source, here or in clientNamespaceLabels (a NetworkPolicy rule without sources admits every source)');
  }
  if (np.dnsDestinations !== undefined) {
    v.check(np.dnsNamespaceLabels === undefined && np.dnsPodLabels === undefined, 'networkPolicy.dnsDestinations', np.dnsDestinations, 'give dnsDestinations or its shorthand dnsNamespaceLabels / dnsPodLabels, not both');
    np.dnsDestinations.forEach((peer, i) => validatePeer(v, `networkPolicy.dnsDestinations[${i}]`, peer));
    v.check(np.dnsDestinations.length > 0, 'networkPolicy.dnsDestinations', np.dnsDestinations, 'must name at least one destination (a rule without destinations opens port 53 to everywhere); e.g. TBO_DNS_DESTINATIONS.KUBE_DNS');
  }
}

function validateStreams(v: PropValidator, props: TboKubernetesServiceProps, config: ServiceConfig): void {
  v.integer('maxStreamDuration', props.maxStreamDuration, 1, d.MAX_STREAM_DURATION_SECONDS);
  const maxStream = maxStreamDurationOf(props, config);
  const drain = props.config?.drainTimeout;
  if (drain !== undefined && Number.isInteger(maxStream)) {
    v.check(drain >= maxStream, 'config.drainTimeout', drain,
      `must be at least maxStreamDuration (${maxStream}): streams still running at SIGTERM get the drain timeout to finish; raise it, leave it unset, or lower maxStreamDuration`);
  }
}

function validateHttpRoute(v: PropValidator, props: TboKubernetesServiceProps, config: ServiceConfig): void {
  const route = props.httpRoute;
  if (!route) return;
  const refs = route.parentRefs ?? [];
  v.check(refs.length > 0, 'httpRoute.parentRefs', route.parentRefs, 'must name at least one Gateway listener, e.g. [{ name: "public", namespace: "gateway", sectionName: "https" }]');
  refs.forEach((ref, i) => {
    const prop = `httpRoute.parentRefs[${i}]`;
    if (known(ref.name)) v.check(DNS_SUBDOMAIN.test(ref.name) && ref.name.length <= 253, `${prop}.name`, ref.name, 'must be the name of a Gateway (a DNS subdomain name)');
    if (ref.namespace !== undefined && known(ref.namespace)) {
      v.check(DNS_LABEL.test(ref.namespace) && ref.namespace.length <= 63, `${prop}.namespace`, ref.namespace, 'must be a namespace name (a DNS label)');
    }
    v.check(typeof ref.sectionName === 'string' && DNS_SUBDOMAIN.test(ref.sectionName) && ref.sectionName.length <= 253, `${prop}.sectionName`, ref.sectionName,
      'must name the Gateway\'s HTTPS listener: without it the route attaches to every listener, plain-HTTP ones included');
    v.integer(`${prop}.port`, ref.port, 1, 65535);
  });
  (route.hostnames ?? []).forEach((host, i) => {
    if (known(host)) v.check(GATEWAY_HOSTNAME.test(host) && host.length <= 253, `httpRoute.hostnames[${i}]`, host, 'must be a DNS host name such as tbo.example.com or *.example.com (no IP addresses)');
  });
  const maxStream = maxStreamDurationOf(props, config);
  if (route.requestTimeoutSeconds !== undefined) {
    v.integer('httpRoute.requestTimeoutSeconds', route.requestTimeoutSeconds, 1, MAX_ROUTE_TIMEOUT_SECONDS);
    v.check(route.requestTimeoutSeconds >= maxStream, 'httpRoute.requestTimeoutSeconds', route.requestTimeoutSeconds, `must be at least maxStreamDuration (${maxStream}), or the Gateway cuts streams the pods keep alive`);
  }
  v.check(config.auth !== 'none', 'config.auth', config.auth, 'an HTTPRoute exposes the gateway: keep "auto" and give secrets apiKeys or jwtSecretKey');
}

function validateAutoscalingMetrics(v: PropValidator, props: TboKubernetesServiceProps): void {
  if (!props.autoscaling) return;
  (props.autoscaling.metrics ?? []).forEach((m, i) => {
    const prop = `autoscaling.metrics[${i}]`;
    v.oneOf(`${prop}.type`, m.type, ['Pods', 'External']);
    v.check(typeof m.name === 'string' && METRIC_NAME.test(m.name), `${prop}.name`, m.name, 'must be a metric name the Prometheus adapter serves, such as tbo_queue_length');
    const value = typeof m.averageValue === 'number' ? m.averageValue : parseQuantity(String(m.averageValue));
    v.check(value !== undefined && Number.isFinite(value) && value > 0, `${prop}.averageValue`, m.averageValue, 'must be a positive number or Kubernetes quantity such as 50 or 500m');
    if (m.selector !== undefined) v.check(Object.keys(m.selector).length > 0, `${prop}.selector`, m.selector, 'must name at least one label, or be left unset');
  });
}

function validateRedisKeyPrefix(v: PropValidator, prefix: string | undefined): void {
  if (prefix === undefined) return;
  const ok = typeof prefix === 'string' && !Token.isUnresolved(prefix) && REDIS_KEY_PREFIX_PATTERN.test(prefix);
  v.check(ok, 'redisKeyPrefix', prefix, 'must be 1-64 characters of A-Z a-z 0-9 . _ - known at synth (e.g. "tbo-prod"), or unset for one derived from the construct\'s path');
}

function validateScaling(v: PropValidator, props: TboKubernetesServiceProps): { maxPods: number; minPods: number } {
  const replicas = props.replicas ?? d.DEFAULT_REPLICAS;
  v.integer('replicas', props.replicas, 1, MAX_REPLICAS);
  let [minPods, maxPods] = [replicas, replicas];
  if (props.autoscaling !== false) {
    const a = { ...d.DEFAULT_AUTOSCALING, ...props.autoscaling };
    v.integer('autoscaling.minReplicas', props.autoscaling?.minReplicas, 1, MAX_REPLICAS);
    v.integer('autoscaling.maxReplicas', props.autoscaling?.maxReplicas, 1, MAX_REPLICAS);
    v.integer('autoscaling.targetCpuUtilization', props.autoscaling?.targetCpuUtilization, 1, 100);
    v.check(a.maxReplicas >= a.minReplicas, 'autoscaling.maxReplicas', a.maxReplicas, `must be ≥ autoscaling.minReplicas (${a.minReplicas})`);
    v.check(replicas >= a.minReplicas && replicas <= a.maxReplicas, 'replicas', replicas, `must be within autoscaling.minReplicas (${a.minReplicas}) and autoscaling.maxReplicas (${a.maxReplicas})`);
    [minPods, maxPods] = [a.minReplicas, Math.max(a.maxReplicas, replicas)];
  }
  const pdb = props.disruptionBudget;
  if (pdb) {
    v.check(pdb.minAvailable === undefined || pdb.maxUnavailable === undefined, 'disruptionBudget', pdb, 'give maxUnavailable or minAvailable, not both');
    intOrPercent(v, 'disruptionBudget.maxUnavailable', pdb.maxUnavailable);
    intOrPercent(v, 'disruptionBudget.minAvailable', pdb.minAvailable);
    if (pdb.maxUnavailable !== undefined && /^\d+$/.test(String(pdb.maxUnavailable))) {
      v.check(Number(pdb.maxUnavailable) >= 1, 'disruptionBudget.maxUnavailable', pdb.maxUnavailable, 'must be at least 1, or node drains block forever');
    }
    if (pdb.minAvailable !== undefined && /^\d+$/.test(String(pdb.minAvailable))) {
      v.check(Number(pdb.minAvailable) < minPods, 'disruptionBudget.minAvailable', pdb.minAvailable, `must be below the fewest pods (${minPods}), or node drains block forever`);
    }
  }
  return { minPods, maxPods };
}

/** What the in-cluster Redis and its backups need (undefined parts: not created, or their quantities not known at synth). */
function redisFootprint(props: TboKubernetesServiceProps): { redis?: ResolvedResources; backup?: RedisBackupPlan } {
  if (props.redis === false || props.existingRedisUrl !== undefined) return {};
  const redis = resolveResources(props.redis?.resources, d.REDIS_DEFAULTS.resources);
  return { redis, backup: redisBackupPlan(props, d.DEFAULT_NAME, redis) };
}

const amount = (text: string | undefined) => (text === undefined ? 0 : (parseQuantity(text) ?? Number.NaN));

/**
 * The quota must hold what this construct itself creates at its peak: most pods plus the rolling-update
 * surge, Redis (its restore init container asks for the same), the backup Job's one pod (`concurrencyPolicy: Forbid`), and the claims (Redis's data, the backup claim
 * created here). In a shared namespace other workloads need room on top; the construct cannot know them.
 */
function validateQuota(v: PropValidator, props: TboKubernetesServiceProps, tbo: ResolvedResources | undefined, maxPods: number): void {
  const hard = resolveQuota(props);
  if (!hard) return;
  const given = typeof props.resourceQuota === 'object' ? props.resourceQuota : {};
  for (const [key, value] of Object.entries(given)) {
    v.check(typeof value === 'string' && parseQuantity(value) !== undefined, `resourceQuota.${key}`, value, 'must be a Kubernetes quantity or count such as 10, 500m or 20Gi');
  }
  const { redis, backup } = redisFootprint(props);
  const pods = peakPods(maxPods);
  const parts = [`${pods} gateway pods (most replicas plus the rolling-update surge)`, ...(redis ? ['Redis'] : []), ...(backup ? ['its backup Job'] : [])];
  const what = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
  const check = (key: string, need: number, shown: string, explain: string) => {
    const limit = parseQuantity(hard[key] ?? '');
    if (limit !== undefined && !Number.isNaN(need)) v.check(need <= limit + 1e-9, `resourceQuota.${key}`, hard[key], `${explain}: at least ${shown}`);
  };
  if (tbo) {
    for (const [kind, resource] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'cpu'], ['limits', 'memory']] as const) {
      // The restore init container asks for what the Redis container does, so the Redis pod needs no more.
      const redisNeed = redis ? amount(redis[kind][resource]) : 0;
      const need = pods * quantity(tbo[kind][resource]) + redisNeed + (backup ? amount(backup.resources[kind][resource]) : 0);
      const shown = resource === 'memory' ? formatBytes(Math.ceil(need)) : String(Math.round(need * 1000) / 1000);
      check(`${kind}.${resource}`, need, shown, `must hold the ${what} this construct creates`);
    }
  }
  const podCount = pods + (redis ? 1 : 0) + (backup ? 1 : 0);
  check('pods', podCount, String(podCount), `must allow the pods this construct creates (most replicas plus the surge${redis ? ', Redis' : ''}${backup ? ', its backup Job' : ''})`);
  const createdClaim = backup?.claim.create ? backup.claim : undefined;
  const claims = (redis ? 1 : 0) + (createdClaim ? 1 : 0);
  check('persistentvolumeclaims', claims, String(claims), `must allow the claims this construct creates (Redis's data${createdClaim ? ' and its backup claim' : ''})`);
  if (redis) {
    const storage = amount(props.redis ? props.redis.storage ?? d.REDIS_DEFAULTS.storage : d.REDIS_DEFAULTS.storage) + amount(createdClaim?.storage);
    check('requests.storage', storage, formatBytes(Math.ceil(storage)), `must hold the storage this construct claims (Redis's data${createdClaim ? ' and its backup claim' : ''})`);
  }
}

function validateLimitRange(v: PropValidator, props: TboKubernetesServiceProps, tbo: ResolvedResources | undefined): void {
  const lr = limitRangeProps(props);
  if (!lr) return;
  quantities(v, 'limitRange.default', lr.default);
  quantities(v, 'limitRange.defaultRequest', lr.defaultRequest);
  quantities(v, 'limitRange.max', lr.max);
  const max = { ...d.DEFAULT_LIMIT_RANGE_MAX, ...lr.max };
  const { redis, backup } = redisFootprint(props);
  for (const resource of ['cpu', 'memory'] as const) {
    const cap = parseQuantity(max[resource]);
    if (cap === undefined) continue;
    if (tbo) v.check(quantity(tbo.limits[resource]) <= cap, `resources.limits.${resource}`, tbo.limits[resource], `must not exceed limitRange.max.${resource} (${max[resource]})`);
    for (const [prop, limit] of [['redis.resources', redis?.limits[resource]], ['redis.backup.resources', backup?.resources.limits[resource]]] as const) {
      if (limit && parseQuantity(limit) !== undefined) v.check(quantity(limit) <= cap, `${prop}.limits.${resource}`, limit, `must not exceed limitRange.max.${resource} (${max[resource]})`);
    }
  }
}

/**
 * The cloud backends: the workload identity, the Vertex AI location, and the Bedrock Region, which
 * `bedrock:` routes need (the service refuses to start without one, and EKS Pod Identity sets no
 * `AWS_REGION`); each Bedrock route must also resolve to a model id in that Region.
 */
function validateCloudBackends(v: PropValidator, props: TboKubernetesServiceProps, config: ServiceConfig): void {
  validateWorkloadIdentity(v, props.workloadIdentity, known);
  // These become config.yaml and env values the service parses: literals only (a token fails the check).
  resolveVertexLocation(v, props.vertex, props.config, 'vertex');
  const region = settingFromProp(v, { prop: 'bedrock.region', value: props.bedrock?.region, config: props.config, setting: 'bedrockRegion', accepted: 'must be an AWS Region such as us-east-1 or eu-central-1' });
  const models = modelsRoutedTo(props.config ?? {}, 'bedrock');
  if (models.length === 0) return;
  if (props.bedrock?.region === undefined && region === undefined) {
    v.check(false, 'bedrock.region', undefined,
      `required: routes ${models.map((m) => `bedrock:${m}`).join(', ')} call Bedrock Runtime, and the pods have no AWS Region the service could use (EKS Pod Identity sets none); give the Region, e.g. us-east-1 (or config.bedrockRegion)`);
  }
  if (region === undefined) return;
  const ids = JSON.parse(config.bedrockModelIds) as Record<string, string>;
  for (const model of models) {
    try {
      bedrockModel(model, { region, crossRegion: config.bedrockCrossRegion, ids });
    } catch (err) {
      v.check(false, 'config.bedrockCrossRegion', config.bedrockCrossRegion, `bedrock:${model} in ${region}: ${(err as Error).message}`);
      break;
    }
  }
}

/** Checks every prop against what Kubernetes and the service accept; throws one error naming each problem. */
export function validateProps(props: TboKubernetesServiceProps, config: ServiceConfig, construct: string): void {
  const v = new PropValidator();
  validateImageSource(v, props);
  if (props.name !== undefined) {
    v.check(DNS_LABEL.test(props.name) && props.name.length <= d.MAX_NAME_LENGTH, 'name', props.name, `must be a DNS label of at most ${d.MAX_NAME_LENGTH} characters (lower case letters, digits and "-", starting with a letter)`);
  }
  if (props.namespace !== undefined) v.check(DNS_LABEL.test(props.namespace) && props.namespace.length <= 63, 'namespace', props.namespace, 'must be a DNS label (lower case letters, digits and "-", at most 63 characters)');
  v.oneOf('imagePullPolicy', props.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']);
  v.integer('preStopSleepSeconds', props.preStopSleepSeconds, 0, 300);
  v.integer('runAsUser', props.runAsUser, 1, 2_147_483_647);

  const tbo = resources(v, 'resources', props.resources, d.DEFAULT_RESOURCES);
  if (tbo) {
    const needed = requiredMemoryBytes(config);
    v.check(quantity(tbo.limits.memory) >= needed, 'resources.limits.memory', tbo.limits.memory,
      `must be at least ${formatBytes(needed)} (config.cacheMaxBytes + ${BODY_MEMORY_FACTOR} × config.maxBodyBytes + 256Mi for the runtime; the rest becomes the request-body budget)`);
  }
  const { maxPods } = validateScaling(v, props);
  validateRedis(v, props);
  validateSecrets(v, props);
  validateRedisKeyPrefix(v, props.redisKeyPrefix);
  validateStreams(v, props, config);
  validateIngress(v, props, config);
  validateHttpRoute(v, props, config);
  validateNetworkPolicy(v, props);
  validateCloudBackends(v, props, config);
  validateTelemetry(v, props, config);
  validateAutoscalingMetrics(v, props);
  validateQuota(v, props, tbo, maxPods);
  validateLimitRange(v, props, tbo);
  v.throwIfInvalid(construct);
}
