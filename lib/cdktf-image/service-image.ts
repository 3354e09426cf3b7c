import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Image } from '@cdktf/provider-docker/lib/image';
import type { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';
import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { serviceDirectory } from '../core/service-dir';
import { buildContextHash } from './context-hash';
import { dockerProviderClasses } from './docker-classes';
import { architectureOf, DEFAULT_IMAGE_PLATFORM, type TboImagePlatform } from './platform';

/** Name of the service image in its repository (`<registry>/<path>/tbo-service`). */
export const SERVICE_IMAGE_NAME = 'tbo-service';
/** Key of the build context's SHA-256 in the `triggers` of the build and the push. */
export const CONTEXT_HASH_TRIGGER = 'context_sha256';
/** Hex digits of the context hash in the image tag. */
const TAG_HASH_LENGTH = 16;

/** Properties of {@link TboServiceImage}. */
export interface TboServiceImageProps {
  /** Where the image is pushed: `HOST/PATH/NAME`, without a tag or digest (a literal, or Terraform references). */
  readonly repository: string;
  /** The docker provider that builds and pushes; its `registry_auth` must cover the repository's host. */
  readonly provider: TerraformProvider;
  /** CPU platform of the image. @default 'linux/amd64' */
  readonly platform?: TboImagePlatform;
  /** The build context (a folder with a Dockerfile). @default - `serviceDirectory()`: the bundled service */
  readonly context?: string;
  /** What must exist before the push (the repository, the API that serves it). @default - none */
  readonly pushDependsOn?: ITerraformDependable[];
}

/**
 * The bundled service as a container image, built and pushed by Terraform's docker provider at
 * deploy: a `docker_image` built from the service folder for one platform and tagged
 * `<first 16 hex digits of the context hash>-<arch>` (never a moving tag such as `latest`), and a
 * `docker_registry_image` that pushes it and reads back its digest. Both are replaced only when the
 * build context's content hash changes (computed at synth from the files `docker build` sends, per
 * `.dockerignore`), so an unchanged service is neither rebuilt nor pushed again. Synth needs no
 * Docker daemon; `cdktf deploy` does (the provider's `host`, `DOCKER_HOST` or the local socket).
 *
 * Pushed images stay in the registry when replaced or destroyed (`keep_remotely`): running
 * workloads and rollbacks still pull them, and the registry's own retention removes old ones.
 */
export class TboServiceImage extends Construct {
  /** The local build (`docker_image` with a `build` block). */
  readonly image: Image;
  /** The push (`docker_registry_image`); its `sha256Digest` pins the workload. */
  readonly registryImage: RegistryImage;
  /** SHA-256 (hex) of the build context's files. */
  readonly contextHash: string;
  /** The tag pushed: context hash prefix and architecture, e.g. `3f9a1c2e4b5d6f70-amd64`. */
  readonly tag: string;
  /** The platform built for. */
  readonly platform: TboImagePlatform;
  /** The repository pushed to (`HOST/PATH/NAME`). */
  readonly repository: string;
  /** The folder built. */
  readonly context: string;
  /** `<repository>@<digest>`: the pushed image by digest, what the workload runs (a Terraform reference). */
  readonly imageUri: string;

  constructor(scope: Construct, id: string, props: TboServiceImageProps) {
    super(scope, id);
    this.context = props.context ?? serviceDirectory();
    this.platform = props.platform ?? DEFAULT_IMAGE_PLATFORM;
    this.repository = props.repository;
    this.contextHash = buildContextHash(this.context);
    this.tag = `${this.contextHash.slice(0, TAG_HASH_LENGTH)}-${architectureOf(this.platform)}`;
    const triggers = { [CONTEXT_HASH_TRIGGER]: this.contextHash };
    const { Image, RegistryImage } = dockerProviderClasses();

    this.image = new Image(this, 'Build', {
      provider: props.provider,
      name: `${props.repository}:${this.tag}`,
      buildAttribute: {
        context: this.context,
        platform: this.platform,
        labels: imageLabels(this.context),
      },
      triggers,
    });
    this.registryImage = new RegistryImage(this, 'Push', {
      provider: props.provider,
      name: this.image.name,
      keepRemotely: true,
      triggers,
      dependsOn: props.pushDependsOn,
    });
    this.imageUri = `${props.repository}@${this.registryImage.sha256Digest}`;
  }
}

/** OCI labels of the image: what it is, and its version (the service's `package.json`). */
function imageLabels(context: string): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.title': SERVICE_IMAGE_NAME };
  try {
    const { version } = JSON.parse(readFileSync(join(context, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof version === 'string') labels['org.opencontainers.image.version'] = version;
  } catch {
    // a context without a readable package.json: no version label
  }
  return labels;
}
