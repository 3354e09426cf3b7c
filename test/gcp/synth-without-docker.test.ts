/**
 * Synth never needs Docker: the example app (app/main.ts, both stacks building the bundled service)
 * runs in a child process whose Docker endpoint does not exist and whose PATH has no `docker`, and
 * still writes the build, the push and the digest-pinned workloads. The docker provider talks to the
 * daemon only when `cdktf deploy` applies.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { serviceDirectory } from '../../lib/core';
import { buildContextHash } from '../../lib/gcp';

const REPO = join(__dirname, '..', '..');
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** PATH without any directory holding a `docker` executable. */
function pathWithoutDocker(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => {
      try {
        accessSync(join(dir, 'docker'), constants.X_OK);
        return false;
      } catch {
        return true;
      }
    })
    .join(delimiter);
}

function run(outdir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['TBO_IMAGE', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'TBO_PLATFORM', 'TBO_REGISTRY_AUTH_DISABLED']) delete env[key];
  Object.assign(env, {
    PATH: pathWithoutDocker(),
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    CDKTF_OUTDIR: outdir,
    CHECKPOINT_DISABLE: '1',
    GOOGLE_PROJECT: 'acme-prod',
    GOOGLE_REGION: 'europe-west1',
    KUBECONFIG: '/nonexistent/kubeconfig',
    TBO_REGISTRY: 'registry.example.com:5000/acme/tbo-service',
  });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, join(REPO, 'app', 'main.ts')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

type Stack = { resource: Record<string, Record<string, Record<string, unknown>>>; provider: Record<string, Record<string, unknown>[]> };

describe('synth with no Docker daemon and no docker CLI', () => {
  let outdir: string;
  let result: { code: number | null; output: string };
  const stack = (id: string): Stack => JSON.parse(readFileSync(join(outdir, 'stacks', id, 'cdk.tf.json'), 'utf8')) as Stack;
  const only = (s: Stack, type: string) => {
    const blocks = Object.values(s.resource[type] ?? {});
    expect(blocks).toHaveLength(1);
    return blocks[0];
  };

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'tbo-synth-no-docker-'));
    result = await run(outdir);
  }, 120_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('succeeds and writes both stacks', () => {
    expect([result.code, result.output.slice(-2000)]).toEqual([0, expect.any(String)]);
    expect(existsSync(join(outdir, 'stacks', 'tbo-gcp', 'cdk.tf.json'))).toBe(true);
    expect(existsSync(join(outdir, 'stacks', 'tbo-k8s', 'cdk.tf.json'))).toBe(true);
  });

  it('tbo-gcp: builds the service folder, pushes to Artifact Registry, and Cloud Run runs the digest', () => {
    const gcp = stack('tbo-gcp');
    expect(only(gcp, 'docker_image')).toMatchObject({ build: { context: serviceDirectory(), platform: 'linux/amd64' }, triggers: { context_sha256: buildContextHash(serviceDirectory()) } });
    expect(only(gcp, 'google_artifact_registry_repository')).toMatchObject({ project: 'acme-prod', location: 'europe-west1', format: 'DOCKER' });
    const [push] = Object.keys(gcp.resource.docker_registry_image);
    const service = only(gcp, 'google_cloud_run_v2_service') as { template: { containers: { image: string }[] } };
    expect(service.template.containers[0].image).toMatch(new RegExp(`/tbo-service@\\$\\{docker_registry_image\\.${push}\\.sha256_digest\\}$`));
  });

  it('tbo-k8s: builds the service folder, pushes to TBO_REGISTRY, and the Deployment runs the digest', () => {
    const k8s = stack('tbo-k8s');
    expect(only(k8s, 'docker_image')).toMatchObject({ build: { context: serviceDirectory(), platform: 'linux/amd64' }, name: expect.stringMatching(/^registry\.example\.com:5000\/acme\/tbo-service:[0-9a-f]{16}-amd64$/) });
    expect(k8s.provider.docker).toEqual([expect.objectContaining({ registry_auth: [{ address: 'registry.example.com:5000' }] })]);
    const [push] = Object.keys(k8s.resource.docker_registry_image);
    const deployment = only(k8s, 'kubernetes_deployment_v1') as { spec: { template: { spec: { container: { image: string }[] } } } };
    expect(deployment.spec.template.spec.container[0].image).toBe(`registry.example.com:5000/acme/tbo-service@\${docker_registry_image.${push}.sha256_digest}`);
  });
});
