import 'cdktf/lib/testing/adapters/jest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { App, Testing } from 'cdktf';
import { K8S_PLACEHOLDERS, TboKubernetesStack, type TboKubernetesStackProps } from '../../app/k8s-stack';
import { SECRET_ENV, serviceDirectory } from '../../lib/core';
import { blockOf, blocksOf } from './support/synth';

Testing.setupJest();

const ENV_KEYS = ['KUBECONFIG', 'KUBE_CONTEXT', 'TBO_IMAGE', 'TBO_REGISTRY', 'TBO_REGISTRY_AUTH_DISABLED', 'TBO_PLATFORM', ...Object.values(SECRET_ENV)];
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
function setEnv(env: Record<string, string | undefined>): void {
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
}

function synthStack(props: TboKubernetesStackProps = {}): { stack: TboKubernetesStack; json: string } {
  const stack = new TboKubernetesStack(Testing.app(), 'tbo-k8s', props);
  return { stack, json: Testing.synth(stack) };
}

/** Every file under dir, with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, text: readFileSync(path, 'utf8') }];
  });
}

describe('TboKubernetesStack', () => {
  it('configures the kubernetes provider from KUBECONFIG and KUBE_CONTEXT, and the image from TBO_IMAGE', () => {
    setEnv({ KUBECONFIG: '/etc/kube/prod.yaml', KUBE_CONTEXT: 'prod', TBO_IMAGE: 'ghcr.io/acme/tbo:2.0.0' });
    const { stack, json } = synthStack();
    expect(json).toHaveProviderWithProperties(KubernetesProvider, { config_path: '/etc/kube/prod.yaml', config_context: 'prod' });
    expect(json).toHaveResourceWithProperties(DeploymentV1, {
      spec: expect.objectContaining({ template: expect.objectContaining({ spec: expect.objectContaining({ container: [expect.objectContaining({ image: 'ghcr.io/acme/tbo:2.0.0' })] }) }) }),
    });
    expect(stack.node.metadata).toEqual([]);
  });

  it('takes several kubeconfig files as config_paths, as KUBECONFIG lists them', () => {
    setEnv({ KUBECONFIG: '/a/config:/b/config', TBO_IMAGE: 'i' });
    expect(synthStack().json).toHaveProviderWithProperties(KubernetesProvider, { config_paths: ['/a/config', '/b/config'] });
  });

  it('falls back to clear placeholders and says so at synth, naming what to set', () => {
    setEnv({});
    const { stack, json } = synthStack();
    expect(json).toHaveProviderWithProperties(KubernetesProvider, { config_path: '~/.kube/config' });
    expect(stack.node.metadata.map((m) => String(m.data))).toEqual([
      `KUBECONFIG is not set: synthesized with the placeholder "${K8S_PLACEHOLDERS.kubeconfig}"`,
      expect.stringMatching(/^TBO_REGISTRY is not set: synthesized with the placeholder "replace-with-your-registry\.invalid\/tbo-service"; set TBO_REGISTRY .* or TBO_IMAGE/),
    ]);
    // The bundled service is still what is built: only where it goes is a placeholder (a host that never resolves).
    expect(Object.values(blocksOf(json, 'docker_image'))).toEqual([expect.objectContaining({ build: expect.objectContaining({ context: serviceDirectory() }) })]);
  });

  it('by default builds the bundled service, pushes it to TBO_REGISTRY and runs it by digest', () => {
    setEnv({ KUBECONFIG: '/k', TBO_REGISTRY: 'ghcr.io/acme/tbo-service' });
    const { stack, json } = synthStack();
    expect(stack.node.metadata).toEqual([]);
    const [build] = Object.values(blocksOf(json, 'docker_image'));
    expect(build).toMatchObject({ name: expect.stringMatching(/^ghcr\.io\/acme\/tbo-service:[0-9a-f]{16}-amd64$/), build: { context: serviceDirectory(), platform: 'linux/amd64' } });
    expect((JSON.parse(json) as { provider: { docker: unknown[] } }).provider.docker).toEqual([expect.objectContaining({ registry_auth: [{ address: 'ghcr.io' }] })]);
    const [pushId] = Object.keys(blocksOf(json, 'docker_registry_image'));
    expect(json).toHaveResourceWithProperties(DeploymentV1, {
      spec: expect.objectContaining({ template: expect.objectContaining({ spec: expect.objectContaining({ container: [expect.objectContaining({ image: `ghcr.io/acme/tbo-service@\${docker_registry_image.${pushId}.sha256_digest}` })] }) }) }),
    });
  });

  it('TBO_REGISTRY_AUTH_DISABLED for a local registry, TBO_PLATFORM for arm64 nodes', () => {
    setEnv({ KUBECONFIG: '/k', TBO_REGISTRY: 'localhost:5001', TBO_REGISTRY_AUTH_DISABLED: 'true', TBO_PLATFORM: 'linux/arm64' });
    const { json } = synthStack();
    expect((JSON.parse(json) as { provider: { docker: unknown[] } }).provider.docker).toEqual([expect.objectContaining({ registry_auth: [{ address: 'localhost:5001', auth_disabled: true }] })]);
    expect(Object.values(blocksOf(json, 'docker_image'))).toEqual([expect.objectContaining({ name: expect.stringMatching(/^localhost:5001\/tbo-service:[0-9a-f]{16}-arm64$/) })]);
    expect(json).toHaveResourceWithProperties(DeploymentV1, {
      spec: expect.objectContaining({ template: expect.objectContaining({ spec: expect.objectContaining({ node_selector: { 'kubernetes.io/arch': 'arm64' } }) }) }),
    });
  });

  it('TBO_IMAGE runs an image built elsewhere: nothing is built, no registry needed', () => {
    setEnv({ KUBECONFIG: '/k', TBO_IMAGE: 'tbo-service:dev' });
    const { stack, json } = synthStack();
    expect(stack.node.metadata).toEqual([]);
    expect(blocksOf(json, 'docker_image')).toEqual({});
    expect((JSON.parse(json) as { provider: Record<string, unknown> }).provider.docker).toBeUndefined();
  });

  it.each([
    ['TBO_REGISTRY', { TBO_REGISTRY: 'https://ghcr.io/acme' }, 'TBO_REGISTRY: received "https://ghcr.io/acme"; must be HOST[:PORT]/PATH'],
    ['TBO_REGISTRY', { TBO_REGISTRY: 'ghcr.io/Acme/TBO:1' }, 'TBO_REGISTRY: received "ghcr.io/Acme/TBO:1"'],
    ['TBO_PLATFORM', { TBO_PLATFORM: 'arm64' }, 'TBO_PLATFORM: received "arm64"; accepted values: linux/amd64, linux/arm64'],
    ['TBO_REGISTRY_AUTH_DISABLED', { TBO_REGISTRY: 'localhost:5001', TBO_REGISTRY_AUTH_DISABLED: 'yes' }, 'TBO_REGISTRY_AUTH_DISABLED: received "yes"; accepted values: true, false'],
  ])('a malformed %s is refused, naming the variable', (_, env, message) => {
    setEnv({ KUBECONFIG: '/k', ...env });
    expect(() => synthStack()).toThrow(message);
  });

  it('uses a local backend and composes TboKubernetesService with its defaults', () => {
    setEnv({ TBO_IMAGE: 'i' });
    const { stack, json } = synthStack({ kubeconfig: '/k' });
    expect(JSON.parse(json).terraform.backend).toEqual({ local: { path: expect.stringMatching(/terraform\.tbo-k8s\.tfstate$/) } });
    expect(stack.tbo.namespaceName).toBe('tbo-system');
    expect(stack.tbo.redis).toBeDefined();
    expect(json).not.toHaveResource(SecretV1);
  });

  it('keeps the guide\'s names (namespace tbo-system, tbo-service, Secret tbo-secrets) and outputs what an operator needs', () => {
    setEnv({ TBO_IMAGE: 'i' });
    const { stack, json } = synthStack({ kubeconfig: '/k' });
    expect([stack.tbo.name, stack.tbo.namespaceName, stack.tbo.secretName]).toEqual(['tbo', 'tbo-system', 'tbo-secrets']);
    const ref = (type: string, part: string) => `\${${type}.${Object.keys(blocksOf(json, type)).find((n) => n.includes(part))}.metadata[0].name}`;
    expect(JSON.parse(json).output).toEqual({
      namespace: expect.objectContaining({ value: 'tbo-system' }),
      secret_name: expect.objectContaining({ value: 'tbo-secrets' }),
      internal_url: expect.objectContaining({ value: 'http://tbo-service.tbo-system.svc:80' }),
      deployment_name: expect.objectContaining({ value: ref('kubernetes_deployment_v1', 'Deployment') }),
      secret_create_command: expect.objectContaining({ value: stack.tbo.secretCreateCommand }),
      redis_backup_cronjob: expect.objectContaining({ value: ref('kubernetes_cron_job_v1', 'CronJob') }),
      redis_backup_claim: expect.objectContaining({ value: ref('kubernetes_persistent_volume_claim_v1', 'Claim') }),
      dr_runbook_configmap: expect.objectContaining({ value: ref('kubernetes_config_map_v1', 'DrRunbook') }),
    });
    expect(blockOf(json, 'kubernetes_deployment_v1').metadata).toMatchObject({ name: 'tbo-service' });
    expect(blockOf(json, 'kubernetes_cron_job_v1').metadata).toMatchObject({ name: 'tbo-backup' });
    expect(blockOf(json, 'kubernetes_persistent_volume_claim_v1').metadata).toMatchObject({ name: 'tbo-backup' });
    expect(blockOf(json, 'kubernetes_config_map_v1', 'DrRunbook').metadata).toMatchObject({ name: 'tbo-dr-runbook' });
  });

  it('secret_create_command creates the Secret with every key the pods read, each value from its shell variable, never a literal', () => {
    setEnv({ TBO_IMAGE: 'i' });
    const { stack } = synthStack({ kubeconfig: '/k' });
    const literals = stack.tbo.plan.secret.refs.map((r) => `--from-literal=${r.key}="$${r.env}"`);
    expect(stack.tbo.secretCreateCommand).toBe(['kubectl -n tbo-system create secret generic tbo-secrets', ...literals].join(' '));
    expect(literals).toEqual(expect.arrayContaining(['--from-literal=jwt-secret="$JWT_SECRET_KEY"', '--from-literal=redis-password="$REDIS_PASSWORD"', '--from-literal=sentry-dsn="$SENTRY_DSN"']));
    expect(literals).toHaveLength(Object.keys(SECRET_ENV).length);
  });

  it('without the in-cluster Redis, with the Secret created from values, or without the runbook, the outputs that would name nothing are left out', () => {
    setEnv({ TBO_IMAGE: 'i' });
    const outputs = (service: TboKubernetesStackProps['service']) => Object.keys(JSON.parse(synthStack({ kubeconfig: '/k', service }).json).output as object).sort();
    expect(outputs({ redis: false })).toEqual(['deployment_name', 'dr_runbook_configmap', 'internal_url', 'namespace', 'secret_create_command', 'secret_name']);
    expect(outputs({ secrets: { values: { jwtSecretKey: 'j'.repeat(32), redisPassword: 'p' } }, redis: { backup: false }, drRunbook: false })).toEqual(['deployment_name', 'internal_url', 'namespace', 'secret_name']);
  });

  it('passes props through', () => {
    const { stack, json } = synthStack({ kubeconfig: '/k', image: 'img', statePath: 'state/k8s.tfstate', service: { replicas: 3, redis: false } });
    expect(JSON.parse(json).terraform.backend.local.path).toMatch(/state\/k8s\.tfstate$/);
    expect(stack.tbo.redis).toBeUndefined();
    expect(json).toHaveResourceWithProperties(DeploymentV1, { spec: expect.objectContaining({ replicas: '3' }) });
  });
});

describe('credentials in the synthesized output', () => {
  const SENTINELS = {
    [SECRET_ENV.anthropicApiKey]: 'SENTINEL-anthropic-a41f',
    [SECRET_ENV.openaiApiKey]: 'SENTINEL-openai-b52e',
    [SECRET_ENV.apiKeys]: 'tenant:SENTINEL-client-c63d',
    [SECRET_ENV.jwtSecretKey]: 'SENTINEL-jwt-d74c-0123456789abcdef0123456789',
    [SECRET_ENV.redisPassword]: 'SENTINEL-redis-e85b',
    [SECRET_ENV.adminKeys]: 'SENTINEL-admin-f96a-0123456789',
    [SECRET_ENV.cacheSigningKey]: 'SENTINEL-signing-0a7b-0123456789abcdef0123456789',
    [SECRET_ENV.sentryDsn]: 'https://SENTINEL-sentry-1b8c@o1.ingest.sentry.io/42',
  };
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), 'tbo-k8s-synth-'));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  it('by reference (default): no credential appears anywhere in cdktf.out, even with the keys in the environment', () => {
    setEnv({ KUBECONFIG: '/k', TBO_IMAGE: 'i', ...SENTINELS });
    const app = new App({ outdir });
    new TboKubernetesStack(app, 'tbo-k8s');
    app.synth();
    const files = filesUnder(outdir);
    expect(files.some((f) => f.path.endsWith('cdk.tf.json'))).toBe(true);
    const leaks = files.flatMap((f) => Object.values(SENTINELS).filter((s) => f.text.includes(s)).map((s) => `${f.path}: ${s}`));
    expect(leaks).toEqual([]);
  });

  it('created from values (option): the values appear only in the Secret resource, as the README warns', () => {
    setEnv({ KUBECONFIG: '/k', TBO_IMAGE: 'i' });
    const values = {
      anthropicApiKey: SENTINELS[SECRET_ENV.anthropicApiKey],
      jwtSecretKey: SENTINELS[SECRET_ENV.jwtSecretKey],
      redisPassword: SENTINELS[SECRET_ENV.redisPassword],
      cacheSigningKey: SENTINELS[SECRET_ENV.cacheSigningKey],
    };
    const app = new App({ outdir });
    new TboKubernetesStack(app, 'tbo-k8s', { service: { secrets: { values } } });
    app.synth();
    const files = filesUnder(outdir);
    const config = files.find((f) => f.path.endsWith('cdk.tf.json'))!;
    const others = files.filter((f) => f !== config);
    expect(others.flatMap((f) => Object.values(values).filter((s) => f.text.includes(s)))).toEqual([]);
    const parsed = JSON.parse(config.text) as { resource: Record<string, unknown> };
    const secret = JSON.stringify(parsed.resource.kubernetes_secret_v1);
    delete parsed.resource.kubernetes_secret_v1;
    const rest = JSON.stringify(parsed);
    for (const value of Object.values(values)) {
      expect(secret).toContain(value);
      expect(rest).not.toContain(value);
    }
  });
});
