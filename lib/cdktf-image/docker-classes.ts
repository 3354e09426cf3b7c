import type { Image } from '@cdktf/provider-docker/lib/image';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import type { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';

/** The package that builds and pushes the image (an optional peer dependency of tbo-deploy). */
export const DOCKER_PROVIDER_PACKAGE = '@cdktf/provider-docker';

/** The classes of `@cdktf/provider-docker` the image build uses. */
export interface DockerProviderClasses {
  readonly DockerProvider: typeof DockerProvider;
  readonly Image: typeof Image;
  readonly RegistryImage: typeof RegistryImage;
}

let loaded: DockerProviderClasses | undefined;

/**
 * `@cdktf/provider-docker`'s classes, loaded when a construct first builds the image: a deployment
 * that gives `image` loads nothing of it and needs it not installed. Without the package, an error
 * says what to install, or to give `image`.
 */
export function dockerProviderClasses(): DockerProviderClasses {
  if (loaded) return loaded;
  try {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first build, so users who bring an image need no docker provider installed */
    loaded = {
      DockerProvider: (require('@cdktf/provider-docker/lib/provider') as typeof import('@cdktf/provider-docker/lib/provider')).DockerProvider,
      Image: (require('@cdktf/provider-docker/lib/image') as typeof import('@cdktf/provider-docker/lib/image')).Image,
      RegistryImage: (require('@cdktf/provider-docker/lib/registry-image') as typeof import('@cdktf/provider-docker/lib/registry-image')).RegistryImage,
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(DOCKER_PROVIDER_PACKAGE)) {
      throw new Error(
        `tbo-deploy: no image was given, so the construct builds the bundled service with ${DOCKER_PROVIDER_PACKAGE}, which is not installed: ` +
          `npm install --save-dev ${DOCKER_PROVIDER_PACKAGE}@^12.0.3, or give image (an image you built and pushed)`,
        { cause: err },
      );
    }
    throw err;
  }
  return loaded;
}
