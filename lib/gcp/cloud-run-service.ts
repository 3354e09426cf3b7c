import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import type { Password } from '@cdktf/provider-random/lib/password';
import { Annotations, TerraformOutput, TerraformStack, Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ADMIN_PORT, PROBE_PATHS, REDIS_BACKUP_ENV, SETTINGS, redisKeyPrefixFor, renderEnvironment, tracingEnvironment, type RedisEndpoint } from '../core';
import { resolveAlertOptions, resolveManagedPrometheus, TboAlertPolicies, TboManagedPrometheus } from './alerts';
import { TboMemorystoreExport } from './backup';
import { tboContainer } from './container';
import { TboCloudRunImage } from './image';
import { defaultServiceName } from './naming';
import { TboNetwork } from './network';
import type { TboCloudRunServiceProps } from './props';
import { cacheSigningKeyPassword } from './random';
import { TboMemorystoreRedis } from './redis';
import { TboSecret, type TboSecretSetting } from './secret';
import { OTEL_COLLECTOR_CONTAINER_NAME, TboTraceCollector } from './telemetry';
import { resolveCloudRunProps, type ResolvedCloudRunProps } from './validate';
import { TboVertexAccess } from './vertex';

/** The role that lets anyone reach the service (TBO's own auth then decides). */
export const INVOKER_ROLE = 'roles/run.invoker';

/** The env var the rollout command sets (to the time) to start a new revision; the service ignores it. */
export const ROLLOUT_MARKER_ENV = 'TBO_SECRETS_UPDATED_AT';

const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** Suffix of each secret's id after `<serviceName>-`. */
export const SECRET_ID_SUFFIX: Readonly<Record<TboSecretSetting, string>> = {
  anthropicApiKey: 'anthropic-api-key',
  openaiApiKey: 'openai-api-key',
  apiKeys: 'api-keys',
  jwtSecretKey: 'jwt-secret-key',
  redisPassword: 'redis-auth',
  adminKeys: 'admin-keys',
  cacheSigningKey: 'cache-signing-key',
  sentryDsn: 'sentry-dsn',
};

/** The secrets the service reads, by setting. */
export interface TboServiceSecrets {
  /** `ANTHROPIC_API_KEY`, when a route uses `anthropic:` (or `anthropicApiKey` / `existingAnthropicApiKeySecret` asks for it). */
  readonly anthropicApiKey: TboSecret | undefined;
  /** `OPENAI_API_KEY`, with `openaiApiKey` or `existingOpenaiApiKeySecret`. */
  readonly openaiApiKey?: TboSecret;
  /** `TBO_API_KEYS`, when `clientCredentials` has 'apiKeys'. */
  readonly apiKeys?: TboSecret;
  /** `JWT_SECRET_KEY`, when `clientCredentials` has 'jwtSecretKey'. */
  readonly jwtSecretKey?: TboSecret;
  /** `REDIS_PASSWORD`: the Memorystore AUTH string, or `existingRedis.authSecret`. */
  readonly redisPassword?: TboSecret;
  /** `TBO_CACHE_SIGNING_KEY`: a generated key, or `existingCacheSigningKeySecret`. */
  readonly cacheSigningKey: TboSecret;
  /** `TBO_ADMIN_KEYS`, with `existingAdminKeysSecret`. */
  readonly adminKeys?: TboSecret;
  /** `SENTRY_DSN`, with `existingSentryDsnSecret`. */
  readonly sentryDsn?: TboSecret;
}

/**
 * The TBO gateway on Cloud Run (v2): min 2 / max 100 instances, 100 concurrent requests each, CPU
 * always allocated with startup boost, 1 vCPU / 2 GiB, a startup probe on the readiness path and a
 * liveness probe on the liveness path, env from the shared contract, all traffic on the latest
 * revision. It runs as a dedicated service account that may read its own secrets and nothing else,
 * reaches a Memorystore for Redis (AUTH + TLS) over direct VPC egress, and is public with TBO's
 * own client auth required.
 *
 * Many instances: every name it creates derives from `serviceName`, which defaults to a name
 * unique to the construct's path (e.g. `tbo-gcp-tbo-1a2b3c`), and its Redis keys start with a
 * prefix unique to it (`TBO_REDIS_KEY_PREFIX`, from its address, or `redisKeyPrefix`), so several
 * instances share a project, a network or a Redis without colliding; each one's alert policies
 * read its own series only.
 *
 * First deploy, in one step: each secret you fill (provider keys, `TBO_API_KEYS`,
 * `JWT_SECRET_KEY`) is created with a placeholder first version (`secretPlaceholders`, written
 * through Terraform's write-only `secret_data_wo`: Terraform ≥ 1.11, nothing in state), so
 * `cdktf deploy` creates a service whose revision starts. Until you fill them the service answers
 * every client 401 (no client credential matches a placeholder) and upstream calls fail with the
 * provider's 401, which TBO reports as "the operator must set a valid ANTHROPIC_API_KEY";
 * `/health/details` (admin port) reports the upstream check failing. Then:
 * 1. run the commands in the `<id>_secret_commands` output (each reads the env var of the same
 *    name and adds the secret's next version, which `latest` then reads);
 * 2. run the `<id>_rollout_command` output: a new revision, whose instances read the filled values
 *    (running instances keep what they read at start; the next `cdktf deploy` removes the marker
 *    variable that command sets, one more revision with the same secrets).
 * The optional path without a placeholder-backed revision: deploy with `createService: false`,
 * fill the secrets, deploy again. Terraform state holds two secret values: the Memorystore AUTH
 * string and the cache signing key (`TBO_CACHE_SIGNING_KEY`, the HMAC key that authenticates cache
 * entries in Redis), which the construct generates (`random_password`, 64 letters and digits)
 * into `<serviceName>-cache-signing-key` unless `existingCacheSigningKeySecret` is given. Protect
 * the state accordingly.
 *
 * Concurrency: Cloud Run sends an instance at most `maxConcurrency` requests (100) and adds
 * instances when the average reaches 60 % of that (60); TBO's lanes allow
 * `config.maxConcurrentRequests` upstream calls per instance (500, `TBO_MAX_CONCURRENT_REQUESTS`),
 * so with the defaults Cloud Run's limit binds first and TBO's queue stays empty; a larger
 * `maxConcurrency` than `config.maxConcurrentRequests` draws a synth warning.
 *
 * Deploys and scale-in: a new revision takes new requests once it is ready; requests in flight on
 * the old revision's instances (streams included) run on, up to the request timeout
 * (`requestTimeoutSeconds`, the upstream timeout: 600 s): Cloud Run sends SIGTERM primarily to
 * instances that no longer get requests, after a deploy and on scale-in alike, and SIGKILL 10 s
 * later; the service drains for `config.drainTimeout` (9 s by default, at most 9: validated) and
 * closes what is still open. Only an instance stopped while busy (a host event, a failed liveness
 * probe) loses its streams, after those 9 s.
 *
 * Ports: Cloud Run routes one container port, the public port (`SERVICE_PORT`, 8000), which the
 * probes use too. The admin listener (`/metrics`, `/health/details`) runs on `ADMIN_PORT` (9464)
 * inside the instance and is reachable only from the instance's other containers; the public
 * port answers 404 for those paths.
 *
 * Alerting: one Cloud Monitoring alert policy per rule of the guide (`TBO_ALERT_RULES`, the
 * PromQL of ops/prometheus/tbo-rules.yml narrowed to this service's series: `cluster="__run__"`,
 * `namespace="<serviceName>"`). PromQL conditions read Google Cloud Managed Service for
 * Prometheus, and Cloud Run metrics get there only when something scrapes them: set
 * `managedPrometheus: true` to run Google's collector sidecar next to the service (it scrapes
 * `localhost:9464/metrics`, the admin port, and writes those two labels), or run a collector
 * sidecar of your own that writes the same labels; otherwise the policies never fire.
 *
 * Vertex AI: when a route uses `vertex:` (Claude) or `vertex-openai:` (Gemini), the construct
 * enables `aiplatform.googleapis.com`, grants the service account a role that can call the models
 * (by default a custom role holding only `aiplatform.endpoints.predict`) on the Vertex AI project, and
 * sets `TBO_VERTEX_REGION` and `TBO_VERTEX_PROJECT`; the service authenticates as its account through
 * the metadata server, with no key. The Anthropic key secret exists only when a route uses
 * `anthropic:` (or `anthropicApiKey` asks for it). Someone must still enable each Claude model in
 * Model Garden (accepting Anthropic's terms) once per project.
 *
 * The image: without `image`, the construct builds the bundled service (`serviceDirectory()`) for
 * linux/amd64 with Terraform's docker provider during `cdktf deploy` (a Docker daemon is needed then,
 * never at synth), pushes it to an Artifact Registry Docker repository it creates
 * (`<serviceName>-images`: immutable tags, a cleanup policy keeping the 10 most recent versions;
 * or `existingRepository`), and runs it by digest. It rebuilds and pushes only when the service's
 * build context changed (a content hash computed at synth). The push logs in with the deployer's
 * Google access token; Cloud Run's service agent pulls from a repository of its own project without
 * any grant. With `image`, none of that is created.
 *
 * Backups: Memorystore's RDB persistence is always on; `redis.export` adds a private Cloud Storage
 * bucket for RDB exports, the instance identity's grants on it and the exact export / import
 * commands as outputs (Memorystore for Redis instances have no managed backups). `secretReplication`
 * sets where (and with which keys) every secret the construct creates is replicated. Outputs
 * `<id>_service_name`, `<id>_region` and `<id>_redis_instance` name what the runbook's commands act on.
 *
 * Observability: `tracing` sends OpenTelemetry traces to a collector of yours or, through Google's
 * collector as a sidecar, to Cloud Trace; `config.prometheusGateway` pushes the metrics to a
 * Pushgateway; `existingSentryDsnSecret` reports internal errors to Sentry.
 *
 * The project needs the run, secretmanager, redis, compute and iam APIs enabled (and monitoring
 * for the alert policies and the collector, cloudtrace for the trace collector, storage for the
 * export bucket); the construct enables artifactregistry when it creates the repository.
 *
 * @example
 * new TboCloudRunService(stack, 'tbo', {
 *   region: 'europe-west1',
 *   config: { optimizationLevel: 'speed' },
 * });
 */
export class TboCloudRunService extends Construct {
  /** The Cloud Run service. @default - undefined with `createService: false` */
  readonly service?: CloudRunV2Service;
  /** The `allUsers` → `roles/run.invoker` binding. @default - undefined unless `public` (and the service exists) */
  readonly invokerBinding?: CloudRunV2ServiceIamMember;
  /** The service's dedicated identity (never the default compute service account). */
  readonly serviceAccount: ServiceAccount;
  /** The secrets the service reads, each with its own accessor grant. */
  readonly secrets: TboServiceSecrets;
  /** The direct VPC egress network. @default - undefined with `redis: false` or `existingRedis` and no `existingNetwork` */
  readonly network?: TboNetwork;
  /** The Memorystore instance and its AUTH secret. @default - undefined with `redis: false` or `existingRedis` */
  readonly redis?: TboMemorystoreRedis;
  /** Where the service finds Redis. @default - undefined: in-memory cache only */
  readonly redisEndpoint?: RedisEndpoint;
  /** The provider's configuration, read only when `region` is not given, or when Vertex AI routes need the provider's project. */
  readonly clientConfig?: DataGoogleClientConfig;
  /** The Vertex AI API enablement and the grant that lets the service account call the models. @default - undefined unless a route uses `vertex:` or `vertex-openai:` */
  readonly vertexAccess?: TboVertexAccess;
  /** The plain env vars of the container, as rendered by the shared contract. */
  readonly environment: Readonly<Record<string, string>>;
  /** Prefix of every Redis key of this deployment (`TBO_REDIS_KEY_PREFIX`). */
  readonly redisKeyPrefix: string;
  /** The generated cache-signing key (`random_password`; Terraform state holds it). @default - undefined with `existingCacheSigningKeySecret` */
  readonly cacheSigningKeyValue?: Password;
  /** The service URL. @default - undefined with `createService: false` */
  readonly url?: string;
  /** Terraform output `<id>_url`. */
  readonly urlOutput?: TerraformOutput;
  /** Terraform output `<id>_secret_commands`: env var → the command that adds its secret's next version (the user's value). */
  readonly secretCommandsOutput?: TerraformOutput;
  /** Terraform output `<id>_rollout_command`: starts a new revision, whose instances read the secrets' latest versions. @default - undefined with `createService: false` or no secret to fill */
  readonly rolloutCommandOutput?: TerraformOutput;
  /** The props with their defaults applied. */
  readonly resolvedProps: ResolvedCloudRunProps;
  /** The Cloud Monitoring alert policies, one per alert rule. @default - undefined with `alerts: false` */
  readonly alerts?: TboAlertPolicies;
  /** The Managed Service for Prometheus collector's configuration and grants. @default - undefined unless `managedPrometheus` */
  readonly managedPrometheus?: TboManagedPrometheus;
  /** The OpenTelemetry collector sidecar's configuration and grants. @default - undefined unless `tracing.collectorSidecar` */
  readonly traceCollector?: TboTraceCollector;
  /** The Cloud Storage bucket for RDB exports, the instance's grants on it, and the commands. @default - undefined unless `redis.export` */
  readonly redisExport?: TboMemorystoreExport;
  /** Terraform output `<id>_service_name`: the Cloud Run service name (`serviceName`). */
  readonly serviceNameOutput: TerraformOutput;
  /** Terraform output `<id>_region`: the region of the service and Redis. */
  readonly regionOutput: TerraformOutput;
  /** Terraform output `<id>_redis_instance`: the Memorystore instance name. @default - undefined unless the construct creates Memorystore */
  readonly redisInstanceOutput?: TerraformOutput;
  /** Terraform output `<id>_backup_bucket`: the bucket of the RDB exports. @default - undefined unless `redis.export` */
  readonly backupBucketOutput?: TerraformOutput;
  /** Terraform output `<id>_redis_export_command`. @default - undefined unless `redis.export` */
  readonly redisExportCommandOutput?: TerraformOutput;
  /** Terraform output `<id>_redis_import_command`. @default - undefined unless `redis.export` */
  readonly redisImportCommandOutput?: TerraformOutput;
  /**
   * The bundled service image: the Artifact Registry repository (unless `existingRepository`), the
   * docker provider (unless `dockerProvider`), the build and the push.
   * @default - undefined with `image`
   */
  readonly imageBuild?: TboCloudRunImage;
  /** The image the service runs: `image`, or the built image by digest (`<region>-docker.pkg.dev/<project>/<repository>/tbo-service@sha256:…`). */
  readonly imageUri: string;

  constructor(scope: Construct, id: string, props: TboCloudRunServiceProps) {
    super(scope, id);
    const p = resolveCloudRunProps(props, redisKeyPrefixFor(this.node.addr), defaultServiceName(this));
    this.resolvedProps = p;
    const alertOptions = resolveAlertOptions(props.alerts);
    const gmp = resolveManagedPrometheus(props.managedPrometheus, p.config);

    if (p.region === undefined) this.clientConfig = new DataGoogleClientConfig(this, 'ClientConfig');
    const region = p.region ?? this.clientConfig!.region;

    // The image: the one given, or the bundled service built and pushed to Artifact Registry.
    if (p.imageBuild) {
      this.imageBuild = new TboCloudRunImage(this, 'Image', {
        build: p.imageBuild,
        project: p.project,
        region,
        serviceName: p.serviceName,
        // The construct's docker provider pushes with the deployer's access token.
        accessToken: p.imageBuild.dockerProvider ? undefined : (this.clientConfig ??= new DataGoogleClientConfig(this, 'ClientConfig')).accessToken,
      });
      if (p.ignoreImageChanges) {
        Annotations.of(this).addWarning('ignoreImageChanges: Cloud Run keeps the first image pushed; later builds are pushed but never deployed. Remove it, or give image and deploy images yourself');
      }
    }
    this.imageUri = p.image ?? this.imageBuild!.imageUri;

    this.serviceAccount = new ServiceAccount(this, 'ServiceAccount', {
      project: p.project,
      accountId: p.serviceAccountId,
      displayName: `TBO service ${p.serviceName} (Cloud Run)`,
      description: 'Runs the TBO gateway; may read its own Secret Manager secrets only.',
    });
    const accessor = `serviceAccount:${this.serviceAccount.email}`;

    const secret = (setting: TboSecretSetting, construct: string, existing: string | undefined, value?: string): TboSecret =>
      new TboSecret(this, construct, {
        setting,
        secretId: `${p.serviceName}-${SECRET_ID_SUFFIX[setting]}`,
        existing,
        project: p.project,
        accessor,
        value,
        deletionProtection: p.deletionProtection,
        replication: p.secretReplication,
        placeholder: p.secretPlaceholders && existing === undefined && value === undefined,
      });

    // Redis: a new Memorystore instance on a network (given or created), a Redis the user has, or none.
    let redisPassword: TboSecret | undefined;
    if (p.redis || p.existingNetwork !== undefined) {
      this.network = new TboNetwork(this, 'Network', {
        name: p.serviceName,
        project: p.project,
        region,
        subnetCidr: p.subnetCidr,
        existingNetwork: p.existingNetwork,
        existingSubnetwork: p.existingSubnetwork,
      });
    }
    if (p.redis) {
      this.redis = new TboMemorystoreRedis(this, 'Redis', {
        options: p.redis,
        project: p.project,
        region,
        networkRef: this.network!.networkRef,
        authSecretId: `${p.serviceName}-${SECRET_ID_SUFFIX.redisPassword}`,
        accessor,
        deletionProtection: p.deletionProtection,
        replication: p.secretReplication,
      });
      this.redisEndpoint = this.redis.endpoint;
      redisPassword = this.redis.authSecret;
    } else if (p.existingRedis) {
      const { authSecret, ...endpoint } = p.existingRedis;
      this.redisEndpoint = endpoint;
      if (authSecret !== undefined) redisPassword = secret('redisPassword', 'RedisPassword', authSecret);
    }

    // The cache-signing key: generated unless the user brings a secret (Cloud Run needs a version to start).
    if (p.existingCacheSigningKeySecret === undefined) this.cacheSigningKeyValue = cacheSigningKeyPassword(this, 'CacheSigningKeyValue');
    this.secrets = {
      anthropicApiKey: p.anthropicApiKey ? secret('anthropicApiKey', 'AnthropicApiKey', p.existingAnthropicApiKeySecret) : undefined,
      openaiApiKey: p.openaiApiKey ? secret('openaiApiKey', 'OpenaiApiKey', p.existingOpenaiApiKeySecret) : undefined,
      apiKeys: p.clientCredentials.includes('apiKeys') ? secret('apiKeys', 'ApiKeys', p.existingApiKeysSecret) : undefined,
      jwtSecretKey: p.clientCredentials.includes('jwtSecretKey') ? secret('jwtSecretKey', 'JwtSecretKey', p.existingJwtSecretKeySecret) : undefined,
      redisPassword,
      cacheSigningKey: secret('cacheSigningKey', 'CacheSigningKey', p.existingCacheSigningKeySecret, this.cacheSigningKeyValue?.result),
      adminKeys: p.existingAdminKeysSecret !== undefined ? secret('adminKeys', 'AdminKeys', p.existingAdminKeysSecret) : undefined,
      sentryDsn: p.existingSentryDsnSecret !== undefined ? secret('sentryDsn', 'SentryDsn', p.existingSentryDsnSecret) : undefined,
    };
    const secrets = Object.values(this.secrets).filter((s): s is TboSecret => s !== undefined);

    this.redisKeyPrefix = p.redisKeyPrefix;
    const environment = renderEnvironment(p.deployedConfig, this.redisEndpoint, { redisKeyPrefix: this.redisKeyPrefix, memoryBytes: p.memoryMiB * 1024 ** 2 });

    // Vertex AI: the API, the grant, and (when only the provider knows the project) TBO_VERTEX_PROJECT from it.
    if (p.vertex) {
      const project = p.vertex.project ?? p.project ?? (this.clientConfig ??= new DataGoogleClientConfig(this, 'ClientConfig')).project;
      this.vertexAccess = new TboVertexAccess(this, 'VertexAccess', { access: p.vertex, project, member: accessor, serviceName: p.serviceName });
      // Deploy-time values (a Terraform variable, the provider's project) cannot go through the config schema.
      if (Token.isUnresolved(p.vertex.region)) environment[SETTINGS.vertexRegion.env] = p.vertex.region;
      environment[SETTINGS.vertexProject.env] ??= project;
    } else if (props.vertex !== undefined) {
      Annotations.of(this).addWarning('vertex: no route uses vertex: or vertex-openai: (config.modelsFast, modelsBalanced, modelsStrongest), so nothing is granted or enabled; route models to vertex, or remove vertex');
    }
    // Traces: the standard OTEL_* variables, to the existing collector or the sidecar on localhost.
    if (p.tracing) Object.assign(environment, tracingEnvironment(p.config.serviceName, p.tracing.endpoint, p.tracing.samplingRatio));
    this.environment = environment;
    const outputPrefix = logicalIdPrefix(this);
    const output = (id: string, name: string, value: string, description: string): TerraformOutput => {
      const out = new TerraformOutput(this, id, { value, description });
      out.overrideLogicalId(`${outputPrefix}_${name}`);
      return out;
    };

    this.serviceNameOutput = output('ServiceName', 'service_name', p.serviceName, 'Cloud Run service name (gcloud run services … NAME)');
    this.regionOutput = output('Region', 'region', region, 'Region of the Cloud Run service and the Memorystore instance (--region)');
    if (this.redis) {
      this.redisInstanceOutput = output('RedisInstance', 'redis_instance', this.redis.instance.name, 'Memorystore for Redis instance name (gcloud redis instances … NAME --region=REGION)');
      if (p.redisExport) {
        this.redisExport = new TboMemorystoreExport(this, 'RedisExport', {
          options: p.redisExport,
          instance: this.redis.instance,
          instanceName: p.redis!.name,
          project: p.project,
          // The provider's project is known when Terraform plans: the bucket's name can derive from it.
          projectRef: p.project ?? (this.clientConfig ??= new DataGoogleClientConfig(this, 'ClientConfig')).project,
          region,
          serviceName: p.serviceName,
          deletionProtection: p.deletionProtection,
        });
        this.backupBucketOutput = output('BackupBucket', 'backup_bucket', this.redisExport.bucketName, 'Cloud Storage bucket of the Redis RDB exports (under <instance name>/)');
        this.redisExportCommandOutput = output('RedisExportCommand', 'redis_export_command', this.redisExport.exportCommand,
          'Exports the Redis data now to a new timestamped RDB file in the backup bucket (the instance keeps serving)');
        this.redisImportCommandOutput = output('RedisImportCommand', 'redis_import_command', this.redisExport.importCommand,
          `Replaces ALL the Redis data with the RDB file named by ${REDIS_BACKUP_ENV.restoreFrom} (a file name under <instance name>/ in the backup bucket: gcloud storage ls); the instance is unavailable until it finishes`);
      }
    }

    if (p.tracing?.collectorSidecar) {
      this.traceCollector = new TboTraceCollector(this, 'TraceCollector', {
        ...p.tracing.collectorSidecar,
        project: p.project,
        serviceName: p.serviceName,
        accessor,
        deletionProtection: p.deletionProtection,
        replication: p.secretReplication,
      });
    }

    if (gmp) {
      this.managedPrometheus = new TboManagedPrometheus(this, 'ManagedPrometheus', {
        ...gmp,
        project: p.project,
        serviceName: p.serviceName,
        accessor,
        deletionProtection: p.deletionProtection,
        replication: p.secretReplication,
      });
    }
    if (alertOptions) {
      this.alerts = new TboAlertPolicies(this, 'Alerts', { ...alertOptions, project: p.project, serviceName: p.serviceName });
      if (!gmp) {
        Annotations.of(this).addWarning(
          `alert policies read Managed Service for Prometheus, which gets the service's metrics only from a collector: set managedPrometheus: true (or scrape localhost:${ADMIN_PORT}${PROBE_PATHS.metrics}, the admin port, with a collector sidecar of your own), or alerts: false`,
        );
      }
    }

    if (known(p.maxConcurrency) && p.maxConcurrency > p.config.maxConcurrentRequests) {
      Annotations.of(this).addWarning(
        `maxConcurrency ${p.maxConcurrency} exceeds config.maxConcurrentRequests ${p.config.maxConcurrentRequests} (TBO_MAX_CONCURRENT_REQUESTS): requests beyond ${p.config.maxConcurrentRequests} per instance wait in TBO's lanes, where Cloud Run's autoscaler does not see them; lower maxConcurrency or raise config.maxConcurrentRequests`,
      );
    }

    const commands = Object.fromEntries(secrets.filter((s) => s.fillCommand).map((s) => [s.env, s.fillCommand!]));
    if (Object.keys(commands).length > 0) {
      this.secretCommandsOutput = new TerraformOutput(this, 'SecretCommands', {
        value: commands,
        description: 'Add each secret\'s value as its next version, over the placeholder (reads the env var of the same name; nothing enters Terraform state)',
      });
      this.secretCommandsOutput.overrideLogicalId(`${outputPrefix}_secret_commands`);
    }

    if (!p.createService) return;

    // The revision reads its secrets at start: grants and versions (placeholders included) must exist first.
    const prerequisites: ITerraformDependable[] = secrets.flatMap((s) => [s.accessorGrant, ...(s.version ? [s.version] : []), ...(s.placeholderVersion ? [s.placeholderVersion] : [])]);
    prerequisites.push(...(this.managedPrometheus?.prerequisites ?? []), ...(this.traceCollector?.prerequisites ?? []), ...(this.vertexAccess?.prerequisites ?? []));
    const gateway = tboContainer({ image: this.imageUri, environment: this.environment, secrets, config: p.config, cpu: p.cpu, memoryMiB: p.memoryMiB });
    // With the trace collector, the gateway starts once the collector is healthy, so its first spans find a receiver.
    const main = this.traceCollector ? { ...gateway, dependsOn: [OTEL_COLLECTOR_CONTAINER_NAME] } : gateway;
    const sidecars = [...(this.traceCollector ? [this.traceCollector.container()] : []), ...(this.managedPrometheus ? [this.managedPrometheus.container(main.name!)] : [])];
    const volumes = [...(this.traceCollector ? [this.traceCollector.volume] : []), ...(this.managedPrometheus ? [this.managedPrometheus.volume] : [])];
    this.service = new CloudRunV2Service(this, 'Service', {
      project: p.project,
      name: p.serviceName,
      location: region,
      ingress: p.ingress,
      deletionProtection: p.deletionProtection,
      template: {
        serviceAccount: this.serviceAccount.email,
        executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
        scaling: { minInstanceCount: p.minInstances, maxInstanceCount: p.maxInstances },
        maxInstanceRequestConcurrency: p.maxConcurrency,
        timeout: `${p.requestTimeoutSeconds}s`,
        vpcAccess: this.network
          ? { networkInterfaces: [{ network: this.network.networkRef, subnetwork: this.network.subnetworkRef }], egress: 'PRIVATE_RANGES_ONLY' }
          : undefined,
        containers: [main, ...sidecars],
        volumes: volumes.length ? volumes : undefined,
      },
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
      dependsOn: prerequisites,
      lifecycle: p.ignoreImageChanges ? { ignoreChanges: ['template[0].containers[0].image', 'client', 'client_version'] } : undefined,
    });
    this.url = this.service.uri;

    if (p.public) {
      this.invokerBinding = new CloudRunV2ServiceIamMember(this, 'PublicInvoker', {
        project: p.project,
        location: this.service.location,
        name: this.service.name,
        role: INVOKER_ROLE,
        member: 'allUsers',
      });
    }

    this.urlOutput = new TerraformOutput(this, 'Url', { value: this.service.uri, description: 'TBO gateway base URL (Anthropic SDK baseURL; append /v1 for the OpenAI SDK)' });
    this.urlOutput.overrideLogicalId(`${outputPrefix}_url`);

    if (this.secretCommandsOutput) {
      // Instances read `latest` when they start: a new revision moves every instance onto the filled values.
      const project = p.project ?? this.service.project;
      this.rolloutCommandOutput = new TerraformOutput(this, 'RolloutCommand', {
        value: `gcloud run services update ${this.service.name} --region=${this.service.location} --project=${project} --container=${main.name} --update-env-vars=${ROLLOUT_MARKER_ENV}=$(date +%s)`,
        description: 'After filling secrets: start a new revision that reads their latest versions (the next cdktf deploy removes the marker variable again)',
      });
      this.rolloutCommandOutput.overrideLogicalId(`${outputPrefix}_rollout_command`);
    }
  }
}

/** `a_b` for a construct at `stack/a/b`: output names users can type, unique within the stack. */
function logicalIdPrefix(construct: Construct): string {
  const stack = TerraformStack.of(construct);
  const scopes = construct.node.scopes;
  const path = scopes.slice(scopes.indexOf(stack) + 1).map((c) => c.node.id);
  return path.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}
