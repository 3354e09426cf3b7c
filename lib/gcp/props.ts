import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import type { RedisEndpoint, TboServiceConfig } from '../core';
import type { TboAlertPolicyOptions, TboManagedPrometheusOptions } from './alerts';
import type { TboMemorystoreExportOptions } from './backup';
import type { TboArtifactRegistryOptions } from './image';
import type { TboSecretReplication } from './secret-replication';
import type { TboCloudRunTracingOptions } from './telemetry';
import type { TboVertexOptions } from './vertex';

/** Who may reach the Cloud Run service over the network (`google_cloud_run_v2_service.ingress`). */
export const CLOUD_RUN_INGRESS = ['INGRESS_TRAFFIC_ALL', 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER', 'INGRESS_TRAFFIC_INTERNAL_ONLY'] as const;
export type TboCloudRunIngress = (typeof CLOUD_RUN_INGRESS)[number];

/** The credentials clients may present to TBO's own auth; each one is a Secret Manager secret. */
export const CLIENT_CREDENTIALS = ['apiKeys', 'jwtSecretKey'] as const;
export type TboClientCredential = (typeof CLIENT_CREDENTIALS)[number];

/** Memorystore tiers: `STANDARD_HA` keeps a replica in another zone and fails over to it. */
export const MEMORYSTORE_TIERS = ['STANDARD_HA', 'BASIC'] as const;
/** Redis versions Memorystore for Redis offers (7.x by default). */
export const MEMORYSTORE_REDIS_VERSIONS = ['REDIS_7_2', 'REDIS_7_0', 'REDIS_6_X'] as const;
/** How often Memorystore writes an RDB snapshot. */
export const RDB_SNAPSHOT_PERIODS = ['ONE_HOUR', 'SIX_HOURS', 'TWELVE_HOURS', 'TWENTY_FOUR_HOURS'] as const;
/**
 * How Memorystore attaches to the network: `DIRECT_PEERING` (VPC peering with the instance's own
 * range) or `PRIVATE_SERVICE_ACCESS` (the network's private services access connection, the mode a
 * Shared VPC service project needs).
 */
export const MEMORYSTORE_CONNECT_MODES = ['DIRECT_PEERING', 'PRIVATE_SERVICE_ACCESS'] as const;
export type TboMemorystoreConnectMode = (typeof MEMORYSTORE_CONNECT_MODES)[number];

/** Overrides merged onto the secure Memorystore for Redis defaults. */
export interface TboMemorystoreOptions {
  /** Instance name. @default - `<serviceName>-cache` */
  readonly name?: string;
  /** Service tier. @default 'STANDARD_HA' (a replica in another zone, automatic failover) */
  readonly tier?: (typeof MEMORYSTORE_TIERS)[number];
  /** Memory size in GiB (1 to 300). @default 1 */
  readonly memorySizeGb?: number;
  /** Redis version. @default 'REDIS_7_2' */
  readonly redisVersion?: (typeof MEMORYSTORE_REDIS_VERSIONS)[number];
  /** RDB snapshot period (persistence is always RDB, for backups). @default 'TWELVE_HOURS' */
  readonly rdbSnapshotPeriod?: (typeof RDB_SNAPSHOT_PERIODS)[number];
  /**
   * How the instance attaches to the network. `PRIVATE_SERVICE_ACCESS` is for a network whose
   * private services access connection (an allocated range peered with `servicenetworking`)
   * already exists, such as a Shared VPC host project's network used from a service project; it
   * needs `existingNetwork` (this construct does not create that connection).
   * @default 'DIRECT_PEERING'
   */
  readonly connectMode?: TboMemorystoreConnectMode;
  /**
   * RDB exports to Cloud Storage (`true`, or options): a bucket the construct creates (or yours),
   * the instance's identity granted on it, and the `gcloud` commands that export and import in the
   * `<id>_redis_export_command` / `<id>_redis_import_command` outputs. Memorystore for Redis
   * instances have no managed backups (those are Memorystore for Redis Cluster's and Valkey's);
   * RDB persistence (`rdbSnapshotPeriod`) is always on.
   * @default false
   */
  readonly export?: boolean | TboMemorystoreExportOptions;
}

/** {@link TboMemorystoreOptions} with its defaults applied (the instance's own settings; `export` resolves separately). */
export type ResolvedMemorystoreOptions = Required<Omit<TboMemorystoreOptions, 'export'>>;

/** A Redis the user already runs, reachable from the service (on `existingNetwork`, or publicly over TLS). */
export interface TboExistingRedis extends RedisEndpoint {
  /** Secret Manager secret (id or `projects/P/secrets/S`) holding the AUTH password, injected as `REDIS_PASSWORD`. @default - no password */
  readonly authSecret?: string;
}

/** Properties of {@link TboCloudRunService}. */
export interface TboCloudRunServiceProps {
  /**
   * Container image of the TBO service, by tag or digest (e.g.
   * `REGION-docker.pkg.dev/PROJECT/tbo/tbo-service:1.0.0`): an image you build and push yourself.
   * Given, the construct builds nothing (no repository, no docker provider, no Docker at deploy).
   * @default - the bundled service (`serviceDirectory()`), built for linux/amd64 by the docker provider at deploy, pushed to an Artifact Registry repository (`repository` or `existingRepository`) and run by its digest
   */
  readonly image?: string;
  /**
   * The Artifact Registry Docker repository the construct creates for the image it builds (without
   * `image` and `existingRepository`).
   * @default - `<serviceName>-images` in `region`: immutable tags, a cleanup policy keeping the 10 most recent versions, `artifactregistry.googleapis.com` enabled
   */
  readonly repository?: TboArtifactRegistryOptions;
  /**
   * An Artifact Registry Docker repository of yours to push the built image to (without `image`):
   * `projects/PROJECT/locations/LOCATION/repositories/REPOSITORY`, a literal or a reference Terraform
   * knows when it plans (the docker provider logs in to `LOCATION-docker.pkg.dev` before anything is
   * created). In another project, grant this project's Cloud Run service agent Artifact Registry
   * Reader on it.
   * @default - a repository the construct creates (`repository`)
   */
  readonly existingRepository?: string;
  /**
   * A docker provider of yours to build and push the image with (without `image`), e.g. one with a
   * remote `host`; its `registry_auth` must cover `<location>-docker.pkg.dev`.
   * @default - a docker provider the construct adds (aliased `tbo_<12 hex>`), logging in with the access token of `google_client_config`
   */
  readonly dockerProvider?: DockerProvider;
  /** Project of every resource. @default - the provider's project */
  readonly project?: string;
  /** Region of the service, subnet and Redis. @default - the provider's region (read with `google_client_config`) */
  readonly region?: string;
  /**
   * Cloud Run service name (1 to 49 lowercase letters, digits or hyphens); every other name
   * derives from it: the secrets (`<serviceName>-anthropic-api-key`, …), the service account
   * (`<serviceName>-run`), the network (`<serviceName>-vpc`, `-egress`), the Memorystore instance
   * (`<serviceName>-cache`), the collectors' config secrets (`<serviceName>-gmp-config`,
   * `-otel-config`), the export bucket (`<serviceName>-rdb-<8 hex>`), the alert
   * policies (`<serviceName> TBOHighLatency`, …) and the `service` field of the logs
   * (`TBO_SERVICE_NAME`, unless `config.serviceName` is set). Set `'tbo-service'` to keep the names
   * of a deployment made before this default existed.
   * @default - unique to this construct in the app and stable across synths: the stack id and construct path, shortened, plus 6 hex digits of its address (e.g. `tbo-gcp-tbo-1a2b3c`; at most 26 characters, so every derived name fits)
   */
  readonly serviceName?: string;
  /**
   * The service's tunable settings, rendered to env vars by the shared contract. The routing tiers
   * (`modelsFast`, `modelsBalanced`, `modelsStrongest`: `backend:model` lists) decide which backends the
   * deployment provisions for: the Anthropic key secret for `anthropic:`, Vertex AI access for `vertex:`
   * and `vertex-openai:`.
   * @default - the service's defaults
   */
  readonly config?: TboServiceConfig;
  /**
   * Vertex AI for the `vertex:` and `vertex-openai:` routes: location (`TBO_VERTEX_REGION`), project
   * (`TBO_VERTEX_PROJECT`) and the role the service account gets there. Applies only when a route uses
   * Vertex AI; then the construct also enables `aiplatform.googleapis.com`.
   * @default - location 'global', the construct's project, a custom role with only aiplatform.endpoints.predict
   */
  readonly vertex?: TboVertexOptions;
  /** Minimum instances kept warm. @default 2 */
  readonly minInstances?: number;
  /** Maximum instances. @default 100 */
  readonly maxInstances?: number;
  /**
   * Maximum concurrent requests Cloud Run sends one instance (`max_instance_request_concurrency`,
   * 1 to 1000); Cloud Run adds instances when the average reaches 60 % of it. Keep it at or below
   * `config.maxConcurrentRequests` (`TBO_MAX_CONCURRENT_REQUESTS`, 500 by default), so requests wait
   * in Cloud Run's queue, which scales out, rather than in TBO's lanes, which Cloud Run cannot see;
   * a larger value draws a synth warning.
   * @default 100
   */
  readonly maxConcurrency?: number;
  /** vCPUs per instance (1, 2, 4, 6 or 8); CPU is always allocated (`cpu_idle = false`) with startup boost. @default 1 */
  readonly cpu?: number;
  /** Memory per instance in MiB; must cover what the service needs and fit the CPU count. @default 2048 */
  readonly memoryMiB?: number;
  /** Cloud Run request timeout in seconds (1 to 3600). @default - the service's `upstreamTimeout` rounded up (600), at most 3600 */
  readonly requestTimeoutSeconds?: number;
  /** Network ingress. @default 'INGRESS_TRAFFIC_ALL' */
  readonly ingress?: TboCloudRunIngress;
  /** Grant `roles/run.invoker` to `allUsers` (the SDKs' credential header is TBO's, so Cloud Run IAM cannot check it); TBO's own auth is then required. @default true */
  readonly public?: boolean;
  /** Terraform deletion protection of the Cloud Run service and of the secrets this construct creates. @default true */
  readonly deletionProtection?: boolean;
  /**
   * Ignore image (and client) changes made outside Terraform, so a CI that deploys images and Terraform
   * do not fight. With the built image, Cloud Run then stays on the first digest pushed (a synth
   * warning says so).
   * @default false
   */
  readonly ignoreImageChanges?: boolean;
  /**
   * Create the Cloud Run service. `false` deploys everything else (secrets, grants, network, the image,
   * Redis), so the secrets can be filled before the first revision starts: the optional two-deploy
   * path, needed only with `secretPlaceholders: false` (Cloud Run rejects a revision whose secret has
   * no version).
   * @default true
   */
  readonly createService?: boolean;
  /**
   * Give each secret this construct creates for you to fill (the provider keys, `TBO_API_KEYS`,
   * `JWT_SECRET_KEY`) a first version holding a placeholder, so the first `cdktf deploy` brings up a
   * revision that starts; then replace the placeholders with `gcloud secrets versions add` (the
   * `<id>_secret_commands` output) and roll the service (`<id>_rollout_command`).
   *
   * Each placeholder is `unset:fill-with-gcloud:` and a random UUID Terraform makes at apply, written
   * through the write-only `secret_data_wo` (Terraform ≥ 1.11): neither the placeholder nor any
   * credential enters Terraform state or the synthesized configuration. The service starts with
   * them; upstream calls are refused by the provider (TBO answers 401 "the operator must set a valid
   * ANTHROPIC_API_KEY"), and no client credential matches (nobody knows the UUIDs).
   *
   * Set `false` for a deployment whose secrets already have versions (one made before this prop
   * existed): a new placeholder would become the `latest` version that new instances read.
   * @default true
   */
  readonly secretPlaceholders?: boolean;
  /** Account id of the service's dedicated service account (6 to 30 characters). @default - `<serviceName>-run` */
  readonly serviceAccountId?: string;
  /** The credentials TBO accepts from clients (`TBO_API_KEYS`, `JWT_SECRET_KEY`); one secret each. @default ['apiKeys', 'jwtSecretKey'] */
  readonly clientCredentials?: readonly TboClientCredential[];
  /**
   * Create (and inject) the Anthropic API key secret (`ANTHROPIC_API_KEY`). Without it, `anthropic:`
   * routes are refused at synth, and the endpoints only the public API serves (`/v1/models`, message
   * batches) answer that the service has no upstream; Claude routed to `vertex:` needs no key.
   * @default - true when a route uses `anthropic:` (the service's default routes do) or `existingAnthropicApiKeySecret` is set
   */
  readonly anthropicApiKey?: boolean;
  /** Also create (and inject) an OpenAI API key secret. @default false (true when `existingOpenaiApiKeySecret` is set) */
  readonly openaiApiKey?: boolean;
  /** Existing secret (id or `projects/P/secrets/S`) with the Anthropic API key. @default - a new secret `<serviceName>-anthropic-api-key`, with a placeholder version (see `secretPlaceholders`), when `anthropicApiKey` */
  readonly existingAnthropicApiKeySecret?: string;
  /**
   * Existing secret (id or `projects/P/secrets/S`) holding a Sentry DSN, injected as `SENTRY_DSN`:
   * internal errors and crashes are reported there, scrubbed of prompts, credentials and key
   * headers. The service account gets read access to that secret only.
   * @default - none: no error reporting
   */
  readonly existingSentryDsnSecret?: string;
  /** Existing secret with the OpenAI API key. @default - a new secret `<serviceName>-openai-api-key` when `openaiApiKey` is true */
  readonly existingOpenaiApiKeySecret?: string;
  /** Existing secret with the client API keys (`tenant:key,…`). @default - a new secret `<serviceName>-api-keys` when `clientCredentials` has 'apiKeys' */
  readonly existingApiKeysSecret?: string;
  /** Existing secret with the JWT HS256 key (32+ characters). @default - a new secret `<serviceName>-jwt-secret-key` when `clientCredentials` has 'jwtSecretKey' */
  readonly existingJwtSecretKeySecret?: string;
  /**
   * Existing secret with the HMAC key that authenticates the cache entries this service writes to
   * Redis (`TBO_CACHE_SIGNING_KEY`, 32+ characters). Share one between deployments only if they
   * should trust each other's entries.
   * @default - a new secret `<serviceName>-cache-signing-key` whose version is a generated 64-character key (`random_password`; Terraform state holds it)
   */
  readonly existingCacheSigningKeySecret?: string;
  /**
   * Existing secret with admin credentials (`TBO_ADMIN_KEYS`: comma-separated, 16+ characters
   * each), which see the all-tenant `GET /v1/performance` and nothing else.
   * @default - none: no admin credential, every caller sees its own tenant's view only
   */
  readonly existingAdminKeysSecret?: string;
  /**
   * Prefix of every Redis key this deployment writes (`TBO_REDIS_KEY_PREFIX`), so deployments
   * sharing a Redis never read each other's cache, rate limits or sessions (1 to 64 of
   * `A-Z a-z 0-9 . _ -`). Set it to keep the keys when moving the construct to another path.
   * @default - `redisKeyPrefixFor(this.node.addr)`: `tbo-` and 12 hex digits unique to this construct in the app and stable across synths
   */
  readonly redisKeyPrefix?: string;
  /** Existing VPC network (`projects/P/global/networks/N` or self link) for direct VPC egress and Redis. @default - a new network `<serviceName>-vpc` when Redis is created */
  readonly existingNetwork?: string;
  /** Existing subnetwork (`projects/P/regions/R/subnetworks/S` or self link) in `region`, with `existingNetwork`. @default - a new subnetwork `<serviceName>-egress` */
  readonly existingSubnetwork?: string;
  /** IPv4 range of the created subnetwork; direct VPC egress needs two addresses per instance. @default '10.8.0.0/23' */
  readonly subnetCidr?: string;
  /**
   * Replication (and optionally CMEK) of every Secret Manager secret the construct creates (the
   * credentials, the AUTH string, the signing key, the collectors' configs): automatic, or the
   * regions you list. Immutable once a secret exists: set it before the first deploy.
   * @default - automatic replication, Google-managed encryption
   */
  readonly secretReplication?: TboSecretReplication;
  /** Memorystore for Redis overrides, or `false` for the in-memory cache only. @default - STANDARD_HA, 1 GiB, Redis 7.2, AUTH, TLS, RDB snapshots, direct peering, no exports */
  readonly redis?: false | TboMemorystoreOptions;
  /** A Redis the user already has, instead of a new Memorystore instance. @default - a new Memorystore instance */
  readonly existingRedis?: TboExistingRedis;
  /**
   * Cloud Monitoring alert policies for the guide's alert rules (`TBO_ALERT_RULES`), each a PromQL
   * condition over Managed Service for Prometheus that reads this service's series only
   * (`cluster="__run__"`, `namespace="<serviceName>"`), or `false` for none. They fire only if the
   * service's metrics reach Managed Service for Prometheus: set `managedPrometheus`, or scrape
   * `localhost:9464/metrics` (the admin port, which Cloud Run never routes to) with a collector
   * sidecar of your own.
   * @default - one policy per rule, evaluated every 60 s, without notification channels
   */
  readonly alerts?: false | TboAlertPolicyOptions;
  /**
   * Run Google's Managed Service for Prometheus collector as a sidecar that scrapes the service's
   * `/metrics` on its admin port, `localhost:9464` (1 vCPU / 512 MiB more per instance, a config secret, and `roles/monitoring.metricWriter`
   * on the project for the service account).
   * @default false
   */
  readonly managedPrometheus?: boolean | TboManagedPrometheusOptions;
  /**
   * OpenTelemetry traces of every request (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME` = the
   * service name the logs carry, `OTEL_TRACES_SAMPLER=parentbased_traceidratio` at
   * `samplingRatio`): to an existing collector (`otlpEndpoint`; a private address is reached over
   * the VPC, which exists with Redis or `existingNetwork`), or to Cloud Trace through Google's
   * collector as a sidecar (`collectorSidecar`). Prompt and completion text stay off spans unless
   * `config.traceContent`.
   * @default - no tracing
   */
  readonly tracing?: TboCloudRunTracingOptions;
}
