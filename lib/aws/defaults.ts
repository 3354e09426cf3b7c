/** The AWS target's own defaults (the service's live in `lib/core`); each is a prop's `@default`. */
export const AWS_DEFAULTS = {
  /** The guide's Fargate task size. */
  cpu: 512,
  memoryLimitMiB: 1024,
  /** The tasks' CPU architecture (Fargate `RuntimePlatform`), and so the bundled image's build platform (linux/amd64). */
  cpuArchitecture: 'X86_64',
  /** Log group names start with this, then the service name and the stack's own id. */
  logGroupPrefix: '/ecs/',
  logStreamPrefix: 'ecs',
  /** The guide's autoscaler: its bounds, and its CPU (> 70 %) and queue (> 50) signals. */
  minCapacity: 2,
  maxCapacity: 20,
  targetCpuUtilization: 70,
  requestsPerTarget: 1000,
  targetQueueLength: 50,
  /** p95 of TBO's own time per request (not the model's) above which the overhead alarm fires. */
  overheadAlarmThresholdSeconds: 0.05,
  maxAzs: 2,
  redis: {
    nodeType: 'cache.t4g.medium',
    replicasPerShard: 1,
    clusterShards: 2,
    engineVersion: '7.1',
    snapshotRetentionDays: 7,
    port: 6379,
    /** Days an RDB file exported to the construct's bucket is kept. */
    snapshotExportExpirationDays: 30,
  },
  /**
   * The ADOT collector sidecar (`tracing.collectorSidecar`). The image is the AWS Distro for
   * OpenTelemetry collector release v0.49.0 (aws-observability/aws-otel-collector, 2026-07-15;
   * multi-architecture). Its Dockerfile (cmd/awscollector/Dockerfile) copies the repository's
   * `config/` to `/etc/`, runs as user `aoc` (uid and gid 4317) and ships `/healthcheck`, which asks
   * the `health_check` extension on 127.0.0.1:13133. `config/ecs/ecs-xray.yaml` receives OTLP (gRPC
   * 4317, HTTP 4318) and exports traces with the `awsxray` exporter; the ECS guide's ADOT sidecar
   * uses the same image and health check command:
   * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/trace-data-containerdefinitions.html
   */
  collectorSidecar: {
    image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0',
    configPath: '/etc/ecs/ecs-xray.yaml',
    user: '4317:4317',
    healthCheckCommand: '/healthcheck',
    memoryLimitMiB: 128,
  },
  /** Seconds between the end of the service's drain and the container's stop timeout (SIGKILL). */
  stopMarginSeconds: 5,
  /** The service keeps idle connections this much longer than the load balancer does. */
  keepAliveMarginSeconds: 5,
  /** The non-root user of the bundled image (node:20-alpine's `node`). */
  containerUser: '1000:1000',
  /** Length of the generated JWT signing key and Redis AUTH token. */
  generatedSecretLength: 64,
} as const;

/** Fargate's task sizes: memory (MiB) accepted for each CPU value. */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** Limits AWS puts on values the construct derives from the service config. */
export const AWS_LIMITS = {
  /** ALB target group and ECS container health check interval, seconds. */
  healthCheckInterval: { min: 5, max: 300 },
  /** Fargate container stop timeout, seconds. */
  maxStopTimeout: 120,
  /** ALB idle timeout, seconds. */
  idleTimeout: { min: 1, max: 4000 },
  /** ALB target group deregistration delay, seconds. */
  deregistrationDelay: { min: 0, max: 3600 },
} as const;

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}
