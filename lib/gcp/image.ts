import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import type { PropValidator } from '../core';
import { isDockerProvider, SERVICE_IMAGE_NAME, TboServiceImage, tboDockerProvider, type TboImagePlatform } from '../cdktf-image';

/** The API that serves Artifact Registry; the construct enables it when it creates the repository. */
export const ARTIFACT_REGISTRY_API_SERVICE = 'artifactregistry.googleapis.com';
/**
 * The platform the construct builds for: Cloud Run runs the Linux x86-64 ABI only ("Executables in
 * the container image must be compiled for Linux 64-bit. Cloud Run specifically supports the Linux
 * x86_64 ABI format", Cloud Run container runtime contract), so an Arm laptop builds for it too.
 */
export const CLOUD_RUN_IMAGE_PLATFORM: TboImagePlatform = 'linux/amd64';
/** The user name that makes Artifact Registry take an OAuth access token as the password. */
export const ARTIFACT_REGISTRY_TOKEN_USER = 'oauth2accesstoken';
/** Image versions the created repository keeps by default (older ones are deleted by its cleanup policy). */
export const DEFAULT_KEPT_IMAGE_VERSIONS = 10;
/** Suffix of the created repository's id after `<serviceName>-`. */
export const IMAGE_REPOSITORY_SUFFIX = 'images';

/** The Artifact Registry repository the construct creates for the image it builds (`repository` of `TboCloudRunService`). */
export interface TboArtifactRegistryOptions {
  /**
   * Repository id (1 to 63 lowercase letters, digits or hyphens, starting with a letter and not
   * ending with a hyphen).
   * @default - `<serviceName>-images`
   */
  readonly repositoryId?: string;
  /**
   * How many of the most recent image versions the cleanup policy keeps; it deletes the older ones
   * (Artifact Registry applies cleanup policies about once a day). The running revision's image is
   * the newest, so this many rollbacks stay possible.
   * @default 10
   */
  readonly keepVersions?: number;
  /**
   * Enable `artifactregistry.googleapis.com` on the project (`google_project_service`, left enabled on
   * destroy: other workloads may use it). Set false where a platform team manages the project's APIs.
   * @default true
   */
  readonly enableApi?: boolean;
}

/** An Artifact Registry repository by its parts (literals or Terraform references). */
export interface ArtifactRegistryRepositoryRef {
  readonly project: string;
  readonly location: string;
  readonly repositoryId: string;
}

/** How the construct gets its image when `image` is not given, after validation. */
export interface ResolvedImageBuild {
  /** The repository to create, when no `existingRepository` is given. */
  readonly repository?: Required<TboArtifactRegistryOptions>;
  /** The repository given with `existingRepository`. */
  readonly existingRepository?: ArtifactRegistryRepositoryRef;
  /** The user's docker provider, when given. */
  readonly dockerProvider?: DockerProvider;
}

const REPOSITORY_ID = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const REPOSITORY_NAME = /^projects\/([^/\s]+)\/locations\/([^/\s]+)\/repositories\/([^/\s]+)$/;
const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** `projects/P/locations/L/repositories/R` as its parts; a Terraform reference is split by Terraform at deploy. */
export function parseRepositoryName(name: string): ArtifactRegistryRepositoryRef | undefined {
  if (Token.isUnresolved(name)) {
    const part = (index: number) => Fn.element(Fn.split('/', name), index) as string;
    return { project: part(1), location: part(3), repositoryId: part(5) };
  }
  const match = REPOSITORY_NAME.exec(name);
  return match ? { project: match[1], location: match[2], repositoryId: match[3] } : undefined;
}

/** The props `resolveImageBuild` reads. */
export interface ImageSourceProps {
  readonly image?: string;
  readonly repository?: TboArtifactRegistryOptions;
  readonly existingRepository?: string;
  readonly dockerProvider?: DockerProvider;
}

/**
 * Checks the image props and applies their defaults: undefined when `image` is given (then the
 * build props must be absent), else where the built image goes.
 */
export function resolveImageBuild(v: PropValidator, props: ImageSourceProps, serviceName: string): ResolvedImageBuild | undefined {
  if (props.image !== undefined) {
    for (const prop of ['repository', 'existingRepository', 'dockerProvider'] as const) {
      if (props[prop] !== undefined) v.check(false, prop, prop === 'existingRepository' ? props[prop] : '(given)', 'applies only when the construct builds the image; remove it, or remove image to build the bundled service');
    }
    return undefined;
  }
  if (props.dockerProvider !== undefined) {
    v.check(isDockerProvider(props.dockerProvider), 'dockerProvider', props.dockerProvider.terraformResourceType, 'must be a docker provider (DockerProvider of @cdktf/provider-docker)');
  }
  if (props.existingRepository !== undefined) {
    if (props.repository !== undefined) {
      v.check(false, 'repository', '(given)', 'cannot be combined with existingRepository; set one: repository (options of the repository the construct creates) or existingRepository');
    }
    const existing = parseRepositoryName(props.existingRepository);
    v.check(existing !== undefined, 'existingRepository', props.existingRepository,
      'must be an Artifact Registry repository name, projects/PROJECT/locations/LOCATION/repositories/REPOSITORY (the id of a google_artifact_registry_repository)');
    return { existingRepository: existing, dockerProvider: props.dockerProvider };
  }
  const options = props.repository ?? {};
  const repository: Required<TboArtifactRegistryOptions> = {
    repositoryId: options.repositoryId ?? `${serviceName}-${IMAGE_REPOSITORY_SUFFIX}`,
    keepVersions: options.keepVersions ?? DEFAULT_KEPT_IMAGE_VERSIONS,
    enableApi: options.enableApi ?? true,
  };
  if (known(repository.repositoryId)) {
    v.check(REPOSITORY_ID.test(repository.repositoryId), options.repositoryId !== undefined ? 'repository.repositoryId' : 'serviceName', repository.repositoryId,
      'the repository id must be 1 to 63 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen' + (options.repositoryId !== undefined ? '' : '; set repository.repositoryId'));
  }
  if (known(options.keepVersions)) v.integer('repository.keepVersions', options.keepVersions, 1);
  return { repository, dockerProvider: props.dockerProvider };
}

/** Properties of {@link TboCloudRunImage}. */
export interface TboCloudRunImageProps {
  /** Where the image goes. */
  readonly build: ResolvedImageBuild;
  /** Project of the created repository. @default - the provider's project */
  readonly project?: string;
  /** Region of the created repository (a literal, or the provider's region: known when Terraform plans). */
  readonly region: string;
  /** The service name, for the repository's description. */
  readonly serviceName: string;
  /** The access token the construct's docker provider pushes with (`google_client_config.access_token`); required without `build.dockerProvider`. */
  readonly accessToken?: string;
}

/**
 * The bundled service image for Cloud Run: an Artifact Registry Docker repository (immutable tags,
 * a cleanup policy that keeps the most recent versions) unless one is given, the image built for
 * linux/amd64 and pushed there, and the reference Cloud Run runs, pinned to the pushed digest.
 *
 * The push authenticates with the deployer's own Google credentials: the construct's docker provider
 * logs in to `<location>-docker.pkg.dev` as `oauth2accesstoken` with the short-lived access token of
 * `google_client_config` (read at plan, valid for an hour; Terraform state keeps the data source's
 * last token). The deployer needs to create the repository and push to it (Artifact Registry
 * Administrator, or Repository Administrator and Writer on a given repository). Cloud Run's service
 * agent reads repositories of its own project without any grant; for a repository in another project,
 * grant it Artifact Registry Reader there.
 */
export class TboCloudRunImage extends Construct {
  /** `artifactregistry.googleapis.com` enabled on the project. @default - undefined with `existingRepository` or `repository.enableApi: false` */
  readonly apiService?: ProjectService;
  /** The repository created for the image. @default - undefined with `existingRepository` */
  readonly repository?: ArtifactRegistryRepository;
  /** The docker provider this construct added (aliased). @default - undefined with `dockerProvider` */
  readonly dockerProvider?: DockerProvider;
  /** The build and the push. */
  readonly serviceImage: TboServiceImage;
  /** The registry host, `<location>-docker.pkg.dev`. */
  readonly registryHost: string;
  /** `<location>-docker.pkg.dev/<project>/<repository>/tbo-service`: the image without tag or digest. */
  readonly repositoryPath: string;
  /** `<repositoryPath>@<digest>`: what Cloud Run runs. */
  readonly imageUri: string;

  constructor(scope: Construct, id: string, props: TboCloudRunImageProps) {
    super(scope, id);
    const { build } = props;
    let repository: ArtifactRegistryRepositoryRef;
    if (build.repository) {
      const options = build.repository;
      if (options.enableApi) {
        this.apiService = new ProjectService(this, 'Api', { project: props.project, service: ARTIFACT_REGISTRY_API_SERVICE, disableOnDestroy: false });
      }
      this.repository = new ArtifactRegistryRepository(this, 'Repository', {
        project: props.project,
        location: props.region,
        repositoryId: options.repositoryId,
        format: 'DOCKER',
        mode: 'STANDARD_REPOSITORY',
        description: `Images of the TBO gateway ${props.serviceName}, built by cdktf from the bundled service`,
        dockerConfig: { immutableTags: true },
        cleanupPolicyDryRun: false,
        cleanupPolicies: [
          // A version matching both keeps it: every version is deleted but the most recent ones.
          { id: 'keep-most-recent', action: 'KEEP', mostRecentVersions: { keepCount: options.keepVersions } },
          { id: 'delete-older', action: 'DELETE', condition: { tagState: 'ANY' } },
        ],
        dependsOn: this.apiService ? [this.apiService] : undefined,
      });
      // References: the push waits for the repository.
      repository = { project: this.repository.project, location: this.repository.location, repositoryId: this.repository.repositoryId };
      // The docker provider is configured while Terraform plans, before the repository exists: its host uses the region.
      this.registryHost = `${props.region}-docker.pkg.dev`;
    } else {
      repository = build.existingRepository!;
      this.registryHost = `${repository.location}-docker.pkg.dev`;
    }
    this.repositoryPath = `${repository.location}-docker.pkg.dev/${repository.project}/${repository.repositoryId}/${SERVICE_IMAGE_NAME}`;

    if (!build.dockerProvider) {
      if (props.accessToken === undefined) throw new Error('TboCloudRunImage: accessToken is required without build.dockerProvider (the docker provider logs in to Artifact Registry with it)');
      this.dockerProvider = tboDockerProvider(this, 'DockerProvider', { address: this.registryHost, username: ARTIFACT_REGISTRY_TOKEN_USER, password: props.accessToken });
    }
    this.serviceImage = new TboServiceImage(this, 'ServiceImage', {
      repository: this.repositoryPath,
      provider: build.dockerProvider ?? this.dockerProvider!,
      platform: CLOUD_RUN_IMAGE_PLATFORM,
      pushDependsOn: this.repository ? [this.repository] : undefined,
    });
    this.imageUri = this.serviceImage.imageUri;
  }
}
