/**
 * The guide's Kubernetes values and this target's secure defaults, in one place. Values that every
 * target shares (port, probe paths, config path, env names, service defaults) are not here: they
 * come from `lib/core`.
 */

/** Start of every default `name` (`tbo-…-<hash>`); the guide's own name, which the example app keeps. */
export const DEFAULT_NAME = 'tbo';
/** Hex digits of the construct path's hash in a default name (32 bits: collisions need ~65,000 instances). */
export const NAME_HASH_LENGTH = 8;
/** Longest `name`: leaves room for the longest suffix (`-default-deny`) within a 63-character DNS label. */
export const MAX_NAME_LENGTH = 40;
/** The guide's replica count. */
export const DEFAULT_REPLICAS = 5;

/** The guide's container resources. */
export const DEFAULT_RESOURCES = {
  requests: { cpu: '250m', memory: '512Mi' },
  limits: { cpu: '500m', memory: '1Gi' },
} as const;

/** The guide's probe timings, in seconds. Paths and port come from the contract. */
export const PROBE_TIMINGS = {
  liveness: { initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
  readiness: { initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
  /** Up to 60 s to start before liveness takes over. */
  startup: { initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 },
} as const;

/** The port the ClusterIP Service exposes (the guide's 80 → container port). */
export const SERVICE_EXPOSED_PORT = 80;
/** Seconds the pod waits before SIGTERM so endpoints and ingress stop routing to it first. */
export const DEFAULT_PRE_STOP_SECONDS = 5;
/** Seconds of slack above preStop + the service's drain timeout before the kubelet kills the pod. */
export const TERMINATION_SLACK_SECONDS = 5;
/** Longest `maxStreamDuration` (the service's drain timeout accepts at most 3600 s). */
export const MAX_STREAM_DURATION_SECONDS = 3600;
/** Rolling update: never fewer ready pods than desired, up to a quarter more while rolling. */
export const ROLLING_UPDATE = { maxSurge: '25%', maxUnavailable: '0' } as const;

/** uid/gid of the `node` user in the bundled image (the official Node.js image of service/Dockerfile). */
export const DEFAULT_RUN_AS_USER = 1000;

/** Credentials: the Secret (`<name>-secrets`) and the key of each credential in it (`anthropic-key` is the guide's). */
export const SECRET_NAME_SUFFIX = '-secrets';
export const DEFAULT_SECRET_KEYS = {
  anthropicApiKey: 'anthropic-key',
  openaiApiKey: 'openai-key',
  apiKeys: 'api-keys',
  jwtSecretKey: 'jwt-secret',
  redisPassword: 'redis-password',
  adminKeys: 'admin-keys',
  cacheSigningKey: 'cache-signing-key',
  sentryDsn: 'sentry-dsn',
} as const;
/**
 * Credentials a pod cannot start without when the Secret is referenced: the JWT key always; the
 * Anthropic key (the guide's `anthropic-key`) too when a route uses `anthropic:`, and the Redis
 * password with the in-cluster Redis (both added where the routes and Redis are known).
 */
export const DEFAULT_REQUIRED_SECRETS = ['jwtSecretKey'] as const;

/** The guide's autoscaler. */
export const DEFAULT_AUTOSCALING = { minReplicas: 2, maxReplicas: 20, targetCpuUtilization: 70 } as const;
/** The guide's queue signal: scale out when more than 50 requests wait per pod. */
export const DEFAULT_QUEUE_LENGTH_TARGET = 50;
/** Voluntary disruptions (node drains, upgrades) take at most one pod at a time. */
export const DEFAULT_MAX_UNAVAILABLE = 1;

/** The guide's namespace quota. */
export const DEFAULT_RESOURCE_QUOTA = {
  'requests.cpu': '10',
  'requests.memory': '20Gi',
  'limits.cpu': '20',
  'limits.memory': '40Gi',
  pods: '50',
  persistentvolumeclaims: '10',
} as const;
/** Largest container the LimitRange admits. Its default and default request are the TBO container's. */
export const DEFAULT_LIMIT_RANGE_MAX = { cpu: '2', memory: '4Gi' } as const;

/** In-cluster Redis: the official image (not Bitnami), run as its own `redis` user. */
export const REDIS_DEFAULTS = {
  image: 'redis:7-alpine',
  port: 6379,
  storage: '1Gi',
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  /** Where the data volume is mounted: Redis's `--dir`. */
  dataDir: '/data',
  runAsUser: 999,
  runAsGroup: 1000,
  /** Share of the memory limit Redis may fill before it evicts (the rest is its own overhead). */
  maxMemoryRatio: 0.75,
} as const;

/** Who may reach the pods. Labels are the ones Kubernetes sets on every namespace. */
export const DEFAULT_INGRESS_CONTROLLER_NAMESPACE_LABELS = { 'kubernetes.io/metadata.name': 'ingress-nginx' } as const;
export const DEFAULT_MONITORING_NAMESPACE_LABELS = { 'kubernetes.io/metadata.name': 'monitoring' } as const;
export const DEFAULT_DNS_NAMESPACE_LABELS = { 'kubernetes.io/metadata.name': 'kube-system' } as const;
export const DEFAULT_DNS_POD_LABELS = { 'k8s-app': 'kube-dns' } as const;

/** Ingress: the TLS Secret is `<name>-tls`. */
export const TLS_SECRET_NAME_SUFFIX = '-tls';
export const DEFAULT_INGRESS_CLASS_NGINX = 'nginx';
/** Concurrent connections per client IP: each stream holds one for its whole length. */
export const DEFAULT_INGRESS_CONNECTIONS = 100;
/** ingress-nginx's own default burst multiplier. */
export const DEFAULT_INGRESS_BURST_MULTIPLIER = 5;
/** Seconds added to the longest stream for the proxy's timeouts (ingress-nginx read/send, HTTPRoute request). */
export const INGRESS_TIMEOUT_SLACK_SECONDS = 30;

/**
 * Backups of the in-cluster Redis: hourly, the newest 24 kept (a day of hourly restore points), and
 * a Job that is stopped after 15 minutes and retried twice. A missed run (controller down) still
 * starts within 5 minutes; later, it waits for the next slot.
 */
export const REDIS_BACKUP_DEFAULTS = {
  schedule: '0 * * * *',
  keep: 24,
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  activeDeadlineSeconds: 900,
  backoffLimit: 2,
  startingDeadlineSeconds: 300,
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 3,
  /** Where the backup volume is mounted in the backup and restore containers. */
  mountPath: '/backup',
} as const;
/** Suffix of the backup CronJob, claim and NetworkPolicy: short, so `<name>-backup` (≤ 47) stays within a CronJob name's 52 characters. */
export const REDIS_BACKUP_NAME_SUFFIX = '-backup';
/** Longest CronJob name: its Jobs append 11 characters within 63. */
export const MAX_CRON_JOB_NAME_LENGTH = 52;
