import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { optionalEnv, settingFromEnv } from './env';
import type { TboServiceConfig } from '../lib/core';
import { TboCloudRunService, type TboCloudRunServiceProps } from '../lib/gcp';

/** Placeholders synthesized when the environment does not say; `cdktf deploy` with them fails at GCP. */
export const GCP_PLACEHOLDERS = {
  project: 'replace-with-your-gcp-project',
  region: 'replace-with-your-gcp-region',
} as const;

/**
 * Where the example's models are served: `public`, the service's default routes (the Anthropic and
 * OpenAI APIs, with keys in Secret Manager); `vertex`, every route on Vertex AI with the service
 * account's own identity ({@link VERTEX_ROUTES}), no model key at all.
 */
export const GCP_EXAMPLE_BACKENDS = ['public', 'vertex'] as const;
export type GcpExampleBackend = (typeof GCP_EXAMPLE_BACKENDS)[number];

/**
 * The routing tiers of the `vertex` variant, in the shape of the service's defaults: Claude through
 * Vertex AI for the Anthropic SDK, and a Gemini model of the same tier through Vertex AI's
 * OpenAI-compatible endpoint for the OpenAI SDK.
 */
export const VERTEX_ROUTES = {
  modelsFast: 'vertex:claude-haiku-4-5,vertex-openai:gemini-2.5-flash-lite',
  modelsBalanced: 'vertex:claude-sonnet-4-5,vertex-openai:gemini-2.5-flash',
  modelsStrongest: 'vertex:claude-opus-4-1,vertex-openai:gemini-2.5-pro',
} as const satisfies TboServiceConfig;

/** Properties of {@link TboGcpStack}. */
export interface TboGcpStackProps {
  /** GCP project. @default - env `GOOGLE_PROJECT`, else a placeholder */
  readonly project?: string;
  /** GCP region. @default - env `GOOGLE_REGION`, else a placeholder */
  readonly region?: string;
  /** TBO container image, built and pushed elsewhere. @default - env `TBO_IMAGE`, else the bundled service, built and pushed to Artifact Registry by `cdktf deploy` */
  readonly image?: string;
  /**
   * Create the Cloud Run service. The default deploy needs no stage: the secrets get placeholder
   * versions and the first revision starts with them. `false` is the optional first stage for
   * filling the secrets before any revision runs.
   * @default - env `TBO_CREATE_SERVICE` is not 'false'
   */
  readonly createService?: boolean;
  /** Local state file. @default - `terraform.<stack id>.tfstate` in the working directory */
  readonly statePath?: string;
  /** Where the models are served. @default - env `TBO_BACKEND`, else 'public' */
  readonly backend?: GcpExampleBackend;
  /** Vertex AI location of the `vertex` variant. @default - env `CLOUD_ML_REGION` (the variable the Anthropic Vertex SDK reads), else 'global' */
  readonly vertexRegion?: string;
  /**
   * Further {@link TboCloudRunService} props, merged over the variant's routes and Vertex AI location
   * and over the example's production settings ({@link productionSettings}); a prop given here wins.
   * @default - the construct's defaults, with the production settings
   */
  readonly service?: Omit<Partial<TboCloudRunServiceProps>, 'image' | 'project' | 'region' | 'createService'>;
}

/**
 * What the example turns on beyond the construct's defaults, because a production deployment needs
 * it (each one yields to the same prop in `service`):
 * - `managedPrometheus: true`: the metrics reach Managed Service for Prometheus, so the four alert
 *   policies can fire (without it they never see data);
 * - `tracing.collectorSidecar: true`: traces of 10 % of new requests (and every request a client
 *   sampled) in Cloud Trace, through Google's collector sidecar;
 * - `redis.export: true`: a private bucket for RDB exports and the `tbo_redis_export_command` /
 *   `tbo_redis_import_command` outputs (with the Memorystore instance only);
 * - `existingSentryDsnSecret` from `TBO_SENTRY_DSN_SECRET` (a Secret Manager secret id holding the
 *   DSN), when set;
 * - `secretReplication.locations` from `TBO_SECRET_LOCATIONS` (comma-separated regions, e.g.
 *   `europe-west1,europe-west4`), when set: the secrets' payloads stay in those regions. Set it
 *   before the first deploy (a secret's replication cannot change).
 * The two sidecars add 1 vCPU and 512 MiB each to every instance.
 */
export function productionSettings(service: TboGcpStackProps['service'] = {}): Partial<TboCloudRunServiceProps> {
  const locations = optionalEnv('TBO_SECRET_LOCATIONS')?.split(',').map((l) => l.trim()).filter((l) => l !== '');
  return {
    managedPrometheus: service.managedPrometheus ?? true,
    tracing: service.tracing ?? { collectorSidecar: true },
    redis: service.redis === false || service.existingRedis !== undefined ? service.redis : { export: true, ...service.redis },
    existingSentryDsnSecret: service.existingSentryDsnSecret ?? optionalEnv('TBO_SENTRY_DSN_SECRET'),
    secretReplication: service.secretReplication ?? (locations?.length ? { locations } : undefined),
  };
}

/**
 * The example GCP deployment: the Google provider, a local backend, and {@link TboCloudRunService}
 * with its defaults and the production settings of {@link productionSettings} (metrics to Managed
 * Prometheus for the alert policies, traces to Cloud Trace, Redis exports to a bucket; its names
 * derive from its path: `tbo-gcp-tbo-<6 hex>`). Project and region come
 * from `GOOGLE_PROJECT` and `GOOGLE_REGION`. One `cdktf deploy` (with Docker running) builds the
 * bundled service, pushes it to an Artifact Registry repository it creates and brings the service
 * up on it; `TBO_IMAGE` runs an image built elsewhere instead. Then fill the secrets
 * (`tbo_secret_commands` output) and roll it (`tbo_rollout_command`).
 * `TBO_BACKEND=vertex` routes every model to Vertex AI instead (`CLOUD_ML_REGION` for its location):
 * the service account is granted online prediction there, and no Anthropic key secret is made.
 */
export class TboGcpStack extends TerraformStack {
  /** The Google provider. */
  readonly provider: GoogleProvider;
  /** The local backend. */
  readonly backend: LocalBackend;
  /** The TBO service. */
  readonly tbo: TboCloudRunService;

  constructor(scope: Construct, id: string, props: TboGcpStackProps = {}) {
    super(scope, id);
    const project = settingFromEnv(props.project, 'GOOGLE_PROJECT', GCP_PLACEHOLDERS.project, this);
    const region = settingFromEnv(props.region, 'GOOGLE_REGION', GCP_PLACEHOLDERS.region, this);
    const image = props.image ?? optionalEnv('TBO_IMAGE');

    this.provider = new GoogleProvider(this, 'google', { project, region });
    this.backend = new LocalBackend(this, props.statePath ? { path: props.statePath } : {});
    const variant = exampleBackend(props.backend) === 'vertex'
      ? {
          config: { ...VERTEX_ROUTES, ...props.service?.config },
          vertex: { region: props.vertexRegion ?? (process.env.CLOUD_ML_REGION?.trim() || undefined), ...props.service?.vertex },
        }
      : {};
    this.tbo = new TboCloudRunService(this, 'tbo', {
      ...props.service,
      ...productionSettings(props.service),
      ...variant,
      image,
      project,
      region,
      createService: props.createService ?? process.env.TBO_CREATE_SERVICE?.trim().toLowerCase() !== 'false',
    });
  }
}

/** The `backend` prop, else `TBO_BACKEND`, else 'public'; an unknown value is an error naming the accepted ones. */
function exampleBackend(prop: GcpExampleBackend | undefined): GcpExampleBackend {
  const value = prop ?? (process.env.TBO_BACKEND?.trim().toLowerCase() || 'public');
  if (!(GCP_EXAMPLE_BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`TBO_BACKEND: received ${JSON.stringify(value)}; accepted values: ${GCP_EXAMPLE_BACKENDS.join(', ')}`);
  }
  return value as GcpExampleBackend;
}
