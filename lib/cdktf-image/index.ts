/**
 * The bundled service image for the cdktf targets (GCP, Kubernetes): built from `serviceDirectory()`
 * and pushed by Terraform's docker provider (`@cdktf/provider-docker`, loaded only when an image is
 * built) at deploy, pinned by digest.
 * Only `lib/gcp` and `lib/k8s` import it; the contract (`lib/core`) and the AWS target never do.
 */
export { buildContextFiles, buildContextHash } from './context-hash';
export { DOCKER_PROVIDER_PACKAGE, dockerProviderClasses, type DockerProviderClasses } from './docker-classes';
export { DockerignoreMatcher, parseDockerignore, type IgnorePattern } from './dockerignore';
export { dockerProviderAlias, isDockerProvider, tboDockerProvider } from './docker-provider';
export { architectureOf, DEFAULT_IMAGE_PLATFORM, IMAGE_PLATFORMS, type TboImagePlatform } from './platform';
export { CONTEXT_HASH_TRIGGER, SERVICE_IMAGE_NAME, TboServiceImage, type TboServiceImageProps } from './service-image';
