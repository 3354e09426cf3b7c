/** The CPU platforms the bundled service image can be built for (Docker `--platform` values). */
export const IMAGE_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type TboImagePlatform = (typeof IMAGE_PLATFORMS)[number];

/** The platform images are built for unless told otherwise: x86-64, what every target runs by default. */
export const DEFAULT_IMAGE_PLATFORM: TboImagePlatform = 'linux/amd64';

/** The architecture half of a platform (`amd64`, `arm64`): the value of a node's `kubernetes.io/arch` label. */
export function architectureOf(platform: TboImagePlatform): string {
  return platform.slice(platform.indexOf('/') + 1);
}
