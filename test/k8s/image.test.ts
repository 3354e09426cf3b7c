/**
 * TboKubernetesService with `registry`: the bundled service built and pushed by the docker provider at
 * deploy and the Deployment pinned to the pushed digest; credentials never in the configuration; the
 * arm64 platform hook; with `image`, nothing built.
 */
import 'cdktf/lib/testing/adapters/jest';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { serviceDirectory } from '../../lib/core';
import {
  ARM64_TOLERATION,
  CONTEXT_HASH_TRIGGER,
  TboKubernetesService,
  buildContextHash,
  dockerProviderAlias,
  type TboKubernetesImageRegistry,
  type TboKubernetesServiceProps,
} from '../../lib/k8s';
import { manifestsFromSynth } from './support/manifest';
import { blockOf, blocksOf, IMAGE } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

const REGISTRY: TboKubernetesImageRegistry = { address: 'registry.example.com:5000', repository: 'acme/tbo-service' };

/** One construct `Tbo` with exactly these props (no default image). */
function synth(props: Partial<TboKubernetesServiceProps>): { tbo: TboKubernetesService; json: string; stack: TerraformStack } {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const tbo = new TboKubernetesService(stack, 'Tbo', props as TboKubernetesServiceProps);
  return { tbo, json: Testing.synth(stack), stack };
}

function error(props: Partial<TboKubernetesServiceProps>): string {
  try {
    synth(props);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a validation error, but synthesis succeeded');
}

type PodSpec = { container: { image: string }[]; node_selector?: Record<string, string>; toleration?: Record<string, unknown>[]; image_pull_secrets?: unknown };
const podSpec = (json: string) => (blockOf(json, 'kubernetes_deployment_v1') as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const providers = (json: string) => (JSON.parse(json) as { provider?: { docker?: Record<string, unknown>[] } }).provider?.docker;
const only = (json: string, type: string): [string, Record<string, unknown>] => {
  const entries = Object.entries(blocksOf(json, type));
  expect(entries).toHaveLength(1);
  return entries[0];
};

describe('registry: the bundled service built, pushed and run by digest', () => {
  const { tbo, json } = synth({ registry: REGISTRY });
  const hash = buildContextHash(serviceDirectory());

  it('builds the service folder for linux/amd64, tagged with its content hash', () => {
    const [, build] = only(json, 'docker_image');
    expect(build).toMatchObject({
      name: `registry.example.com:5000/acme/tbo-service:${hash.slice(0, 16)}-amd64`,
      build: { context: serviceDirectory(), platform: 'linux/amd64' },
      triggers: { [CONTEXT_HASH_TRIGGER]: hash },
    });
  });

  it('pushes it, keeping older versions in the registry', () => {
    const [buildId] = only(json, 'docker_image');
    const [, push] = only(json, 'docker_registry_image');
    expect(push).toMatchObject({ name: `\${docker_image.${buildId}.name}`, keep_remotely: true, triggers: { [CONTEXT_HASH_TRIGGER]: hash } });
  });

  it('the Deployment runs <address>/<repository>@<digest>, no selector or toleration by default', () => {
    const [pushId] = only(json, 'docker_registry_image');
    const pod = podSpec(json);
    expect(pod.container[0].image).toBe(`registry.example.com:5000/acme/tbo-service@\${docker_registry_image.${pushId}.sha256_digest}`);
    expect(pod.node_selector).toBeUndefined();
    expect(pod.toleration).toBeUndefined();
  });

  it('its own aliased docker provider names the registry only: the provider reads credentials at deploy', () => {
    const alias = dockerProviderAlias(tbo);
    expect(providers(json)).toEqual([{ alias, registry_auth: [{ address: 'registry.example.com:5000' }] }]);
    expect(only(json, 'docker_image')[1].provider).toBe(`docker.${alias}`);
    expect(only(json, 'docker_registry_image')[1].provider).toBe(`docker.${alias}`);
    expect(tbo.dockerProvider?.alias).toBe(alias);
  });

  it('typed fields for the build and the push', () => {
    expect(tbo.serviceImage?.image.buildAttributeInput?.platform).toBe('linux/amd64');
    expect(tbo.serviceImage?.registryImage.keepRemotelyInput).toBe(true);
    expect(tbo.serviceImage?.repository).toBe('registry.example.com:5000/acme/tbo-service');
    expect(tbo.imageUri).toBe(tbo.plan.image);
  });

  it('repository defaults to tbo-service', () => {
    expect(only(synth({ registry: { address: 'ghcr.io' } }).json, 'docker_image')[1].name).toMatch(/^ghcr\.io\/tbo-service:[0-9a-f]{16}-amd64$/);
  });

  it('imagePullSecrets still apply to the pushed image', () => {
    expect(podSpec(synth({ registry: REGISTRY, imagePullSecrets: ['regcred'] }).json).image_pull_secrets).toEqual([{ name: 'regcred' }]);
  });
});

describe('registry credentials', () => {
  it('a username and a password from a sensitive variable: only references in the configuration', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const password = new TerraformVariable(stack, 'registry_password', { type: 'string', sensitive: true });
    new TboKubernetesService(stack, 'Tbo', { registry: { ...REGISTRY, username: 'robot$ci', password: password.stringValue } });
    const json = Testing.synth(stack);
    expect(providers(json)?.[0].registry_auth).toEqual([{ address: 'registry.example.com:5000', username: 'robot$ci', password: '${var.registry_password}' }]);
  });

  it('a Docker config file, or no auth for a local registry', () => {
    expect(providers(synth({ registry: { ...REGISTRY, configFile: '/ci/docker/config.json' } }).json)?.[0].registry_auth).toEqual([{ address: REGISTRY.address, config_file: '/ci/docker/config.json' }]);
    expect(providers(synth({ registry: { address: 'localhost:5001', authDisabled: true } }).json)?.[0].registry_auth).toEqual([{ address: 'localhost:5001', auth_disabled: true }]);
  });

  it('a literal password is refused without echoing it', () => {
    const message = error({ registry: { ...REGISTRY, username: 'ci', password: 'hunter2-s3cret' } });
    expect(message).toContain('registry.password: received "(hidden)"; must be a Terraform reference');
    expect(message).not.toContain('hunter2-s3cret');
  });

  it('a docker provider of yours: used for the build and push, the construct adds none', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const mine = new DockerProvider(stack, 'docker', { host: 'tcp://builder:2376', registryAuth: [{ address: REGISTRY.address }] });
    const tbo = new TboKubernetesService(stack, 'Tbo', { registry: REGISTRY, dockerProvider: mine });
    const json = Testing.synth(stack);
    expect(providers(json)).toEqual([{ host: 'tcp://builder:2376', registry_auth: [{ address: REGISTRY.address }] }]);
    expect(only(json, 'docker_image')[1].provider).toBe('docker');
    expect(tbo.dockerProvider).toBeUndefined();
  });
});

describe('platform', () => {
  it('arm64: built for linux/arm64, the pods pinned to arm64 nodes, tolerating the arm64 taint when asked', () => {
    const { json } = synth({ registry: REGISTRY, platform: 'linux/arm64', tolerations: [ARM64_TOLERATION] });
    expect(only(json, 'docker_image')[1]).toMatchObject({ build: { platform: 'linux/arm64' }, name: expect.stringMatching(/:[0-9a-f]{16}-arm64$/) });
    expect(podSpec(json)).toMatchObject({
      node_selector: { 'kubernetes.io/arch': 'arm64' },
      toleration: [{ key: 'kubernetes.io/arch', operator: 'Equal', value: 'arm64', effect: 'NoSchedule' }],
    });
  });

  it('with an image, the platform sets the node selector only', () => {
    const { json } = synth({ image: IMAGE, platform: 'linux/amd64' });
    expect(podSpec(json).node_selector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(blocksOf(json, 'docker_image')).toEqual({});
  });

  it('the Deployment with a built arm64 image, node selector and tolerations is valid for kubernetes-models', () => {
    const { json } = synth({
      registry: REGISTRY,
      platform: 'linux/arm64',
      tolerations: [ARM64_TOLERATION, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
    });
    // The digest is known only after the push: stand in a real-looking one for the schema check.
    const pushed = json.replace(/\$\{docker_registry_image\.[^}]+\.sha256_digest\}/g, `sha256:${'a'.repeat(64)}`);
    const [deployment] = manifestsFromSynth(pushed).filter((m) => m.manifest.kind === 'Deployment');
    expect(() => validateManifest(deployment.manifest)).not.toThrow();
    const spec = (deployment.manifest.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(spec.tolerations).toEqual([
      { key: 'kubernetes.io/arch', operator: 'Equal', value: 'arm64', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    ]);
  });
});

describe('many instances in one stack', () => {
  it('each pushes with its own docker provider (distinct aliases); cdktf\'s validations pass', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new KubernetesProvider(stack, 'k8s', {});
    const a = new TboKubernetesService(stack, 'A', { registry: REGISTRY });
    const b = new TboKubernetesService(stack, 'B', { registry: { ...REGISTRY, repository: 'acme/tbo-b' } });
    const json = Testing.synth(stack, true);
    const aliases = (providers(json) ?? []).map((p) => p.alias);
    expect(aliases.sort()).toEqual([dockerProviderAlias(a), dockerProviderAlias(b)].sort());
    expect(new Set(aliases).size).toBe(2);
  });
});

describe('with image: nothing is built', () => {
  it('no docker provider, build or push; the Deployment runs the image given, with the same logical ids as before', () => {
    const { tbo, json } = synth({ image: IMAGE });
    expect(providers(json)).toBeUndefined();
    expect([blocksOf(json, 'docker_image'), blocksOf(json, 'docker_registry_image')]).toEqual([{}, {}]);
    expect(podSpec(json).container[0].image).toBe(IMAGE);
    expect([tbo.serviceImage, tbo.dockerProvider, tbo.imageUri]).toEqual([undefined, undefined, IMAGE]);
    expect(Object.keys(blocksOf(json, 'kubernetes_deployment_v1'))).toEqual(['Tbo_Deployment_817DA1D7']);
    expect(Object.keys(blocksOf(json, 'kubernetes_service_v1')).sort()).toEqual(['Tbo_Redis_Service_A6F82D20', 'Tbo_Service_18ACA8CE']);
    expect(Object.keys(blocksOf(json, 'kubernetes_config_map_v1')).sort()).toEqual(['Tbo_ConfigMap_871D26B4', 'Tbo_DrRunbook_ConfigMap_76069252']);
  });

  it('building only adds the build and the push: every other logical id stays', () => {
    const ids = (text: string) => Object.entries((JSON.parse(text) as { resource: Record<string, object> }).resource).flatMap(([type, blocks]) => Object.keys(blocks).map((id) => `${type}.${id}`));
    const given = ids(synth({ image: IMAGE }).json);
    const built = ids(synth({ registry: REGISTRY }).json);
    expect(built.filter((id) => !given.includes(id)).map((id) => id.split('.')[0]).sort()).toEqual(['docker_image', 'docker_registry_image']);
    expect(given.filter((id) => !built.includes(id))).toEqual([]);
  });
});

describe('without @cdktf/provider-docker installed', () => {
  it('an image given needs nothing of it; building says what to install, or to give image', () => {
    jest.isolateModules(() => {
      for (const module of ['provider', 'image', 'registry-image']) {
        jest.doMock(`@cdktf/provider-docker/lib/${module}`, () => {
          throw Object.assign(new Error(`Cannot find module '@cdktf/provider-docker/lib/${module}' from 'lib/cdktf-image/docker-classes.ts'`), { code: 'MODULE_NOT_FOUND' });
        });
      }
      const k8s = jest.requireActual<typeof import('../../lib/k8s')>('../../lib/k8s');
      const cdktf = jest.requireActual<typeof import('cdktf')>('cdktf');
      const stack = new cdktf.TerraformStack(cdktf.Testing.app(), 'stack');
      new k8s.TboKubernetesService(stack, 'WithImage', { image: IMAGE, namespace: 'a' });
      expect(JSON.parse(cdktf.Testing.synth(stack)).resource.kubernetes_deployment_v1).toBeDefined();
      expect(() => new k8s.TboKubernetesService(stack, 'Builds', { registry: REGISTRY, namespace: 'b' })).toThrow(
        'tbo-deploy: no image was given, so the construct builds the bundled service with @cdktf/provider-docker, which is not installed: npm install --save-dev @cdktf/provider-docker@^12.0.3, or give image',
      );
    });
  });
});

describe('validation', () => {
  it('neither image nor registry: an error naming both', () => {
    expect(error({})).toMatch(/image: received undefined; give image \(a pullable image reference.*\) or registry \(where the construct pushes the bundled service it builds at deploy/);
  });

  it.each([
    ['both image and registry', { image: IMAGE, registry: REGISTRY }, 'registry: received "registry.example.com:5000"; cannot be combined with image'],
    ['a registry address with a scheme', { registry: { address: 'https://ghcr.io' } }, 'registry.address: received "https://ghcr.io"; must be a registry host with an optional port'],
    ['a registry address with a path', { registry: { address: 'ghcr.io/acme' } }, 'registry.address: received "ghcr.io/acme"'],
    ['an upper-case repository', { registry: { address: 'ghcr.io', repository: 'Acme/TBO' } }, 'registry.repository: received "Acme/TBO"; must be a repository path of lowercase letters'],
    ['a repository with a tag', { registry: { address: 'ghcr.io', repository: 'acme/tbo:1' } }, 'registry.repository: received "acme/tbo:1"'],
    ['credentials with authDisabled', { registry: { ...REGISTRY, authDisabled: true, username: 'ci' } }, 'registry.username: received "ci"; cannot be combined with registry.authDisabled'],
    ['a config file with a username', { registry: { ...REGISTRY, configFile: '/c.json', username: 'ci' } }, 'registry.configFile: received "/c.json"; cannot be combined with registry.username or registry.password'],
    ['an unknown platform', { registry: REGISTRY, platform: 'linux/s390x' as never }, 'platform: received "linux/s390x"; accepted values: linux/amd64, linux/arm64'],
    ['a toleration without a key', { image: IMAGE, tolerations: [{ value: 'arm64' }] }, "tolerations[0].key: received undefined; is required with operator 'Equal'"],
    ['Exists with a value', { image: IMAGE, tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }, "tolerations[0].value: received \"v\"; must be unset with operator 'Exists'"],
    ['tolerationSeconds without NoExecute', { image: IMAGE, tolerations: [{ key: 'k', effect: 'NoSchedule', tolerationSeconds: 5 }] }, "tolerations[0].tolerationSeconds: received 5; applies only to effect 'NoExecute'"],
    ['an unknown effect', { image: IMAGE, tolerations: [{ key: 'k', effect: 'Sometimes' as never }] }, 'tolerations[0].effect: received "Sometimes"; accepted values: NoSchedule, PreferNoSchedule, NoExecute'],
  ] as const)('%s is refused, naming the prop', (_, props, message) => {
    expect(error(props as Partial<TboKubernetesServiceProps>)).toContain(message);
  });

  it('a docker provider without registry, or with registry credentials, is refused', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const mine = new DockerProvider(stack, 'docker', {});
    expect(() => new TboKubernetesService(stack, 'A', { image: IMAGE, dockerProvider: mine })).toThrow('dockerProvider: received "(given)"; applies only with registry');
    expect(() => new TboKubernetesService(stack, 'B', { registry: { ...REGISTRY, username: 'ci' }, dockerProvider: mine })).toThrow('registry.username: received "ci"; is not used with dockerProvider');
  });
});
