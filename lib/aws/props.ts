import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { BedrockCrossRegion, RedisEndpoint, TboServiceConfig, TboTracingOptions } from '../core';

/**
 * Where a new replication group's data comes from: an ElastiCache snapshot, or RDB files in S3.
 * Give exactly one of the two.
 */
export interface TboRedisSnapshotSource {
  /** Name of an ElastiCache snapshot in this account and Region (automatic, manual, or the final snapshot of a deleted group). @default - none */
  readonly snapshotName?: string;
  /**
   * S3 ARNs of RDB files (`arn:aws:s3:::bucket/key.rdb`), e.g. an export in `snapshotExport`'s
   * bucket; ElastiCache reads them with the grants described in the README. Not with
   * `clusterMode` (seeding shards from RDB files needs their slot ranges).
   * @default - none
   */
  readonly snapshotArns?: readonly string[];
}

/** Exports of ElastiCache snapshots to S3 (`aws elasticache copy-snapshot --target-bucket`), e.g. to restore in another Region or account. */
export interface TboRedisSnapshotExportOptions {
  /** Days an exported RDB file is kept in the bucket the construct creates (lifecycle expiration, 1 to 3650). @default 30 */
  readonly expirationDays?: number;
  /**
   * A bucket you own, in the stack's Region, instead of a new one. Defined in this app, it gets the
   * ElastiCache grant in its policy; imported, you add that grant yourself (a synth warning says so).
   * @default - a new bucket: SSE-S3, TLS only, no public access, ACLs disabled, retained on delete
   */
  readonly existingBucket?: s3.IBucket;
}

/** The ElastiCache Redis replication group the construct creates (when neither `redis: false` nor `existingRedis`). */
export interface TboRedisOptions {
  /** Cache node type. @default 'cache.t4g.medium' */
  readonly nodeType?: string;
  /** Replicas per shard (1 to 5), each in another AZ; automatic failover needs at least one. @default 1 */
  readonly replicasPerShard?: number;
  /** Cluster mode (data sharded over `shards`); the service then runs with `REDIS_CLUSTER=true`. @default false */
  readonly clusterMode?: boolean;
  /** Number of shards (node groups); more than one needs `clusterMode`. @default - 2 with cluster mode, else 1 */
  readonly shards?: number;
  /** Redis engine version. @default '7.1' */
  readonly engineVersion?: string;
  /** Days of automatic daily snapshots kept (0 to 35; 0 turns snapshots off). @default 7 */
  readonly snapshotRetentionDays?: number;
  /**
   * What happens to the replication group when it leaves the stack, or is replaced:
   * `RemovalPolicy.SNAPSHOT` takes a final snapshot first (it stays, and is billed, until you
   * delete it), `DESTROY` deletes the data, `RETAIN` / `RETAIN_ON_UPDATE_OR_DELETE` keep the group running.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Seeds the replication group from a snapshot or RDB files. It takes effect only when the group
   * is created: setting or changing it on a deployed stack REPLACES the group (a new one with a new
   * endpoint is created from the snapshot, the tasks roll onto it, and the old group is deleted,
   * after a final snapshot under `removalPolicy` SNAPSHOT). Keep it unchanged afterwards, or the
   * next change replaces the group again.
   * @default - an empty group
   */
  readonly restoreFromSnapshot?: TboRedisSnapshotSource;
  /** Exports of snapshots to S3 in a bucket the construct creates (`true` or options), or one you bring. @default - none */
  readonly snapshotExport?: boolean | TboRedisSnapshotExportOptions;
}

/** A Redis the construct does not create: the service connects to it and, when given, gets its AUTH token and a security group rule. */
export interface TboExistingRedis {
  /** Where the Redis is (host, port, TLS, cluster mode, CA) as the service's contract describes it. */
  readonly endpoint: RedisEndpoint;
  /** Secret whose whole value is the AUTH token or password, injected as `REDIS_PASSWORD`. @default - no password */
  readonly authSecret?: secretsmanager.ISecret;
  /** Security group of the Redis; the construct lets the service's tasks reach its port. @default - no rule is added (allow it yourself) */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/**
 * Claude on Amazon Bedrock with the task role's own credentials: the models the role may invoke,
 * and how the service reaches them. The construct renders the routing and the Bedrock settings to
 * match and grants exactly the model and inference-profile ARNs they resolve to.
 */
export interface TboBedrockModelAccess {
  /**
   * The models to grant: client model names (`claude-sonnet-4-5`, turned into Bedrock ids by the
   * service's table and `config.bedrockModelIds`), Bedrock model ids
   * (`anthropic.claude-sonnet-4-5-20250929-v1:0`), cross-region inference-profile ids
   * (`us.anthropic.…`, `global.anthropic.…`) or ARNs (granted as given). Every `bedrock:` route
   * must resolve to one of them; each routing tier the config leaves unset sends the granted
   * Claude models to Bedrock instead of the Anthropic API.
   */
  readonly models: readonly string[];
  /** Region of Bedrock Runtime (the source Region of cross-region profiles), rendered as `TBO_BEDROCK_REGION`. @default - `config.bedrockRegion` when set, else the stack's region */
  readonly region?: string;
  /**
   * How models are invoked (`TBO_BEDROCK_CROSS_REGION`): `geo` through the geographic inference
   * profile of the region (`us.`, `eu.`, `apac.`, `us-gov.`; needs the region known at synth),
   * `global` through the global profile, `none` in the region itself.
   * @default - `config.bedrockCrossRegion` when set, else 'geo'
   */
  readonly crossRegion?: BedrockCrossRegion;
  /**
   * Regions the geographic inference profiles may route to: the task role may invoke the
   * foundation model in each (and in `region`).
   * @default - every Region AWS lists for the profile's geography (`BEDROCK_PROFILE_DESTINATIONS`: us → us-east-1, us-east-2, us-west-1, us-west-2)
   */
  readonly destinationRegions?: readonly string[];
  /**
   * An interface VPC endpoint for `bedrock-runtime` with private DNS in the task subnets, reachable
   * only from the tasks on 443: Bedrock calls then stay in the VPC. The VPC must not have another
   * `bedrock-runtime` endpoint with private DNS, and `region` must be the stack's.
   * @default false
   */
  readonly vpcEndpoint?: boolean;
}

/**
 * The AWS Distro for OpenTelemetry (ADOT) collector as a sidecar in each task: it receives the
 * gateway's OTLP/HTTP on localhost:4318 and exports the traces to AWS X-Ray. Not essential: when
 * it stops, the gateway keeps serving (ECS restarts it).
 */
export interface TboCollectorSidecarOptions {
  /**
   * The collector image. Another image must receive OTLP/HTTP on 4318 and take the same
   * `--config` argument, and be built for `cpuArchitecture`.
   * @default - `public.ecr.aws/aws-observability/aws-otel-collector` at the version in `AWS_DEFAULTS.collectorSidecar.image` (multi-architecture)
   */
  readonly image?: ecs.ContainerImage;
  /** Collector configuration file in the image (`--config=`). @default '/etc/ecs/ecs-xray.yaml' (OTLP in, X-Ray out, health check extension) */
  readonly configPath?: string;
  /** Hard memory limit of the collector container in MiB, taken from the task's memory (the gateway sizes its buffers on the rest). @default 128 */
  readonly memoryLimitMiB?: number;
}

/** Traces of the gateway: the shared settings, and where on AWS they go. */
export interface TboAwsTracingOptions extends TboTracingOptions {
  /**
   * An ADOT collector sidecar exporting to AWS X-Ray (`true`, or options); the task role gets
   * `xray:PutTraceSegments` and `xray:PutTelemetryRecords`. Not with `otlpEndpoint`.
   * @default false
   */
  readonly collectorSidecar?: boolean | TboCollectorSidecarOptions;
}

/** Model access the task role gets from the cloud platform itself (no API key). */
export interface TboModelAccess {
  /** Claude on Amazon Bedrock. @default - none: a `bedrock:` route in the config fails the synth */
  readonly bedrock?: TboBedrockModelAccess;
}

/** Props of {@link TboFargateService}: every one is optional; the defaults are the deployment guide's, secure and highly available. */
export interface TboFargateServiceProps {
  /**
   * Container image of the service. It must be built for `cpuArchitecture` (linux/amd64 by default,
   * linux/arm64 with `ecs.CpuArchitecture.ARM64`), or be a multi-architecture image that includes
   * it: a task whose image lacks its architecture stops at start with `exec format error`.
   * @default - the bundled `service/` folder built as a Docker image asset for `cpuArchitecture`
   */
  readonly image?: ecs.ContainerImage;
  /**
   * CPU architecture of the tasks (the task definition's `RuntimePlatform`, Linux):
   * `ecs.CpuArchitecture.ARM64` runs them on AWS Graviton, billed less per vCPU-hour and GB-hour
   * than X86_64, and builds the bundled image for linux/arm64 (on an x86 machine `cdk deploy` then
   * needs Docker with arm64 emulation, QEMU). Fargate Spot runs only X86_64 tasks: ARM64 with a
   * FARGATE_SPOT capacity provider strategy on `service` fails the synth.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /** Service configuration, rendered to the container's environment. @default - the service's defaults (see `SETTINGS`) */
  readonly config?: TboServiceConfig;

  /** VPC to run in (bring your own). @default - a new VPC over 2 AZs with one NAT gateway per AZ and flow logs */
  readonly existingVpc?: ec2.IVpc;
  /** ECS cluster to run in (bring your own); its VPC is used when `existingVpc` is not given. @default - a new cluster with Container Insights */
  readonly existingCluster?: ecs.ICluster;
  /** Subnets of the tasks and of the Redis the construct creates. @default - the VPC's private subnets with egress */
  readonly taskSubnets?: ec2.SubnetSelection;

  /** Task CPU units (Fargate values: 256, 512, 1024, 2048, 4096, 8192, 16384). @default 512 */
  readonly cpu?: number;
  /** Task memory in MiB (must fit the CPU on Fargate). @default 1024 */
  readonly memoryLimitMiB?: number;
  /**
   * Name of this deployment (1 to 64 of A-Z a-z 0-9 . _ -; unique per account and region): the
   * service's `TBO_SERVICE_NAME`, so the `Service` dimension of its EMF metrics, which its alarms
   * and dashboard read; the prefix of its alarm names and of its log group name. Same as
   * `config.serviceName` (give one of them).
   * @default - `config.serviceName` when given, else a name unique per construct path and stable across synths: the stack name, the construct path and a hash (e.g. `TboAwsStack-Tbo-B35AE671`)
   */
  readonly serviceName?: string;
  /**
   * Log group name of the container logs (stream prefix `ecs`). A name you choose blocks a redeploy
   * after `cdk destroy` while the retained log group exists.
   * @default - `/ecs/<serviceName>/` and the first 8 hex digits of the stack's id, so a redeploy after destroy gets a fresh log group next to the retained one
   */
  readonly logGroupName?: string;
  /** Retention of the container logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the container log group when it leaves the stack (RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY). @default RemovalPolicy.RETAIN */
  readonly logGroupRemovalPolicy?: RemovalPolicy;

  /** Secret holding the Anthropic API key (its whole value), injected as `ANTHROPIC_API_KEY`. @default - a new secret for you to fill (see the stack outputs) when a route uses `anthropic:`, else none */
  readonly existingAnthropicApiKeySecret?: secretsmanager.ISecret;
  /** Secret holding the OpenAI API key, injected as `OPENAI_API_KEY`. @default - a new secret for you to fill, when `openAi` */
  readonly existingOpenAiApiKeySecret?: secretsmanager.ISecret;
  /** Whether the service gets an OpenAI API key at all. @default - whether a route uses `openai:` (true with the default routing) */
  readonly openAi?: boolean;
  /** Models the task role may invoke on the cloud platform with its own credentials (Claude on Bedrock), and the routing to them. @default - none: every route uses an API key */
  readonly modelAccess?: TboModelAccess;
  /** Secret holding the HS256 key that signs client JWTs, injected as `JWT_SECRET_KEY`. @default - a new generated 64-character secret */
  readonly existingJwtSecret?: secretsmanager.ISecret;
  /** Secret holding client API keys (`tenant:key,…`), injected as `TBO_API_KEYS`. @default - none: clients use JWTs signed with the JWT secret */
  readonly existingApiKeysSecret?: secretsmanager.ISecret;
  /** Secret holding admin credentials (comma-separated, 16+ characters each) for the all-tenant `/v1/performance` view, injected as `TBO_ADMIN_KEYS`. @default - none: every caller sees only its own tenant */
  readonly existingAdminKeysSecret?: secretsmanager.ISecret;
  /** Secret holding the HMAC key (32+ characters) that authenticates cache entries in Redis, injected as `TBO_CACHE_SIGNING_KEY`. @default - a new generated 64-character secret (none with `redis: false`) */
  readonly existingCacheSigningKeySecret?: secretsmanager.ISecret;
  /** Secret holding a Sentry DSN (its whole value), injected as `SENTRY_DSN`: internal errors and crashes are reported there, scrubbed. @default - none: no error reporting */
  readonly existingSentryDsnSecret?: secretsmanager.ISecret;
  /**
   * Regions every secret the construct creates is replicated to (Secrets Manager `ReplicaRegions`,
   * each encrypted with that Region's `aws/secretsmanager` key), so a stack rebuilt in one of them
   * finds the same values. Secrets you bring are yours to replicate.
   * @default - none
   */
  readonly secretReplicaRegions?: readonly string[];

  /** The Redis the construct creates, or `false` for the in-memory cache only. @default - a primary and one replica across AZs, encrypted, with AUTH */
  readonly redis?: TboRedisOptions | false;
  /** A Redis you already run, instead of creating one. @default - the construct creates one (see `redis`) */
  readonly existingRedis?: TboExistingRedis;
  /** Prefix of every Redis key of this deployment (`TBO_REDIS_KEY_PREFIX`, 1 to 64 of A-Z a-z 0-9 . _ -), so deployments sharing a Redis never read each other's keys. @default - `tbo-` and 12 hex digits derived from the construct's path: unique per instance, stable across synths (set it to keep the keyspace when the construct moves) */
  readonly redisKeyPrefix?: string;

  /**
   * OpenTelemetry traces: an existing collector (`otlpEndpoint`) or an ADOT sidecar exporting to
   * X-Ray (`collectorSidecar`), and the share sampled; rendered as the standard `OTEL_*` variables.
   * @default - no tracing
   */
  readonly tracing?: TboAwsTracingOptions;

  /** What may reach the admin port (9464: `/metrics` and `/health/details`, unauthenticated), e.g. a Prometheus task's or ADOT collector's security group; never the load balancer, never anywhere. @default - nothing: the metrics leave as CloudWatch EMF */
  readonly metricsScrapers?: readonly ec2.IConnectable[];

  /** Certificate of the HTTPS listener (the load balancer is then internet-facing). @default - a DNS-validated certificate when `domainName` and `hostedZone` are given, else plain HTTP on an internal load balancer (with a synth warning) */
  readonly certificate?: acm.ICertificate;
  /** Domain name of the service (needs `hostedZone`): gets a certificate and an alias record. @default - the load balancer's own DNS name */
  readonly domainName?: string;
  /** Hosted zone of `domainName`. @default - none */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Whether the load balancer is internet-facing. Without a certificate it may be only with
   * `allowPlaintextInternet: true`.
   * @default - true with a certificate (or `domainName` and `hostedZone`) or `allowPlaintextInternet`, else false (internal: reachable only from the VPC)
   */
  readonly internetFacing?: boolean;
  /**
   * Lets a load balancer without a certificate face the internet: API keys and prompts then cross
   * the internet unencrypted. Only for throwaway tests.
   * @default false
   */
  readonly allowPlaintextInternet?: boolean;
  /** CIDR ranges allowed to reach the load balancer. @default - anywhere (0.0.0.0/0) when internet-facing, else the VPC's CIDR */
  readonly allowedCidrs?: readonly string[];
  /** Load balancer idle timeout: long enough for a non-streamed response's silence. @default - the service's upstream timeout (600 s) */
  readonly idleTimeout?: Duration;
  /** Whether the load balancer writes access logs to S3. @default true */
  readonly accessLogs?: boolean;
  /** Bucket of the access logs (SSE-S3 encrypted; KMS is not supported by ALB logs). @default - a new encrypted, private, TLS-only bucket */
  readonly existingAccessLogsBucket?: s3.IBucket;

  /**
   * How long a response (a stream, or a long non-streamed answer) may run and still finish when
   * its task is stopped by a deploy or a scale-in: the target group's deregistration delay (the
   * load balancer sends a deregistering task no new request, and ECS sends SIGTERM only once the
   * delay has passed or the task has no request in flight and no connection left). At most 1 hour
   * (the load balancer's limit; Fargate's stop timeout, at most 120 s, cannot carry a stream).
   * Each rolling deploy and scale-in waits up to this long for busy tasks.
   * @default - the service's upstream timeout (`config.upstreamTimeout`, 600 s)
   */
  readonly maxStreamDuration?: Duration;

  /** Fewest tasks autoscaling keeps; also what the first deploy starts (the template holds no desired count, so deploys keep the running count). @default 2 */
  readonly minCapacity?: number;
  /** Most tasks autoscaling starts. @default 20 */
  readonly maxCapacity?: number;
  /** Average CPU utilization, in percent, that target tracking keeps. @default 70 */
  readonly targetCpuUtilization?: number;
  /** Requests per target per minute that target tracking keeps (load balancer `RequestCountPerTarget`). @default 1000 */
  readonly requestsPerTarget?: number;
  /**
   * Requests waiting for an upstream slot, on average per task (EMF `QueueLength`), above which the
   * service scales out (target tracking; scale-in is left to CPU and requests).
   * @default 50
   */
  readonly targetQueueLength?: number;
  /**
   * p95 of the time TBO itself adds to a request (EMF `Overhead`: queueing, cache, routing; not the
   * model's generation time, which more tasks cannot shorten) above which the overhead alarm fires.
   * An alarm, not a scaling signal.
   * @default Duration.millis(50)
   */
  readonly overheadAlarmThreshold?: Duration;

  /** SNS topic for alarm and OK actions. @default - a new encrypted topic when `alarmEmails` is given, else no actions */
  readonly existingAlarmTopic?: sns.ITopic;
  /** Email addresses subscribed to the alarm topic. @default - none */
  readonly alarmEmails?: readonly string[];
}
