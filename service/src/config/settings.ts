/**
 * The service's configuration contract: every setting, its environment variable, its place in the
 * guide's `config.yaml`, its schema and default, and whether it is a secret.
 *
 * This file is the single source of truth. The service parses its config with it, and the
 * construct library (`lib/core`) renders deployments from it, so no target re-declares an env var,
 * a default or a path. It depends on zod only.
 */
import { z } from 'zod';
import { BACKENDS, BEDROCK_CROSS_REGION } from './backends';

/** The port the service listens on inside its container. */
export const SERVICE_PORT = 8000;

/**
 * The port of the admin listener (same process): `/metrics` and `/health/details`. Load balancers
 * never route to it; only the cluster's monitoring may reach it. 9464 is the port OpenTelemetry's
 * Prometheus exporter uses by convention.
 */
export const ADMIN_PORT = 9464;

/** HTTP paths every deployment target wires to its probes and scrapers. */
export const PROBE_PATHS = {
  /** Liveness: the process and its event loop answer (public and admin ports). */
  liveness: '/health',
  /** Readiness: config loaded and not draining (public and admin ports). */
  readiness: '/ready',
  /** Prometheus text exposition (admin port only). */
  metrics: '/metrics',
  /** Upstream connectivity, cache and bandwidth checks (admin port only). */
  healthDetails: '/health/details',
} as const;

/** Redis key prefix when `TBO_REDIS_KEY_PREFIX` is not set (constructs derive a unique one). */
export const DEFAULT_REDIS_KEY_PREFIX = 'tbo';
/** What a Redis key prefix may be: no `{`/`}` (cluster hash tags would pin every key to one slot). */
export const REDIS_KEY_PREFIX_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/**
 * What the cache does with sampled requests (temperature > 0, or unset where the API's default is
 * > 0): `cache` (serve the stored answer), `bypass` (always a fresh answer), `variants:N` (keep up
 * to N answers per request, served round-robin once filled).
 */
export const CACHE_POLICY_PATTERN = /^(cache|bypass|variants:([2-9]|1[0-9]|20))$/;

/** The highest priority (lowest number) a tenant may ask for when the policy does not name it. */
export const DEFAULT_PRIORITY_CEILING = 5;

/** The directory deployment targets mount the rendered config file into. */
export const CONFIG_MOUNT_DIR = '/app/config';
/** The config file's name inside {@link CONFIG_MOUNT_DIR}. */
export const CONFIG_FILE_NAME = 'config.yaml';
/** Where the service looks for its YAML config file when `TBO_CONFIG_FILE` is not set. */
export const DEFAULT_CONFIG_FILE = `${CONFIG_MOUNT_DIR}/${CONFIG_FILE_NAME}`;

export const OPTIMIZATION_LEVELS = ['speed', 'balanced', 'quality', 'research'] as const;
export type OptimizationLevel = (typeof OPTIMIZATION_LEVELS)[number];

/** Cache time-to-live per optimization level, in seconds (refreshed on every hit). */
export const CACHE_TTL_SECONDS: Readonly<Record<OptimizationLevel, number>> = {
  speed: 3600,
  balanced: 1800,
  quality: 900,
  research: 600,
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const AUTH_MODES = ['auto', 'none'] as const;

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'TRUE', 'FALSE', 'True', 'False'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'TRUE' || v === 'True');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const lowerEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(values));
const url = (protocols: readonly string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const MODEL_REF = new RegExp(`^(${BACKENDS.join('|')}):[A-Za-z0-9._:/@-]{1,200}$`);
const modelList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()).filter(Boolean).join(','))
  .refine((v) => v.length > 0 && v.split(',').every((ref) => MODEL_REF.test(ref)), `must be comma-separated backend:model entries, backend one of ${BACKENDS.join(', ')}`);

const MODEL_NAME = /^[A-Za-z0-9._:/@-]{1,200}$/;
const modelNames = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()).filter(Boolean).join(','))
  .refine((v) => v.length > 0 && v.split(',').every((m) => MODEL_NAME.test(m)), 'must be comma-separated model names of A-Z a-z 0-9 . _ : / @ -');

/** A principal as priority policies name it: an API-key tenant, `jwt:<tenant>`, or `*` for everyone else. */
const POLICY_TENANT = /^(\*|(jwt:)?[A-Za-z0-9._@-]{1,128})$/;
const priorityPolicy = z
  .union([z.string(), z.record(z.string(), z.union([z.number(), z.string()]))])
  .transform((v) => (typeof v === 'string' ? v : Object.entries(v).map(([t, p]) => `${t}=${p}`).join(',')))
  .refine(
    (v) =>
      v.split(',').map((s) => s.trim()).filter(Boolean).every((pair) => {
        const at = pair.lastIndexOf('=');
        const priority = Number(pair.slice(at + 1));
        return at > 0 && POLICY_TENANT.test(pair.slice(0, at)) && Number.isInteger(priority) && priority >= 1 && priority <= 10;
      }),
    'must be comma-separated tenant=priority pairs (tenant an API-key tenant, jwt:<tenant> or *; priority an integer from 1 to 10)',
  );

/** A JSON object of strings (a model-id table), as JSON text or a YAML map. */
const idTable = z
  .union([z.string(), z.record(z.string(), z.string())])
  .transform((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
  .refine((v) => {
    try {
      return z.record(z.string().regex(MODEL_NAME), z.string().regex(/^[A-Za-z0-9._:/@-]{1,2048}$/)).safeParse(JSON.parse(v)).success;
    } catch {
      return false;
    }
  }, 'must be JSON of {"client model name": "backend model id"}');
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const GCP_LOCATION = /^(global|us|eu|[a-z]+-[a-z]+\d)$/;

const price = z.object({ input: z.number().min(0), output: z.number().min(0) });
/** USD per 1k tokens; model ids are config, not code. */
export const DEFAULT_PRICES = JSON.stringify({
  'claude-haiku-4-5': { input: 0.001, output: 0.005 },
  'claude-sonnet-4-5': { input: 0.003, output: 0.015 },
  'claude-opus-4-1': { input: 0.015, output: 0.075 },
  'gpt-4o-mini': { input: 0.00015, output: 0.0006 },
  'gpt-4o': { input: 0.0025, output: 0.01 },
  'gpt-4.1': { input: 0.002, output: 0.008 },
});
const priceTable = z
  .union([z.string(), z.record(z.string(), price)])
  .transform((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
  .refine((v) => {
    try {
      return z.record(z.string(), price).safeParse(JSON.parse(v)).success;
    } catch {
      return false;
    }
  }, 'must be JSON of {"model": {"input": USD per 1k tokens, "output": USD per 1k tokens}}');

/** One configuration setting of the service. */
export interface SettingSpec {
  /** Environment variable that sets it (overrides the YAML file). */
  readonly env: string;
  /** Dotted path in the guide's `config.yaml`, when the setting lives there. */
  readonly yaml?: string;
  /** Schema with coercion from strings, and the default. */
  readonly schema: z.ZodType;
  /** A credential: deployment targets inject it from a secret store, never as plain text. */
  readonly secret?: true;
  /** One line for docs and error messages. */
  readonly description: string;
}

export const SETTINGS = {
  logLevel: {
    env: 'TBO_LOG_LEVEL', yaml: 'monitoring.log_level',
    schema: lowerEnum(LOG_LEVELS).default('info'),
    description: 'Log level of the JSON logs',
  },
  host: {
    env: 'TBO_HOST',
    schema: z.string().min(1).default('0.0.0.0'),
    description: 'Address to bind; an open (no-auth) service may bind only to loopback',
  },
  port: {
    env: 'TBO_PORT',
    schema: int(0, 65535).default(SERVICE_PORT),
    description: 'TCP port to listen on',
  },
  adminPort: {
    env: 'TBO_ADMIN_PORT',
    schema: int(0, 65535).default(ADMIN_PORT),
    description: 'TCP port of the admin listener (/metrics, /health/details); load balancers never route to it',
  },
  maxConnections: {
    env: 'TBO_MAX_CONNECTIONS', yaml: 'server.max_connections',
    schema: int(16, 1_000_000).default(10_000),
    description: 'Client connections the public listener holds at once; more are refused until some close',
  },
  firstByteTimeout: {
    env: 'TBO_FIRST_BYTE_TIMEOUT', yaml: 'server.first_byte_timeout',
    schema: num(0.1, 300).default(10),
    description: 'Seconds a new connection may stay silent before it sends a request; then it is closed',
  },
  optimizationLevel: {
    env: 'TBO_OPTIMIZATION_LEVEL', yaml: 'optimization.level',
    schema: lowerEnum(OPTIMIZATION_LEVELS).default('balanced'),
    description: 'Optimization level; sets the cache TTL (speed 3600 s … research 600 s)',
  },
  targetLatency: {
    env: 'TBO_TARGET_LATENCY', yaml: 'optimization.target_latency',
    schema: num(0.01, 600).default(0.5),
    description: 'Target response latency in seconds',
  },
  cacheSize: {
    env: 'TBO_CACHE_SIZE', yaml: 'optimization.cache_size',
    schema: int(0, 10_000_000).default(10_000),
    description: 'Maximum entries in the in-memory cache tier (0 disables it)',
  },
  cacheSampled: {
    env: 'TBO_CACHE_SAMPLED', yaml: 'optimization.cache_sampled',
    schema: z.string().regex(CACHE_POLICY_PATTERN, 'must be cache, bypass or variants:N with N from 2 to 20').default('bypass'),
    description: 'Sampled requests (temperature > 0 or the API default): "bypass" never serves them from cache, "variants:N" keeps N answers served round-robin, "cache" replays one',
  },
  cacheMaxBytes: {
    env: 'TBO_CACHE_MAX_BYTES', yaml: 'optimization.cache_max_bytes',
    schema: int(1024, 16 * 1024 ** 3).default(64 * 1024 ** 2),
    description: 'Maximum bytes held by the in-memory cache tier',
  },
  maxConcurrentRequests: {
    env: 'TBO_MAX_CONCURRENT_REQUESTS', yaml: 'optimization.max_concurrent_requests',
    schema: int(1, 100_000).default(500),
    description: 'Maximum upstream calls in flight per instance',
  },
  circuitBreakerThreshold: {
    env: 'TBO_CIRCUIT_BREAKER_THRESHOLD', yaml: 'optimization.circuit_breaker_threshold',
    schema: num(0.01, 600).default(2.0),
    description: 'p95 time-to-first-token, in seconds, at which an upstream circuit breaker opens',
  },
  rateLimitPerMinute: {
    env: 'API_RATE_LIMIT', yaml: 'security.rate_limit_per_minute',
    schema: int(0, 100_000_000).default(10_000),
    description: 'Requests per minute per tenant (0 disables the limit)',
  },
  maxBodyBytes: {
    env: 'TBO_MAX_BODY_BYTES', yaml: 'security.max_body_bytes',
    schema: int(1024, 64 * 1024 ** 2).default(32 * 1024 ** 2),
    description: 'Largest accepted request body in bytes (the Anthropic API accepts 32 MB: images, PDFs)',
  },
  maxInflightBodyBytes: {
    env: 'TBO_MAX_INFLIGHT_BODY_BYTES', yaml: 'security.max_inflight_body_bytes',
    schema: int(1024, 64 * 1024 ** 3).default(256 * 1024 ** 2),
    description: 'Request body bytes one instance holds at once (declared sizes; a chunked body counts as max_body_bytes); beyond it requests get 503 with Retry-After',
  },
  auth: {
    env: 'TBO_AUTH', yaml: 'security.auth',
    schema: lowerEnum(AUTH_MODES).default('auto'),
    description: '"auto" requires TBO_API_KEYS or JWT_SECRET_KEY off loopback; "none" runs open deliberately',
  },
  jwtIssuer: {
    env: 'JWT_ISSUER', yaml: 'security.jwt_issuer',
    schema: z.string().min(1).max(512).optional(),
    description: 'When set, client JWTs must carry exactly this iss claim',
  },
  jwtAudience: {
    env: 'JWT_AUDIENCE', yaml: 'security.jwt_audience',
    schema: z.string().min(1).max(512).optional(),
    description: 'When set, client JWTs must carry this aud claim',
  },
  jwtMaxLifetime: {
    env: 'JWT_MAX_LIFETIME', yaml: 'security.jwt_max_lifetime',
    schema: int(60, 30 * 86_400).default(86_400),
    description: 'Longest token lifetime accepted, in seconds (exp − iat; iat is required)',
  },
  jwtTenants: {
    env: 'JWT_TENANTS', yaml: 'security.jwt_tenants',
    schema: z.string().regex(/^\s*[A-Za-z0-9._@-]{1,128}(\s*,\s*[A-Za-z0-9._@-]{1,128})*\s*$/, 'must be comma-separated tenant names of A-Z a-z 0-9 . _ @ -').optional(),
    description: 'When set, JWTs are accepted only for these tenant claims; unset accepts any tenant the issuer signs',
  },
  tenantPriorities: {
    env: 'TBO_TENANT_PRIORITIES', yaml: 'security.tenant_priorities',
    schema: priorityPolicy.default(''),
    description: `Highest priority each tenant may ask for, as tenant=priority pairs (1 highest … 10; jwt:<tenant> for JWT tenants, * for the rest; default ${DEFAULT_PRIORITY_CEILING})`,
  },
  tenantMaxConcurrent: {
    env: 'TBO_TENANT_MAX_CONCURRENT', yaml: 'optimization.tenant_max_concurrent',
    schema: int(0, 100_000).default(0),
    description: 'Upstream calls one tenant may have in flight per instance; 0 means half of max_concurrent_requests (all of it with a single tenant)',
  },
  healthCheckInterval: {
    env: 'TBO_HEALTH_CHECK_INTERVAL', yaml: 'monitoring.health_check_interval',
    schema: num(1, 86_400).default(30),
    description: 'Seconds between deployment health checks and between upstream connectivity checks',
  },
  metricsExportInterval: {
    env: 'TBO_METRICS_EXPORT_INTERVAL', yaml: 'monitoring.metrics_export_interval',
    schema: num(1, 86_400).default(60),
    description: 'Seconds between metric exports (Prometheus scrape interval, CloudWatch EMF flush, Pushgateway push)',
  },
  enableMetrics: {
    env: 'TBO_ENABLE_METRICS', yaml: 'monitoring.enable_metrics',
    schema: bool.default(true),
    description: 'Serve Prometheus metrics on /metrics',
  },
  metricsEmf: {
    env: 'TBO_METRICS_EMF', yaml: 'monitoring.cloudwatch_emf',
    schema: bool.default(false),
    description: 'Also write CloudWatch Embedded Metric Format lines to stdout every metrics export interval',
  },
  metricsNamespace: {
    env: 'TBO_METRICS_NAMESPACE', yaml: 'monitoring.metrics_namespace',
    schema: z.string().regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'must be 1-255 of A-Z a-z 0-9 . _ / # : -').default('TBO'),
    description: 'CloudWatch namespace of the EMF metrics',
  },
  prometheusGateway: {
    env: 'PROMETHEUS_GATEWAY', yaml: 'monitoring.prometheus_gateway',
    schema: url(['http:', 'https:']).optional(),
    description: 'Prometheus Pushgateway base URL: when set, the metrics are pushed every metrics export interval (job tbo, one group per instance) and the group is deleted on shutdown',
  },
  traceContent: {
    env: 'TBO_TRACE_CONTENT', yaml: 'monitoring.trace_content',
    schema: bool.default(false),
    description: 'Record prompt and completion text on OpenTelemetry spans (off: spans carry models, token counts and timings only). Traces themselves are configured by the standard OTEL_* variables',
  },
  serviceName: {
    env: 'TBO_SERVICE_NAME', yaml: 'monitoring.service_name',
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -').default('tbo'),
    description: 'Service name: the Service dimension of EMF metrics and the service field of logs',
  },
  keepAliveTimeout: {
    env: 'TBO_KEEP_ALIVE_TIMEOUT', yaml: 'server.keep_alive_timeout',
    schema: num(1, 4000).default(65),
    description: 'Seconds an idle client connection stays open; keep it above the load balancer\'s idle timeout (ALB default 60 s)',
  },
  drainTimeout: {
    env: 'TBO_DRAIN_TIMEOUT', yaml: 'server.drain_timeout',
    schema: num(0, 3600).default(25),
    description: 'Seconds to let in-flight requests and streams finish after SIGTERM',
  },
  anthropicBaseUrl: {
    env: 'ANTHROPIC_BASE_URL', yaml: 'upstreams.anthropic_base_url',
    schema: url(['http:', 'https:']).default('https://api.anthropic.com'),
    description: 'Anthropic API base URL (without /v1)',
  },
  openaiBaseUrl: {
    env: 'OPENAI_BASE_URL', yaml: 'upstreams.openai_base_url',
    schema: url(['http:', 'https:']).default('https://api.openai.com/v1'),
    description: 'OpenAI API base URL (with /v1)',
  },
  upstreamTimeout: {
    env: 'TBO_UPSTREAM_TIMEOUT', yaml: 'upstreams.timeout',
    schema: num(0.1, 3600).default(600),
    description: 'Seconds an upstream call may take in total before it is cancelled',
  },
  modelsFast: {
    env: 'TBO_MODELS_FAST', yaml: 'routing.fast',
    schema: modelList.default('anthropic:claude-haiku-4-5,openai:gpt-4o-mini'),
    description: 'Models for complexity 1-2, as backend:model in fallback order (backend: anthropic, openai, bedrock, vertex, vertex-openai)',
  },
  modelsBalanced: {
    env: 'TBO_MODELS_BALANCED', yaml: 'routing.balanced',
    schema: modelList.default('anthropic:claude-sonnet-4-5,openai:gpt-4o'),
    description: 'Models for complexity 3-4, as backend:model in fallback order',
  },
  modelsStrongest: {
    env: 'TBO_MODELS_STRONGEST', yaml: 'routing.strongest',
    schema: modelList.default('anthropic:claude-opus-4-1,openai:gpt-4.1'),
    description: 'Models for complexity 5, as backend:model in fallback order',
  },
  fallback: {
    env: 'TBO_FALLBACK', yaml: 'routing.fallback',
    schema: lowerEnum(['down', 'none'] as const).default('down'),
    description: '"down": on failure try the rest of the tier, then weaker tiers (strongest → balanced → fast); "none": never switch models',
  },
  fallbackNamed: {
    env: 'TBO_FALLBACK_NAMED', yaml: 'routing.fallback_named',
    schema: bool.default(false),
    description: 'Let a request that names a model fall back to other models of its tier (off: it is answered by that model or fails; "auto" always falls back)',
  },
  modelPrices: {
    env: 'TBO_MODEL_PRICES', yaml: 'routing.prices',
    schema: priceTable.default(DEFAULT_PRICES),
    description: 'USD per 1k tokens by model, as JSON {"model": {"input": n, "output": n}}; a backend model id (a Bedrock or Vertex id) takes precedence over the client\'s model name',
  },
  modelsAllowed: {
    env: 'TBO_MODELS_ALLOWED', yaml: 'routing.allowed',
    schema: modelNames.optional(),
    description: 'When set, the only model names clients may ask for (besides "auto" and the routing tiers); others get a 400',
  },
  bedrockRegion: {
    env: 'TBO_BEDROCK_REGION', yaml: 'upstreams.bedrock.region',
    schema: z.string().regex(AWS_REGION, 'must be an AWS region such as us-east-1').optional(),
    description: 'AWS region of Bedrock Runtime for bedrock routes; unset uses AWS_REGION (set on ECS and Lambda)',
  },
  bedrockCrossRegion: {
    env: 'TBO_BEDROCK_CROSS_REGION', yaml: 'upstreams.bedrock.cross_region',
    schema: lowerEnum(BEDROCK_CROSS_REGION).default('geo'),
    description: '"geo": call Bedrock models through the region\'s geographic inference profile (us., eu., apac.); "global": the global profile; "none": the in-region model id',
  },
  bedrockModelIds: {
    env: 'TBO_BEDROCK_MODEL_IDS', yaml: 'upstreams.bedrock.model_ids',
    schema: idTable.default('{}'),
    description: 'Bedrock model ids by client model name, as JSON, over the built-in table of Claude models (an id may be a foundation model, an inference profile id or ARN)',
  },
  bedrockEndpoint: {
    env: 'TBO_BEDROCK_ENDPOINT', yaml: 'upstreams.bedrock.endpoint',
    schema: url(['http:', 'https:']).optional(),
    description: 'Bedrock Runtime endpoint URL; unset is https://bedrock-runtime.<region>.amazonaws.com (the VPC interface endpoint answers on that name too)',
  },
  vertexProject: {
    env: 'TBO_VERTEX_PROJECT', yaml: 'upstreams.vertex.project',
    schema: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id').optional(),
    description: 'Google Cloud project of vertex and vertex-openai routes; unset uses the credentials\' project (the metadata server on Cloud Run and GKE)',
  },
  vertexRegion: {
    env: 'TBO_VERTEX_REGION', yaml: 'upstreams.vertex.region',
    schema: z.string().regex(GCP_LOCATION, 'must be a Vertex AI location: global, the multi-regions us or eu, or a region such as us-east5').default('global'),
    description: 'Vertex AI location of vertex and vertex-openai routes (global, the multi-regions us or eu, or a region such as us-east5)',
  },
  vertexModelIds: {
    env: 'TBO_VERTEX_MODEL_IDS', yaml: 'upstreams.vertex.model_ids',
    schema: idTable.default('{}'),
    description: 'Vertex AI model ids by client model name, as JSON, over the built-in table (Claude: claude-sonnet-4-5@20250929; Gemini: google/gemini-2.5-flash)',
  },
  vertexEndpoint: {
    env: 'TBO_VERTEX_ENDPOINT', yaml: 'upstreams.vertex.endpoint',
    schema: url(['http:', 'https:']).optional(),
    description: 'Vertex AI endpoint URL; unset is https://<region>-aiplatform.googleapis.com (https://aiplatform.googleapis.com for global)',
  },
  ttftTimeout: {
    env: 'TBO_TTFT_TIMEOUT', yaml: 'upstreams.ttft_timeout',
    schema: num(0.1, 3600).default(30),
    description: 'Seconds a streaming upstream call may take to start answering before it is cancelled and retried or failed over',
  },
  maxRetries: {
    env: 'TBO_MAX_RETRIES', yaml: 'upstreams.max_retries',
    schema: int(0, 10).default(2),
    description: 'Retries per upstream on 429, 529, 5xx and connection errors (exponential backoff, full jitter, Retry-After honoured)',
  },
  breakerWindow: {
    env: 'TBO_BREAKER_WINDOW', yaml: 'optimization.breaker_window',
    schema: int(20, 10_000).default(20),
    description: 'Calls in each circuit breaker\'s sliding window',
  },
  breakerErrorRate: {
    env: 'TBO_BREAKER_ERROR_RATE', yaml: 'optimization.breaker_error_rate',
    schema: num(0, 1).default(0.1),
    description: 'Error rate over the window above which a circuit breaker opens',
  },
  breakerTtftMaxInputBytes: {
    env: 'TBO_BREAKER_TTFT_MAX_INPUT_BYTES', yaml: 'optimization.breaker_ttft_max_input_bytes',
    schema: int(0, 64 * 1024 ** 2).default(32 * 1024),
    description: 'Only streamed requests with bodies up to this size count towards a breaker\'s time to first token (a long prompt is slow by itself)',
  },
  breakerCooldown: {
    env: 'TBO_BREAKER_COOLDOWN', yaml: 'optimization.breaker_cooldown',
    schema: num(0.1, 3600).default(30),
    description: 'Seconds an open circuit breaker waits before letting a probe through',
  },
  queueMax: {
    env: 'TBO_QUEUE_MAX', yaml: 'optimization.queue_max',
    schema: int(0, 1_000_000).default(1000),
    description: 'Requests that may wait for an upstream slot beyond max_concurrent_requests',
  },
  queueTimeout: {
    env: 'TBO_QUEUE_TIMEOUT', yaml: 'optimization.queue_timeout',
    schema: num(0.01, 3600).default(30),
    description: 'Seconds a request may wait for an upstream slot before a 503',
  },
  sessionIdleTimeout: {
    env: 'TBO_SESSION_IDLE_TIMEOUT', yaml: 'optimization.session_idle_timeout',
    schema: num(1, 86_400).default(1800),
    description: 'Seconds after its last turn that a session stops counting as active and is forgotten',
  },
  redisUrl: {
    env: 'REDIS_URL', yaml: 'redis.url',
    schema: url(['redis:', 'rediss:']).optional(),
    description: 'Redis URL (redis:// or rediss://); unset means the in-memory cache only',
  },
  redisHost: {
    env: 'REDIS_HOST', yaml: 'redis.host',
    schema: z.string().min(1).optional(),
    description: 'Redis host, when REDIS_URL is not used',
  },
  redisPort: {
    env: 'REDIS_PORT', yaml: 'redis.port',
    schema: int(1, 65535).default(6379),
    description: 'Redis port, with REDIS_HOST',
  },
  redisDb: {
    env: 'REDIS_DB', yaml: 'redis.db',
    schema: int(0, 15).default(0),
    description: 'Redis database number (standalone mode only)',
  },
  redisTls: {
    env: 'REDIS_TLS', yaml: 'redis.tls',
    schema: bool.default(false),
    description: 'Connect to Redis over TLS',
  },
  redisTlsCa: {
    env: 'REDIS_TLS_CA_CERT', yaml: 'redis.tls_ca_cert',
    schema: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be PEM text with a BEGIN CERTIFICATE line' }).optional(),
    description: 'PEM certificate(s) of the CA that signed the Redis server certificate (e.g. Memorystore server CA)',
  },
  redisCluster: {
    env: 'REDIS_CLUSTER', yaml: 'redis.cluster',
    schema: bool.default(false),
    description: 'Redis cluster mode (ElastiCache cluster mode, Memorystore cluster)',
  },
  redisKeyPrefix: {
    env: 'TBO_REDIS_KEY_PREFIX', yaml: 'redis.key_prefix',
    schema: z.string().regex(REDIS_KEY_PREFIX_PATTERN, 'must be 1-64 of A-Z a-z 0-9 . _ -').default(DEFAULT_REDIS_KEY_PREFIX),
    description: 'Prefix of every Redis key of this deployment (cache, rate limits, sessions); unique per deployment sharing a Redis',
  },
  redisPoolSize: {
    env: 'REDIS_POOL_SIZE', yaml: 'redis.pool_size',
    schema: int(1, 1000).default(10),
    description: 'Redis connections per instance',
  },
  redisPassword: {
    env: 'REDIS_PASSWORD', secret: true,
    schema: z.string().min(1).optional(),
    description: 'Redis AUTH password or token',
  },
  anthropicApiKey: {
    env: 'ANTHROPIC_API_KEY', secret: true,
    schema: z.string().min(1).optional(),
    description: 'The service\'s Anthropic API key',
  },
  openaiApiKey: {
    env: 'OPENAI_API_KEY', secret: true,
    schema: z.string().min(1).optional(),
    description: 'The service\'s OpenAI API key',
  },
  apiKeys: {
    env: 'TBO_API_KEYS', secret: true,
    schema: z.string().min(1).optional(),
    description: 'Client API keys as comma-separated tenant:key pairs',
  },
  jwtSecretKey: {
    env: 'JWT_SECRET_KEY', secret: true,
    schema: z.string().min(32, 'must be at least 32 characters (HS256 needs a 256-bit key)').optional(),
    description: 'HS256 secret that signs client JWTs',
  },
  adminKeys: {
    env: 'TBO_ADMIN_KEYS', secret: true,
    schema: z.string().min(1).optional(),
    description: 'Admin credentials (comma-separated, 16+ characters each): the all-tenant /v1/performance view',
  },
  cacheSigningKey: {
    env: 'TBO_CACHE_SIGNING_KEY', secret: true,
    schema: z.string().min(32, 'must be at least 32 characters').optional(),
    description: 'HMAC key that authenticates cache entries in Redis; unset derives one from the deployment\'s other secrets',
  },
  sentryDsn: {
    env: 'SENTRY_DSN', secret: true,
    schema: url(['http:', 'https:']).optional(),
    description: 'Sentry DSN: when set, internal errors (500 api_error) and crashes are reported, scrubbed of prompts, credentials and key headers',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
type Shape = { [K in SettingName]: (typeof SETTINGS)[K]['schema'] };

const shape = Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.schema])) as Shape;

/** The service's config schema, built from {@link SETTINGS}. */
export const configSchema = z.object(shape);

/** Fully parsed and defaulted service configuration. */
export type ServiceConfig = z.output<typeof configSchema>;
/** Configuration as accepted before defaults and coercion. */
export type ServiceConfigInput = z.input<typeof configSchema>;

/** Names of the settings that are credentials. */
export type SecretSettingName = { [K in SettingName]: (typeof SETTINGS)[K] extends { secret: true } ? K : never }[SettingName];

/** Names of every setting, and of the secret ones. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
export const SECRET_SETTING_NAMES = SETTING_NAMES.filter((k) => 'secret' in SETTINGS[k]) as SecretSettingName[];
