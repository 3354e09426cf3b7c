/**
 * The package as a team gets it. This checkout's files (what `git ls-files` lists, as a clone would
 * have them, without dist/) are copied to a temporary folder and `npm pack` runs there, so its
 * `prepack` has to build dist/ first. The tarball is installed with npm into two fresh projects:
 * one with only `aws-cdk-lib` + `constructs` (no cdktf anywhere), one with cdktf and the Google,
 * Kubernetes and random providers. Each project compiles a small team app with TypeScript, with the
 * compiler options of its tool's own project template (the package's `exports`, `typesVersions` and
 * declarations, as a team's editor and build see them), and synthesizes
 * stacks that put each construct into the team's own VPC and cluster, provider settings and
 * namespace.
 *
 * Offline but for the npm registry, and fast: the peers are symlinked from this checkout's
 * node_modules (the providers are hundreds of MB), the package's own dependencies come from npm's
 * cache (`--prefer-offline`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';

const REPO = join(__dirname, '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const SETUP_TIMEOUT_MS = 240_000;

type Json = Record<string, unknown>;
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Json;
}

/** The environment for npm and node children: this process's, without what an outer `npm test` set for itself. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(lifecycle_|package_|command$|execpath$|node_execpath$)/.test(k) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, CHECKPOINT_DISABLE: '1', CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', ...extra };
}

/** Runs a command to completion; rejects with its output when it fails or outlives `timeoutMs`. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = childEnv(), timeoutMs = 150_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} in ${cwd}: ${signal ?? `exit ${code}`}\n${out.slice(-6000)}`));
    });
  });
}

/** This checkout's files as a fresh clone would have them (tracked and new, not ignored), copied to `dest`. */
function copyCheckout(dest: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const source = join(REPO, file);
    if (!existsSync(source) || !statSync(source).isFile()) continue; // deleted in the work tree
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(source, join(dest, file));
  }
}

/** Links `packages` from this checkout's node_modules into a project's. */
function linkPeers(project: string, packages: readonly string[]): void {
  for (const name of packages) {
    const link = join(project, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', name), link, 'dir');
  }
}

/** Top-level entries of a project's node_modules (scoped packages as `@scope/name`), dot entries left out. */
function installed(project: string): string[] {
  const dir = join(project, 'node_modules');
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(dir, n)).map((m) => `${n}/${m}`) : [n]))
    .sort();
}

/** The compiler options of `cdk init app --language typescript` (aws-cdk 2.1148). */
const CDK_INIT_OPTIONS = { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext' };
/**
 * Those of `cdktf init --template typescript` (0.21): CommonJS, which TypeScript 5 resolves the
 * node10 way (no `exports`: the package's `typesVersions` must lead it to the subpaths' types).
 */
const CDKTF_INIT_OPTIONS = { target: 'es2018', module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' };
const tsconfig = (options: Json) => ({ compilerOptions: { ...options, strict: true, skipLibCheck: true, types: [], rootDir: 'src', outDir: 'build' }, include: ['src'] });

/** Records every module the app loaded (node -r), so a test can tell which packages it needed. */
const RECORD_MODULES = `const { writeFileSync } = require('node:fs');
process.on('exit', () => writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify(Object.keys(require.cache))));
`;

/** A team's AWS app: its own VPC and ECS cluster, TBO in them, an output of its own from TBO's fields. */
const AWS_APP = `import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { SERVICE_PORT, type TboServiceConfig } from 'tbo-deploy';
import { TboFargateService, type TboFargateServiceProps } from 'tbo-deploy/aws';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'TeamAws', { env: { account: '111111111111', region: 'eu-west-1' } });
const vpc = new ec2.Vpc(stack, 'TeamVpc', { ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'), maxAzs: 2, natGateways: 1 });
const cluster = new ecs.Cluster(stack, 'TeamCluster', { vpc, clusterName: 'team-cluster' });
const config: TboServiceConfig = { optimizationLevel: 'speed' };
const props: TboFargateServiceProps = { existingVpc: vpc, existingCluster: cluster, config };
const tbo = new TboFargateService(stack, 'Gateway', props);
new CfnOutput(stack, 'GatewayAddress', { value: \`\${tbo.loadBalancer.loadBalancerDnsName} (containers on \${SERVICE_PORT})\` });
app.synth();
`;

/** A team's cdktf app: Cloud Run in its own project, region and VPC; Kubernetes in its own cluster context and namespace. */
const CDKTF_APP = `import { App, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TboCloudRunService, type TboCloudRunServiceProps } from 'tbo-deploy/gcp';
import { TboKubernetesService, type TboKubernetesServiceProps } from 'tbo-deploy/k8s';

class TeamGcp extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', { project: 'team-project', region: 'europe-west4' });
    const network = new ComputeNetwork(this, 'team-vpc', { name: 'team-vpc', autoCreateSubnetworks: false });
    const subnet = new ComputeSubnetwork(this, 'team-subnet', { name: 'team-subnet', network: network.id, ipCidrRange: '10.8.0.0/24', region: 'europe-west4' });
    const props: TboCloudRunServiceProps = {
      image: 'europe-west4-docker.pkg.dev/team-project/tbo/tbo-service:1.0.0',
      project: 'team-project',
      region: 'europe-west4',
      existingNetwork: network.id,
      existingSubnetwork: subnet.id,
      config: { optimizationLevel: 'balanced' },
    };
    new TboCloudRunService(this, 'gateway', props);
  }
}

class TeamK8s extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'k8s', { configPath: '~/.kube/config', configContext: 'team-cluster' });
    const props: TboKubernetesServiceProps = {
      image: 'registry.example.com/team/tbo-service:1.0.0',
      namespace: 'team-llm',
      ingress: { host: 'llm.team.example', tlsSecretName: 'llm-tls' },
    };
    new TboKubernetesService(this, 'gateway', props);
  }
}

const app = new App({ outdir: 'cdktf.out' });
new TeamGcp(app, 'team-gcp');
new TeamK8s(app, 'team-k8s');
app.synth();
`;

/** A team's cdktf app that gives no image: both constructs build the bundled service (Cloud Run: Artifact Registry; Kubernetes: its registry, arm64). */
const CDKTF_BUILD_APP = `import { App, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TboCloudRunService } from 'tbo-deploy/gcp';
import { TboKubernetesService } from 'tbo-deploy/k8s';

class TeamBuilds extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', { project: 'team-project', region: 'europe-west4' });
    new KubernetesProvider(this, 'k8s', { configPath: '~/.kube/config' });
    new TboCloudRunService(this, 'gateway', { project: 'team-project', region: 'europe-west4', redis: false });
    new TboKubernetesService(this, 'edge', { registry: { address: 'ghcr.io', repository: 'team/tbo-service' }, platform: 'linux/arm64' });
  }
}

const app = new App({ outdir: 'cdktf.out' });
new TeamBuilds(app, 'team-builds');
app.synth();
`;

/** A fresh npm project that installs the tarball; its node_modules as npm left it. */
async function newProject(dir: string, tarball: string): Promise<string[]> {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `team-${dir.split(sep).pop()}`, version: '1.0.0', private: true }, null, 2)}\n`);
  await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], dir);
  return installed(dir);
}

/** Compiles the project's app with this checkout's TypeScript, then runs it, recording the modules it loaded. */
async function buildAndSynth(dir: string, app: string, compilerOptions: Json): Promise<string[]> {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig(compilerOptions), null, 2));
  writeFileSync(join(dir, 'src', 'main.ts'), app);
  writeFileSync(join(dir, 'record-modules.cjs'), RECORD_MODULES);
  await run(process.execPath, [TSC, '-p', 'tsconfig.json'], dir);
  const loadedFile = join(dir, 'loaded-modules.json');
  await run(process.execPath, ['-r', './record-modules.cjs', 'build/main.js'], dir, childEnv({ LOADED_MODULES_FILE: loadedFile }));
  return JSON.parse(readFileSync(loadedFile, 'utf8')) as string[];
}

const readJson = <T = Json>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const isPackage = (name: string) => (path: string) => path.includes(`${sep}node_modules${sep}${name}${sep}`);

let work: string;
let tarballFiles: string[];
const aws = { dir: '', npmInstalled: [] as string[], rootOutput: '', resolvable: {} as Record<string, boolean>, loaded: [] as string[] };
const tf = { dir: '', npmInstalled: [] as string[], resolvable: {} as Record<string, boolean>, loaded: [] as string[] };
const build = { dir: '', resolvable: {} as Record<string, boolean>, loaded: [] as string[] };
const PEERS = ['aws-cdk-lib', 'constructs', 'cdktf', '@cdktf/provider-google', '@cdktf/provider-kubernetes', '@cdktf/provider-random', '@cdktf/provider-docker'];

/** Which of the peers node resolves from inside the project (as the project's own code would). */
async function resolvable(dir: string): Promise<Record<string, boolean>> {
  const script = `const r = {}; for (const p of ${JSON.stringify(PEERS)}) { try { require.resolve(p); r[p] = true; } catch (e) { if (e.code !== 'MODULE_NOT_FOUND') throw e; r[p] = false; } } console.log(JSON.stringify(r));`;
  return JSON.parse(await run(process.execPath, ['-e', script], dir)) as Record<string, boolean>;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tbo-pack-'));
  const checkout = join(work, 'checkout');
  copyCheckout(checkout);
  expect(existsSync(join(checkout, 'dist'))).toBe(false);
  symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  const packs = join(work, 'packs');
  mkdirSync(packs);
  await run('npm', ['pack', '--pack-destination', packs], checkout);
  const [tgz] = readdirSync(packs);
  const tarball = join(packs, tgz);
  tarballFiles = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));

  aws.dir = join(work, 'aws');
  tf.dir = join(work, 'cdktf');
  build.dir = join(work, 'cdktf-build');
  [aws.npmInstalled, tf.npmInstalled] = await Promise.all([newProject(aws.dir, tarball), newProject(tf.dir, tarball), newProject(build.dir, tarball)]);
  // The package root (the contract) needs no peer at all.
  aws.rootOutput = await run(process.execPath, ['-e', "const c = require('tbo-deploy'); console.log(c.SERVICE_PORT, typeof c.renderEnvironment)"], aws.dir);
  linkPeers(aws.dir, ['aws-cdk-lib', 'constructs']);
  linkPeers(tf.dir, ['cdktf', 'constructs', '@cdktf/provider-google', '@cdktf/provider-kubernetes', '@cdktf/provider-random']);
  linkPeers(build.dir, ['cdktf', 'constructs', '@cdktf/provider-google', '@cdktf/provider-kubernetes', '@cdktf/provider-random', '@cdktf/provider-docker']);
  [aws.resolvable, tf.resolvable, build.resolvable] = await Promise.all([resolvable(aws.dir), resolvable(tf.dir), resolvable(build.dir)]);
  [aws.loaded, tf.loaded, build.loaded] = await Promise.all([
    buildAndSynth(aws.dir, AWS_APP, CDK_INIT_OPTIONS),
    buildAndSynth(tf.dir, CDKTF_APP, CDKTF_INIT_OPTIONS),
    buildAndSynth(build.dir, CDKTF_BUILD_APP, CDKTF_INIT_OPTIONS),
  ]);
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('builds dist/ first on a checkout that has none (prepack), and the tarball holds it with its declarations', () => {
    for (const entry of ['lib/index', 'lib/core/index', 'lib/aws/index', 'lib/gcp/index', 'lib/k8s/index', 'service/src/config/settings']) {
      expect(tarballFiles).toContain(`dist/${entry}.js`);
      expect(tarballFiles).toContain(`dist/${entry}.d.ts`);
    }
  });

  it('holds the service sources the image builds from, and nothing of the repository\'s own tooling or tests', () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining(['service/Dockerfile', 'service/.dockerignore', 'service/package.json', 'service/package-lock.json', 'service/tsconfig.json', 'service/build.mjs', 'service/src/main.ts', 'service/src/healthcheck.ts']),
    );
    expect(tarballFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'scripts/prepare.mjs']));
    const unexpected = tarballFiles.filter(
      (f) => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|scripts\/prepare\.mjs)$/.test(f) && !/^dist\/(lib|service\/src)\/.*\.(js|d\.ts)$/.test(f) && !/^service\/(src\/.*\.ts|Dockerfile|\.dockerignore|package(-lock)?\.json|tsconfig\.json|build\.mjs)$/.test(f),
    );
    expect(unexpected).toEqual([]);
    expect(tarballFiles.filter((f) => /(^|\/)(test|tests|bench|__tests__|node_modules)\/|\.test\.|\.map$|^service\/dist\//.test(f))).toEqual([]);
  });

  it('installs with its two dependencies and none of its optional peers', () => {
    expect(aws.npmInstalled).toEqual(['tbo-deploy', 'yaml', 'zod']);
    expect(tf.npmInstalled).toEqual(['tbo-deploy', 'yaml', 'zod']);
    expect(aws.rootOutput.trim()).toBe('8000 function');
  });

  it('has a prepare script that does nothing inside an installed copy (it is only for this repository)', async () => {
    await run(process.execPath, ['scripts/prepare.mjs'], join(aws.dir, 'node_modules', 'tbo-deploy'), childEnv({ npm_command: 'install' }));
    expect(existsSync(join(aws.dir, 'node_modules', 'tbo-deploy', 'service', 'node_modules'))).toBe(false);
  });
});

describe('a team on AWS only (aws-cdk-lib + constructs, no cdktf installed)', () => {
  const template = () => readJson<{ Resources: Record<string, CfnResource> }>(join(aws.dir, 'cdk.out', 'TeamAws.template.json')).Resources;
  const ofType = (type: string) => Object.entries(template()).filter(([, r]) => r.Type === type);

  it('cannot even resolve cdktf, and the app loaded the package from its own node_modules and nothing of cdktf', () => {
    expect(aws.resolvable).toEqual({ 'aws-cdk-lib': true, constructs: true, cdktf: false, '@cdktf/provider-google': false, '@cdktf/provider-kubernetes': false, '@cdktf/provider-random': false, '@cdktf/provider-docker': false });
    const own = realpathSync(join(aws.dir, 'node_modules', 'tbo-deploy'));
    expect(aws.loaded.some((p) => p.startsWith(join(own, 'dist', 'lib', 'aws')))).toBe(true);
    expect(aws.loaded.filter((p) => isPackage('cdktf')(p) || isPackage('@cdktf')(p))).toEqual([]);
    expect(aws.loaded.filter((p) => p.startsWith(join(REPO, 'lib') + sep) || p.startsWith(join(REPO, 'dist') + sep))).toEqual([]);
  });

  it('puts TBO into the team\'s own VPC and ECS cluster (no VPC or cluster of its own)', () => {
    expect(ofType('AWS::EC2::VPC')).toHaveLength(1);
    const clusters = ofType('AWS::ECS::Cluster');
    expect(clusters).toHaveLength(1);
    expect(clusters[0][1].Properties?.ClusterName).toBe('team-cluster');
    const [[, service]] = ofType('AWS::ECS::Service');
    expect(service.Properties?.Cluster).toEqual({ Ref: clusters[0][0] });
  });

  it('builds the image from the service folder inside the installed package', () => {
    const assets = readJson<{ dockerImages: Record<string, { source: { directory: string } }> }>(join(aws.dir, 'cdk.out', 'TeamAws.assets.json'));
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    const staged = join(aws.dir, 'cdk.out', images[0].source.directory);
    expect(readdirSync(staged).sort()).toEqual(['.dockerignore', 'Dockerfile', 'build.mjs', 'package-lock.json', 'package.json', 'src', 'tsconfig.json']);
    expect(readFileSync(join(staged, 'src', 'main.ts'), 'utf8')).toBe(readFileSync(join(REPO, 'service', 'src', 'main.ts'), 'utf8'));
  });
});

describe('a team on cdktf (Google, Kubernetes and random providers; no aws-cdk-lib, no docker provider: it brings its images)', () => {
  const stack = (id: string) => readJson<{ provider: Record<string, Json[]>; resource: Record<string, Record<string, Json>> }>(join(tf.dir, 'cdktf.out', 'stacks', id, 'cdk.tf.json'));

  it('loaded the package from its own node_modules and nothing of aws-cdk-lib', () => {
    expect(tf.resolvable).toEqual({ 'aws-cdk-lib': false, constructs: true, cdktf: true, '@cdktf/provider-google': true, '@cdktf/provider-kubernetes': true, '@cdktf/provider-random': true, '@cdktf/provider-docker': false });
    expect(tf.loaded.filter(isPackage('@cdktf/provider-docker'))).toEqual([]);
    const own = realpathSync(join(tf.dir, 'node_modules', 'tbo-deploy'));
    expect(tf.loaded.some((p) => p.startsWith(join(own, 'dist', 'lib', 'gcp')))).toBe(true);
    expect(tf.loaded.some((p) => p.startsWith(join(own, 'dist', 'lib', 'k8s')))).toBe(true);
    expect(tf.loaded.filter(isPackage('aws-cdk-lib'))).toEqual([]);
  });

  it('puts Cloud Run into the team\'s project, region and VPC (no network of its own)', () => {
    const gcp = stack('team-gcp');
    expect(gcp.provider.google).toEqual([{ project: 'team-project', region: 'europe-west4' }]);
    expect(Object.keys(gcp.resource.google_compute_network)).toEqual(['team-vpc']);
    expect(Object.keys(gcp.resource.google_compute_subnetwork)).toEqual(['team-subnet']);
    const [run] = Object.values(gcp.resource.google_cloud_run_v2_service) as { location: string; template: { vpc_access: { network_interfaces: Json[] } } }[];
    expect(run.location).toBe('europe-west4');
    expect(run.template.vpc_access.network_interfaces).toEqual([{ network: '${google_compute_network.team-vpc.id}', subnetwork: '${google_compute_subnetwork.team-subnet.id}' }]);
    const [redis] = Object.values(gcp.resource.google_redis_instance) as { authorized_network: string }[];
    expect(redis.authorized_network).toBe('${google_compute_network.team-vpc.id}');
    expect(Object.keys(gcp.resource.random_password ?? {})).toHaveLength(1);
  });

  it('puts Kubernetes objects into the team\'s cluster context and namespace, behind its host', () => {
    const k8s = stack('team-k8s');
    expect(k8s.provider.kubernetes).toEqual([{ config_context: 'team-cluster', config_path: '~/.kube/config' }]);
    const namespaces = Object.values(k8s.resource.kubernetes_namespace_v1) as { metadata: { name: string } }[];
    expect(namespaces.map((n) => n.metadata.name)).toEqual(['team-llm']);
    const [deployment] = Object.values(k8s.resource.kubernetes_deployment_v1) as { spec: { template: { spec: { container: { image: string }[] } } } }[];
    expect(deployment.spec.template.spec.container[0].image).toBe('registry.example.com/team/tbo-service:1.0.0');
    const [ingress] = Object.values(k8s.resource.kubernetes_ingress_v1) as { spec: { rule: { host: string }[]; tls: { secret_name: string }[] } }[];
    expect(ingress.spec.rule.map((r) => r.host)).toEqual(['llm.team.example']);
    expect(ingress.spec.tls[0].secret_name).toBe('llm-tls');
  });
});

describe('a team on cdktf that gives no image (the docker provider installed too)', () => {
  const builds = () => readJson<{ resource: Record<string, Record<string, Json>>; provider: Record<string, Json[]> }>(join(build.dir, 'cdktf.out', 'stacks', 'team-builds', 'cdk.tf.json'));

  it('loads the docker provider, from its own node_modules', () => {
    expect(build.resolvable['@cdktf/provider-docker']).toBe(true);
    expect(build.loaded.some(isPackage('@cdktf/provider-docker'))).toBe(true);
  });

  it('builds the service folder inside the installed package: for Cloud Run (linux/amd64, Artifact Registry) and for the team\'s arm64 pool (its registry)', () => {
    const stack = builds();
    const service = realpathSync(join(build.dir, 'node_modules', 'tbo-deploy', 'service'));
    const images = Object.values(stack.resource.docker_image) as { name: string; build: { context: string; platform: string } }[];
    expect(images.map((i) => [realpathSync(i.build.context), i.build.platform]).sort()).toEqual([[service, 'linux/amd64'], [service, 'linux/arm64']]);
    expect(images.filter((i) => /^ghcr\.io\/team\/tbo-service:[0-9a-f]{16}-arm64$/.test(i.name))).toHaveLength(1);
    expect(Object.keys(stack.resource.docker_registry_image)).toHaveLength(2);
    expect(Object.keys(stack.resource.google_artifact_registry_repository)).toHaveLength(1);
    expect(stack.provider.docker).toHaveLength(2);
  });
});
