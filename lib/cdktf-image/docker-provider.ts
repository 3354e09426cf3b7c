import type { DockerProvider, DockerProviderRegistryAuth } from '@cdktf/provider-docker/lib/provider';
import type { TerraformProvider } from 'cdktf';
import type { Construct } from 'constructs';
import { dockerProviderClasses } from './docker-classes';

/**
 * Alias of the docker provider a TBO construct adds for its own build and push: `tbo_` and 12 hex
 * digits of the construct's address, so it is unique in the stack, never the stack's default docker
 * provider, and the same on every synth.
 */
export function dockerProviderAlias(scope: Construct): string {
  return `tbo_${scope.node.addr.slice(-12)}`;
}

/**
 * A docker provider configuration of the construct's own (aliased, see {@link dockerProviderAlias})
 * that logs in to one registry for the push. It talks to the Docker daemon the provider's defaults
 * name (`DOCKER_HOST`, else the local socket) only at deploy.
 */
export function tboDockerProvider(scope: Construct, id: string, registryAuth: DockerProviderRegistryAuth): DockerProvider {
  const { DockerProvider } = dockerProviderClasses();
  return new DockerProvider(scope, id, { alias: dockerProviderAlias(scope), registryAuth: [registryAuth] });
}

/** Whether a provider is a docker provider (`kreuzwerker/docker`), for props that take one. */
export function isDockerProvider(provider: TerraformProvider): boolean {
  return provider.terraformResourceType === 'docker';
}
