import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { settingFromEnv } from './env';
import { TboCloudRunService, type TboCloudRunServiceProps } from '../lib/gcp';

/** Placeholders synthesized when the environment does not say; `cdktf deploy` with them fails at GCP. */
export const GCP_PLACEHOLDERS = {
  project: 'replace-with-your-gcp-project',
  region: 'replace-with-your-gcp-region',
  image: 'replace-with-your-tbo-image',
} as const;

/** Properties of {@link TboGcpStack}. */
export interface TboGcpStackProps {
  /** GCP project. @default - env `GOOGLE_PROJECT`, else a placeholder */
  readonly project?: string;
  /** GCP region. @default - env `GOOGLE_REGION`, else a placeholder */
  readonly region?: string;
  /** TBO container image. @default - env `TBO_IMAGE`, else a placeholder */
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
  /** Further {@link TboCloudRunService} props. @default - the construct's defaults */
  readonly service?: Omit<Partial<TboCloudRunServiceProps>, 'image' | 'project' | 'region' | 'createService'>;
}

/**
 * The example GCP deployment: the Google provider, a local backend, and {@link TboCloudRunService}
 * with its defaults (its names derive from its path: `tbo-gcp-tbo-<6 hex>`). Project, region and
 * image come from `GOOGLE_PROJECT`, `GOOGLE_REGION` and `TBO_IMAGE`. One `cdktf deploy` brings it
 * up; then fill the secrets (`tbo_secret_commands` output) and roll it (`tbo_rollout_command`).
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
    const image = settingFromEnv(props.image, 'TBO_IMAGE', GCP_PLACEHOLDERS.image, this);

    this.provider = new GoogleProvider(this, 'google', { project, region });
    this.backend = new LocalBackend(this, props.statePath ? { path: props.statePath } : {});
    this.tbo = new TboCloudRunService(this, 'tbo', {
      ...props.service,
      image,
      project,
      region,
      createService: props.createService ?? process.env.TBO_CREATE_SERVICE?.trim().toLowerCase() !== 'false',
    });
  }
}
