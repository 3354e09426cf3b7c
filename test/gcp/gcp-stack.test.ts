import 'cdktf/lib/testing/adapters/jest';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { AnnotationMetadataEntryType, Testing } from 'cdktf';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { GCP_PLACEHOLDERS, TboGcpStack, VERTEX_ROUTES } from '../../app/gcp-stack';
import { serviceDirectory } from '../../lib/core';

Testing.setupJest();

const ENV = ['GOOGLE_PROJECT', 'GOOGLE_REGION', 'TBO_IMAGE', 'TBO_CREATE_SERVICE', 'TBO_BACKEND', 'CLOUD_ML_REGION', 'TBO_SENTRY_DSN_SECRET', 'TBO_SECRET_LOCATIONS'] as const;

describe('TboGcpStack (app/gcp-stack.ts)', () => {
  const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  beforeEach(() => {
    for (const k of ENV) delete process.env[k];
  });
  afterAll(() => {
    for (const k of ENV) if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  });

  function synth(props?: ConstructorParameters<typeof TboGcpStack>[2]): { json: string; stack: TboGcpStack } {
    const stack = new TboGcpStack(Testing.app(), 'tbo-gcp', props);
    return { json: Testing.synth(stack), stack };
  }

  test('project, region and (optionally) the image come from GOOGLE_PROJECT, GOOGLE_REGION and TBO_IMAGE', () => {
    process.env.GOOGLE_PROJECT = 'acme-prod';
    process.env.GOOGLE_REGION = 'us-central1';
    process.env.TBO_IMAGE = 'us-central1-docker.pkg.dev/acme-prod/tbo/tbo-service:2.0.0';
    const { json, stack } = synth();
    expect(json).toHaveProviderWithProperties(GoogleProvider, { project: 'acme-prod', region: 'us-central1' });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, { project: 'acme-prod', location: 'us-central1', name: stack.tbo.resolvedProps.serviceName });
    expect(json).toContain('"image": "us-central1-docker.pkg.dev/acme-prod/tbo/tbo-service:2.0.0"');
  });

  test('without the env vars: clear placeholders for project and region, a synth warning for each; no placeholder image', () => {
    const { json, stack } = synth();
    expect(json).toHaveProviderWithProperties(GoogleProvider, { project: GCP_PLACEHOLDERS.project, region: GCP_PLACEHOLDERS.region });
    const warnings = stack.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringContaining('GOOGLE_PROJECT is not set'), expect.stringContaining('GOOGLE_REGION is not set')]);
    const [service] = Object.values(JSON.parse(json).resource.google_cloud_run_v2_service) as { template: { containers: { image: string }[] } }[];
    expect(service.template.containers[0].image).toMatch(/\/tbo-service@\$\{docker_registry_image\.[^.]+\.sha256_digest\}$/);
    expect(json).not.toContain('replace-with-your-tbo-image');
  });

  test('by default one deploy builds the bundled service, pushes it to Artifact Registry and runs it by digest', () => {
    process.env.GOOGLE_PROJECT = 'acme-prod';
    process.env.GOOGLE_REGION = 'us-central1';
    const { json, stack } = synth();
    const parsed = JSON.parse(json);
    expect(Object.values(parsed.resource.docker_image)).toEqual([expect.objectContaining({ build: expect.objectContaining({ context: serviceDirectory(), platform: 'linux/amd64' }) })]);
    expect(Object.values(parsed.resource.google_artifact_registry_repository)).toEqual([expect.objectContaining({ project: 'acme-prod', location: 'us-central1' })]);
    expect(parsed.provider.docker).toEqual([expect.objectContaining({ registry_auth: [expect.objectContaining({ address: 'us-central1-docker.pkg.dev' })] })]);
    const [service] = Object.values(parsed.resource.google_cloud_run_v2_service) as { template: { containers: { image: string }[] } }[];
    expect(stack.tbo.imageBuild?.serviceImage).toBeDefined();
    expect(service.template.containers[0].image).toMatch(/-docker\.pkg\.dev\/.+\/tbo-service@\$\{docker_registry_image\.[^.]+\.sha256_digest\}$/);
  });

  test('TBO_IMAGE runs an image built elsewhere: nothing is built or pushed', () => {
    process.env.TBO_IMAGE = 'us-central1-docker.pkg.dev/acme-prod/tbo/tbo-service:2.0.0';
    const parsed = JSON.parse(synth().json);
    expect(parsed.resource.docker_image).toBeUndefined();
    expect(parsed.resource.google_artifact_registry_repository).toBeUndefined();
    expect(parsed.provider.docker).toBeUndefined();
  });

  test('passes cdktf\'s synth validations (every provider it uses is declared: google, random for the signing key, docker for the image)', () => {
    const stack = new TboGcpStack(Testing.app(), 'tbo-gcp');
    const json = Testing.synth(stack, true);
    expect(Object.keys(JSON.parse(json).provider).sort()).toEqual(['docker', 'google', 'random']);
    expect(JSON.parse(json).resource.random_password).toBeDefined();
    process.env.TBO_IMAGE = 'img:1';
    expect(Object.keys(JSON.parse(Testing.synth(new TboGcpStack(Testing.app(), 'tbo-gcp'), true)).provider).sort()).toEqual(['google', 'random']);
  });

  test('a local backend', () => {
    const { json } = synth({ statePath: 'terraform.tbo-gcp.tfstate' });
    expect(JSON.parse(json).terraform.backend).toEqual({ local: { path: 'terraform.tbo-gcp.tfstate' } });
  });

  test('the construct with its defaults: names from its path, one deploy (placeholders, the service)', () => {
    const { json, stack } = synth();
    expect(stack.tbo.resolvedProps).toMatchObject({ minInstances: 2, maxInstances: 100, public: true, createService: true, secretPlaceholders: true });
    expect(stack.tbo.resolvedProps.serviceName).toMatch(/^tbo-gcp-tbo-[0-9a-f]{6}$/);
    expect(stack.tbo.redis).toBeDefined();
    expect(JSON.parse(json).output).toHaveProperty('tbo_rollout_command');
    expect(stack.tbo.secrets.anthropicApiKey?.placeholderVersion).toBeDefined();
  });

  test('TBO_CREATE_SERVICE=false synthesizes the first-deploy stage (secrets, no service)', () => {
    process.env.TBO_CREATE_SERVICE = 'false';
    const { json, stack } = synth();
    expect(stack.tbo.service).toBeUndefined();
    expect(JSON.parse(json).resource.google_cloud_run_v2_service).toBeUndefined();
    // The generated signing key already has its version in the first stage.
    expect(stack.tbo.secrets.cacheSigningKey.version).toBeDefined();
  });

  test('the default (public) variant grants nothing on Vertex AI: its only project grants are the collectors\'', () => {
    const { json, stack } = synth();
    const roles = Object.values(JSON.parse(json).resource.google_project_iam_member as Record<string, { role: string }>).map((g) => g.role).sort();
    expect(roles).toEqual(['roles/cloudtrace.agent', 'roles/monitoring.metricWriter']);
    expect(stack.tbo.vertexAccess).toBeUndefined();
  });

  test('production settings: metrics for the alert policies, traces to Cloud Trace, Redis exports; no Sentry or regional secrets unless asked', () => {
    const { json, stack } = synth();
    expect(stack.tbo.managedPrometheus).toBeDefined();
    expect(stack.tbo.traceCollector).toBeDefined();
    expect(stack.tbo.redisExport?.bucket).toBeDefined();
    const [service] = Object.values(JSON.parse(json).resource.google_cloud_run_v2_service) as { template: { containers: { name: string }[] } }[];
    expect(service.template.containers.map((c) => c.name)).toEqual(['tbo', 'otel-collector', 'collector']);
    expect(Object.keys(JSON.parse(json).output).sort()).toEqual(
      ['backup_bucket', 'redis_export_command', 'redis_import_command', 'redis_instance', 'region', 'rollout_command', 'secret_commands', 'service_name', 'url'].map((o) => `tbo_${o}`),
    );
    const warnings = stack.tbo.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    expect(warnings).toEqual([]); // the alert policies have their collector
    expect(stack.tbo.secrets.sentryDsn).toBeUndefined();
    for (const secret of Object.values(JSON.parse(json).resource.google_secret_manager_secret) as { replication: unknown }[]) expect(secret.replication).toEqual({ auto: {} });
  });

  test('TBO_SENTRY_DSN_SECRET and TBO_SECRET_LOCATIONS: Sentry from that secret, every created secret in those regions', () => {
    process.env.TBO_SENTRY_DSN_SECRET = 'acme-sentry-dsn';
    process.env.TBO_SECRET_LOCATIONS = 'europe-west1, europe-west4';
    const { json, stack } = synth();
    expect(stack.tbo.secrets.sentryDsn?.secretRef).toBe('acme-sentry-dsn');
    for (const secret of Object.values(JSON.parse(json).resource.google_secret_manager_secret) as { replication: unknown }[]) {
      expect(secret.replication).toEqual({ user_managed: { replicas: [{ location: 'europe-west1' }, { location: 'europe-west4' }] } });
    }
  });

  test('each production setting yields to the same prop in service', () => {
    process.env.TBO_SENTRY_DSN_SECRET = 'from-env';
    const { stack } = synth({ service: { managedPrometheus: false, alerts: false, tracing: { otlpEndpoint: 'http://10.0.0.7:4318' }, redis: { tier: 'BASIC' }, existingSentryDsnSecret: 'from-props' } });
    expect(stack.tbo.managedPrometheus).toBeUndefined();
    expect(stack.tbo.traceCollector).toBeUndefined();
    expect(stack.tbo.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://10.0.0.7:4318');
    expect(stack.tbo.resolvedProps.redis?.tier).toBe('BASIC');
    expect(stack.tbo.redisExport).toBeDefined(); // merged into the given redis options
    expect(stack.tbo.secrets.sentryDsn?.secretRef).toBe('from-props');
    expect(synth({ service: { redis: { export: false } } }).stack.tbo.redisExport).toBeUndefined();
  });

  test('TBO_BACKEND=vertex routes every tier to Vertex AI: the grant, the API, no Anthropic key; CLOUD_ML_REGION is the location', () => {
    process.env.TBO_BACKEND = 'vertex';
    process.env.CLOUD_ML_REGION = 'us-east5';
    process.env.GOOGLE_PROJECT = 'acme-models';
    const { json, stack } = synth();
    expect(stack.tbo.resolvedProps.config).toMatchObject({ ...VERTEX_ROUTES, vertexRegion: 'us-east5', vertexProject: 'acme-models' });
    expect(stack.tbo.vertexAccess?.grant).toBeDefined();
    expect(json).toHaveResourceWithProperties(ProjectIamMember, { project: 'acme-models' });
    expect(stack.tbo.secrets.anthropicApiKey).toBeUndefined();
    expect(JSON.parse(json).output.tbo_secret_commands.value).not.toHaveProperty('ANTHROPIC_API_KEY');
    expect(() => Testing.synth(new TboGcpStack(Testing.app(), 'tbo-gcp'), true)).not.toThrow(); // cdktf's own synth validations
  });

  test('an unknown TBO_BACKEND is refused, naming the accepted values', () => {
    process.env.TBO_BACKEND = 'bedrock';
    expect(() => synth()).toThrow('TBO_BACKEND: received "bedrock"; accepted values: public, vertex');
  });

  test('props win over the environment', () => {
    process.env.GOOGLE_PROJECT = 'from-env';
    const { json } = synth({ project: 'from-props', region: 'europe-west4', image: 'img:1', createService: true, service: { redis: false } });
    expect(json).toHaveProviderWithProperties(GoogleProvider, { project: 'from-props', region: 'europe-west4' });
    expect(JSON.parse(json).resource.google_redis_instance).toBeUndefined();
    expect(JSON.parse(json).resource.google_storage_bucket).toBeUndefined();
  });
});
