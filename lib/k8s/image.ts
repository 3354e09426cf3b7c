import type { DockerProvider, DockerProviderRegistryAuth } from '@cdktf/provider-docker/lib/provider';
import { Token } from 'cdktf';
import type { Construct } from 'constructs';
import { architectureOf, IMAGE_PLATFORMS, isDockerProvider, SERVICE_IMAGE_NAME, TboServiceImage, tboDockerProvider, type TboImagePlatform } from '../cdktf-image';
import type { PropValidator } from '../core';
import { TOLERATION_EFFECTS, TOLERATION_OPERATORS, type TboKubernetesImageRegistry, type TboKubernetesServiceProps, type TboToleration } from './props';

/** The node label Kubernetes sets to the node's CPU architecture (`amd64`, `arm64`). */
export const ARCH_NODE_LABEL = 'kubernetes.io/arch';
/** Tolerates the taint arm64 node pools commonly carry (`kubernetes.io/arch=arm64:NoSchedule`, e.g. GKE's Arm pools). */
export const ARM64_TOLERATION: TboToleration = { key: ARCH_NODE_LABEL, operator: 'Equal', value: 'arm64', effect: 'NoSchedule' };

/** A registry host as Docker's reference grammar has it: DNS labels (or an IPv4 address) and an optional port. */
export const REGISTRY_HOST = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
/** A repository path as Docker's reference grammar has it: lowercase components joined by `.`, `_`, `__` or `-`, separated by `/`. */
export const REPOSITORY_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

function validateRegistry(v: PropValidator, registry: TboKubernetesImageRegistry): void {
  if (known(registry.address)) {
    v.check(REGISTRY_HOST.test(registry.address), 'registry.address', registry.address,
      'must be a registry host with an optional port, such as ghcr.io, 123456789012.dkr.ecr.eu-west-1.amazonaws.com or registry.example.com:5000 (no scheme, no path: the path goes in registry.repository)');
  }
  if (known(registry.repository)) {
    v.check(REPOSITORY_PATH.test(registry.repository), 'registry.repository', registry.repository,
      'must be a repository path of lowercase letters, digits and . _ - separated by /, without host, tag or digest (e.g. acme/tbo-service)');
  }
  if (registry.password !== undefined && !Token.isUnresolved(registry.password)) {
    v.check(false, 'registry.password', '(hidden)',
      'must be a Terraform reference (a sensitive TerraformVariable set with TF_VAR_<name> at deploy, a data source\'s token), never a literal: the synthesized configuration would hold it; or leave it unset and set DOCKER_REGISTRY_PASS at deploy');
  }
  const credentials = (['username', 'password', 'configFile'] as const).filter((k) => registry[k] !== undefined);
  if (registry.authDisabled) {
    for (const k of credentials) v.check(false, `registry.${k}`, k === 'password' ? '(hidden)' : registry[k], 'cannot be combined with registry.authDisabled');
  } else if (registry.configFile !== undefined && (registry.username !== undefined || registry.password !== undefined)) {
    v.check(false, 'registry.configFile', registry.configFile, 'cannot be combined with registry.username or registry.password: the docker provider uses the username when one is set; give one of the two');
  }
}

function validateTolerations(v: PropValidator, tolerations: readonly TboToleration[] | undefined): void {
  (tolerations ?? []).forEach((t, i) => {
    const prop = `tolerations[${i}]`;
    v.oneOf(`${prop}.operator`, t.operator, TOLERATION_OPERATORS);
    v.oneOf(`${prop}.effect`, t.effect, TOLERATION_EFFECTS);
    if ((t.operator ?? 'Equal') === 'Exists') {
      v.check(t.value === undefined || t.value === '', `${prop}.value`, t.value, "must be unset with operator 'Exists' (it matches every value)");
    } else {
      v.check(t.key !== undefined && t.key !== '', `${prop}.key`, t.key, "is required with operator 'Equal' (only 'Exists' may match every key)");
    }
    if (t.tolerationSeconds !== undefined) {
      v.integer(`${prop}.tolerationSeconds`, t.tolerationSeconds, 0);
      v.check(t.effect === 'NoExecute', `${prop}.tolerationSeconds`, t.tolerationSeconds, "applies only to effect 'NoExecute'");
    }
  });
}

/**
 * Checks where the gateway's image comes from: exactly one of `image` and `registry`; the build
 * props only with `registry`; the platform and tolerations.
 */
export function validateImageSource(v: PropValidator, props: TboKubernetesServiceProps): void {
  if (props.image === undefined && props.registry === undefined) {
    v.check(false, 'image', undefined,
      'give image (a pullable image reference, e.g. registry.example.com/tbo-service:1.0.0, or one loaded into a local cluster) or registry (where the construct pushes the bundled service it builds at deploy, e.g. { address: \'ghcr.io\', repository: \'acme/tbo-service\' })');
  }
  if (props.image !== undefined && props.registry !== undefined) {
    v.check(false, 'registry', props.registry.address, 'cannot be combined with image: give image (built elsewhere) or registry (the construct builds and pushes the bundled service), not both');
  }
  if (known(props.image)) v.check(props.image.trim() !== '', 'image', props.image, 'must be a container image reference such as registry.example.com/tbo-service:1.0.0');
  if (props.registry) validateRegistry(v, props.registry);
  if (props.dockerProvider !== undefined) {
    if (props.registry === undefined) {
      v.check(false, 'dockerProvider', '(given)', 'applies only with registry (the construct builds nothing with image); remove it');
    } else {
      v.check(isDockerProvider(props.dockerProvider), 'dockerProvider', props.dockerProvider.terraformResourceType, 'must be a docker provider (DockerProvider of @cdktf/provider-docker)');
      const credentials = (['username', 'password', 'configFile', 'authDisabled'] as const).filter((k) => props.registry![k] !== undefined);
      for (const k of credentials) {
        v.check(false, `registry.${k}`, k === 'password' ? '(hidden)' : props.registry[k], 'is not used with dockerProvider (its own registry_auth logs in); remove it, or remove dockerProvider');
      }
    }
  }
  v.oneOf('platform', props.platform, IMAGE_PLATFORMS);
  validateTolerations(v, props.tolerations);
}

/** The node selector of the gateway pods: the architecture of `platform`, when one is named. */
export function nodeSelectorFor(platform: TboImagePlatform | undefined): Readonly<Record<string, string>> {
  return platform ? { [ARCH_NODE_LABEL]: architectureOf(platform) } : {};
}

/** The docker provider's login for a registry (nothing but references and names: no credential literal). */
export function registryAuthOf(registry: TboKubernetesImageRegistry): DockerProviderRegistryAuth {
  return {
    address: registry.address,
    username: registry.username,
    password: registry.password,
    configFile: registry.configFile,
    authDisabled: registry.authDisabled,
  };
}

/** What {@link createServiceImage} made. */
export interface KubernetesServiceImage {
  /** The docker provider the construct added, unless the user gave one. */
  readonly dockerProvider?: DockerProvider;
  /** The build and the push. */
  readonly serviceImage: TboServiceImage;
}

/**
 * The bundled service built for `platform` and pushed to `<address>/<repository>` (default
 * `tbo-service`), with the user's docker provider or one of the construct's own that logs in as
 * `registry` says.
 */
export function createServiceImage(scope: Construct, props: TboKubernetesServiceProps & { readonly registry: TboKubernetesImageRegistry }): KubernetesServiceImage {
  const { registry } = props;
  const dockerProvider = props.dockerProvider ? undefined : tboDockerProvider(scope, 'DockerProvider', registryAuthOf(registry));
  const serviceImage = new TboServiceImage(scope, 'Image', {
    repository: `${registry.address}/${registry.repository ?? SERVICE_IMAGE_NAME}`,
    provider: props.dockerProvider ?? dockerProvider!,
    platform: props.platform,
  });
  return { dockerProvider, serviceImage };
}
