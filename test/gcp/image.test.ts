/**
 * TboCloudRunService without `image`: the bundled service built by the docker provider at deploy,
 * pushed to an Artifact Registry repository the construct creates (or one given), and run by digest;
 * with `image`, none of it.
 */
import 'cdktf/lib/testing/adapters/jest';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { AnnotationMetadataEntryType, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { serviceDirectory } from '../../lib/core';
import {
  ARTIFACT_REGISTRY_API_SERVICE,
  CONTEXT_HASH_TRIGGER,
  TboCloudRunService,
  buildContextHash,
  dockerProviderAlias,
  parseRepositoryName,
  type TboCloudRunServiceProps,
} from '../../lib/gcp';
import { IMAGE, NAME, container, onlyResource, parse, resourcesOf } from './support';

Testing.setupJest();

/** The example's props without an image: the construct builds. */
const BUILD: TboCloudRunServiceProps = { project: 'my-project', region: 'europe-west1' };

function synthBuild(props: Partial<TboCloudRunServiceProps> = {}): { tbo: TboCloudRunService; json: string } {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const tbo = new TboCloudRunService(stack, 'tbo', { ...BUILD, ...props });
  return { tbo, json: Testing.synth(stack) };
}

/** `type.name` of the only resource of a type. */
function addressOf(json: string, type: string): string {
  const all = resourcesOf(json, type);
  expect(all).toHaveLength(1);
  return `${type}.${all[0][0]}`;
}

function buildError(props: Partial<TboCloudRunServiceProps>): string {
  try {
    synthBuild(props);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a validation error, but synthesis succeeded');
}

const BUILD_TYPES = ['docker_image', 'docker_registry_image', 'google_artifact_registry_repository', 'google_project_service'];

describe('no image: an Artifact Registry repository of its own, the service built and pushed there, Cloud Run on the digest', () => {
  const { tbo, json } = synthBuild();
  const repo = () => addressOf(json, 'google_artifact_registry_repository');

  test('a Docker repository <serviceName>-images in the region, immutable tags, keeping the 10 most recent versions', () => {
    expect(onlyResource(json, 'google_artifact_registry_repository')).toMatchObject({
      project: 'my-project',
      location: 'europe-west1',
      repository_id: `${NAME}-images`,
      format: 'DOCKER',
      mode: 'STANDARD_REPOSITORY',
      docker_config: { immutable_tags: true },
      cleanup_policy_dry_run: false,
      cleanup_policies: [
        { id: 'keep-most-recent', action: 'KEEP', most_recent_versions: { keep_count: 10 } },
        { id: 'delete-older', action: 'DELETE', condition: { tag_state: 'ANY' } },
      ],
    });
    expect(tbo.imageBuild?.repository).toBeDefined();
  });

  test('enables the Artifact Registry API first, leaving it enabled on destroy', () => {
    const api = onlyResource(json, 'google_project_service');
    expect(api).toEqual(expect.objectContaining({ project: 'my-project', service: ARTIFACT_REGISTRY_API_SERVICE, disable_on_destroy: false }));
    expect(onlyResource(json, 'google_artifact_registry_repository').depends_on).toEqual([addressOf(json, 'google_project_service')]);
  });

  test('builds the service folder for linux/amd64, tagged with its content hash (never latest), rebuilt when the hash changes', () => {
    const hash = buildContextHash(serviceDirectory());
    const tag = `${hash.slice(0, 16)}-amd64`;
    const build = onlyResource(json, 'docker_image');
    expect(build).toMatchObject({
      build: { context: serviceDirectory(), platform: 'linux/amd64', labels: expect.objectContaining({ 'org.opencontainers.image.title': 'tbo-service' }) },
      triggers: { [CONTEXT_HASH_TRIGGER]: hash },
      name: `\${${repo()}.location}-docker.pkg.dev/\${${repo()}.project}/\${${repo()}.repository_id}/tbo-service:${tag}`,
    });
    expect(String(build.name)).not.toMatch(/:latest$/);
    expect(tbo.imageBuild?.serviceImage.tag).toBe(tag);
  });

  test('pushes that image after the repository exists, keeping old versions for running revisions and rollbacks', () => {
    expect(onlyResource(json, 'docker_registry_image')).toMatchObject({
      name: `\${${addressOf(json, 'docker_image')}.name}`,
      keep_remotely: true,
      triggers: { [CONTEXT_HASH_TRIGGER]: buildContextHash(serviceDirectory()) },
      depends_on: [repo()],
    });
  });

  test('Cloud Run runs the pushed image by digest', () => {
    const push = addressOf(json, 'docker_registry_image');
    const expected = `\${${repo()}.location}-docker.pkg.dev/\${${repo()}.project}/\${${repo()}.repository_id}/tbo-service@\${${push}.sha256_digest}`;
    expect(container(json).image).toBe(expected);
    expect(tbo.imageUri).toContain('@${');
  });

  test('its own aliased docker provider logs in to <region>-docker.pkg.dev with the deployer\'s access token; no credential in the configuration', () => {
    const alias = dockerProviderAlias(tbo.imageBuild!);
    const [clientConfig] = Object.keys(parse(json).data?.google_client_config ?? {});
    expect(parse(json).provider?.docker).toEqual([
      {
        alias,
        registry_auth: [{ address: 'europe-west1-docker.pkg.dev', username: 'oauth2accesstoken', password: `\${data.google_client_config.${clientConfig}.access_token}` }],
      },
    ]);
    for (const type of ['docker_image', 'docker_registry_image']) expect(onlyResource(json, type).provider).toBe(`docker.${alias}`);
    expect(JSON.parse(json).terraform.required_providers.docker).toEqual({ source: 'kreuzwerker/docker', version: '3.6.2' });
  });

  test('typed fields for each resource', () => {
    const build = tbo.imageBuild!;
    expect(build.apiService?.serviceInput).toBe(ARTIFACT_REGISTRY_API_SERVICE);
    expect(build.repository?.formatInput).toBe('DOCKER');
    expect(build.dockerProvider?.alias).toBe(dockerProviderAlias(build));
    expect(build.serviceImage.platform).toBe('linux/amd64');
    expect(build.serviceImage.image.buildAttributeInput?.context).toBe(serviceDirectory());
    expect(build.imageUri).toBe(tbo.imageUri);
    expect(tbo.resolvedProps.image).toBeUndefined();
  });
});

describe('no region: the registry host follows the provider\'s region', () => {
  test('the login address and the repository location come from google_client_config, read while Terraform plans', () => {
    const { json } = synthBuild({ region: undefined });
    const [clientConfig] = Object.keys(parse(json).data?.google_client_config ?? {});
    expect(parse(json).provider?.docker?.[0].registry_auth).toEqual([expect.objectContaining({ address: `\${data.google_client_config.${clientConfig}.region}-docker.pkg.dev` })]);
    expect(onlyResource(json, 'google_artifact_registry_repository').location).toBe(`\${data.google_client_config.${clientConfig}.region}`);
  });
});

describe('repository options', () => {
  test('repository id, versions kept, API left to the platform team', () => {
    const { json } = synthBuild({ repository: { repositoryId: 'gateway-images', keepVersions: 3, enableApi: false } });
    expect(onlyResource(json, 'google_artifact_registry_repository')).toMatchObject({
      repository_id: 'gateway-images',
      cleanup_policies: [expect.objectContaining({ most_recent_versions: { keep_count: 3 } }), expect.objectContaining({ action: 'DELETE' })],
    });
    expect(resourcesOf(json, 'google_project_service')).toEqual([]);
    expect(onlyResource(json, 'google_artifact_registry_repository').depends_on).toBeUndefined();
  });

  test('an existing repository: nothing of Artifact Registry created, the image pushed to it and run from it', () => {
    const { json, tbo } = synthBuild({ existingRepository: 'projects/shared-images/locations/us/repositories/gateways' });
    expect(resourcesOf(json, 'google_artifact_registry_repository')).toEqual([]);
    expect(resourcesOf(json, 'google_project_service')).toEqual([]);
    expect(onlyResource(json, 'docker_image').name).toMatch(/^us-docker\.pkg\.dev\/shared-images\/gateways\/tbo-service:[0-9a-f]{16}-amd64$/);
    expect(container(json).image).toBe(`us-docker.pkg.dev/shared-images/gateways/tbo-service@\${${addressOf(json, 'docker_registry_image')}.sha256_digest}`);
    expect(parse(json).provider?.docker?.[0].registry_auth).toEqual([expect.objectContaining({ address: 'us-docker.pkg.dev' })]);
    expect(onlyResource(json, 'docker_registry_image').depends_on).toBeUndefined();
    expect(tbo.imageBuild?.repository).toBeUndefined();
  });

  test('an existing repository given as a Terraform reference is split by Terraform', () => {
    expect(parseRepositoryName('projects/p/locations/europe/repositories/r')).toEqual({ project: 'p', location: 'europe', repositoryId: 'r' });
    const stack = new TerraformStack(Testing.app(), 'stack');
    const name = new TerraformVariable(stack, 'images', { type: 'string' });
    new TboCloudRunService(stack, 'tbo', { ...BUILD, existingRepository: name.stringValue });
    const json = Testing.synth(stack);
    expect(onlyResource(json, 'docker_image').name).toContain('${element(split("/", var.images), 3)}-docker.pkg.dev/${element(split("/", var.images), 1)}/${element(split("/", var.images), 5)}/tbo-service:');
  });

  test('a docker provider of yours: used for the build and push; no provider or access token of the construct', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const mine = new DockerProvider(stack, 'docker', { host: 'ssh://builder@build.example.com' });
    const tbo = new TboCloudRunService(stack, 'tbo', { ...BUILD, dockerProvider: mine });
    const json = Testing.synth(stack);
    expect(parse(json).provider?.docker).toEqual([{ host: 'ssh://builder@build.example.com' }]);
    expect(onlyResource(json, 'docker_image').provider).toBe('docker');
    expect(onlyResource(json, 'docker_registry_image').provider).toBe('docker');
    expect(parse(json).data?.google_client_config).toBeUndefined();
    expect(tbo.imageBuild?.dockerProvider).toBeUndefined();
  });

  test('ignoreImageChanges with the built image: a warning that Cloud Run keeps the first digest', () => {
    const { tbo } = synthBuild({ ignoreImageChanges: true });
    const warnings = tbo.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    expect(warnings).toContainEqual(expect.stringContaining('ignoreImageChanges: Cloud Run keeps the first image pushed'));
  });
});

describe('many instances in one stack', () => {
  test('each builds with its own docker provider (distinct aliases) and its own repository; cdktf\'s validations pass', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new GoogleProvider(stack, 'google', {});
    const a = new TboCloudRunService(stack, 'a', BUILD);
    const b = new TboCloudRunService(stack, 'b', BUILD);
    const json = Testing.synth(stack, true);
    const aliases = (parse(json).provider?.docker ?? []).map((p) => p.alias);
    expect(aliases.sort()).toEqual([dockerProviderAlias(a.imageBuild!), dockerProviderAlias(b.imageBuild!)].sort());
    expect(new Set(aliases).size).toBe(2);
    const ids = resourcesOf(json, 'google_artifact_registry_repository').map(([, r]) => r.repository_id);
    expect(ids.sort()).toEqual([`${a.resolvedProps.serviceName}-images`, `${b.resolvedProps.serviceName}-images`].sort());
  });
});

describe('with image: nothing is built', () => {
  const { tbo, json } = synthBuild({ image: IMAGE });

  test('no repository, API, docker provider, build or push; Cloud Run runs the image given', () => {
    for (const type of BUILD_TYPES) expect([type, resourcesOf(json, type)]).toEqual([type, []]);
    expect(parse(json).provider?.docker).toBeUndefined();
    expect(parse(json).data?.google_client_config).toBeUndefined();
    expect(container(json).image).toBe(IMAGE);
    expect([tbo.imageBuild, tbo.imageUri]).toEqual([undefined, IMAGE]);
  });

  test('logical ids of the existing resources are the same as before the build existed, and the build only adds resources', () => {
    const ids = (text: string) => Object.entries(parse(text).resource ?? {}).flatMap(([type, blocks]) => Object.keys(blocks).map((id) => `${type}.${id}`));
    const given = ids(json);
    expect(given).toEqual(expect.arrayContaining([
      'google_cloud_run_v2_service.tbo_Service_5FA8586F',
      'google_service_account.tbo_ServiceAccount_62780E86',
      'google_redis_instance.tbo_Redis_Instance_6187E227',
      'google_secret_manager_secret.tbo_CacheSigningKey_Secret_2C9A09EA',
      'random_password.tbo_CacheSigningKeyValue_9C92BCE7',
    ]));
    const built = ids(synthBuild().json);
    expect(built.filter((id) => !given.includes(id)).map((id) => id.split('.')[0]).sort()).toEqual([...BUILD_TYPES].sort());
    expect(given.filter((id) => !built.includes(id))).toEqual([]);
  });
});

describe('validation', () => {
  test.each([
    ['repository', { image: IMAGE, repository: { keepVersions: 3 } }, 'repository: received "(given)"; applies only when the construct builds the image'],
    ['existingRepository', { image: IMAGE, existingRepository: 'projects/p/locations/us/repositories/r' }, 'existingRepository: received "projects/p/locations/us/repositories/r"; applies only when the construct builds the image'],
    ['both repository props', { repository: {}, existingRepository: 'projects/p/locations/us/repositories/r' }, 'repository: received "(given)"; cannot be combined with existingRepository'],
    ['a malformed existingRepository', { existingRepository: 'us-docker.pkg.dev/p/r' }, 'existingRepository: received "us-docker.pkg.dev/p/r"; must be an Artifact Registry repository name, projects/PROJECT/locations/LOCATION/repositories/REPOSITORY'],
    ['a bad repository id', { repository: { repositoryId: 'Images_1' } }, 'repository.repositoryId: received "Images_1"; the repository id must be 1 to 63 lowercase letters'],
    ['no versions kept', { repository: { keepVersions: 0 } }, 'repository.keepVersions: received 0; must be an integer from 1'],
    ['a blank image', { image: ' ' }, 'image: received " "; must be a container image reference'],
  ] as const)('%s is refused, naming the prop', (_, props, message) => {
    expect(buildError(props as Partial<TboCloudRunServiceProps>)).toContain(message);
  });

  test('a docker provider with an image is refused', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const mine = new DockerProvider(stack, 'docker', {});
    expect(() => new TboCloudRunService(stack, 'tbo', { ...BUILD, image: IMAGE, dockerProvider: mine })).toThrow('dockerProvider: received "(given)"; applies only when the construct builds the image');
  });
});
