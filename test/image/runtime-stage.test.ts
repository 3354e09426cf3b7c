/**
 * The image's runtime stage without a Docker engine, on the Node.js the image ships: runtime-stage.ts
 * rebuilds it from service/Dockerfile (ENV, WORKDIR, COPY --chown, USER, CMD, HEALTHCHECK,
 * STOPSIGNAL read from the file) in a temporary folder, and each check runs what the container
 * would: the shipped file set, the service started as uid 1000 in a folder it cannot write, its
 * probes and HEALTHCHECK, the drain on STOPSIGNAL, and V8's code cache used only by its own node.
 *
 * Needs root (processes start as uid 1000), scripts/service-node's binary and a current dist/ built
 * with it (`node scripts/build-service.mjs`; `npm test` runs it first).
 */
import Anthropic from '@anthropic-ai/sdk';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROBE_PATHS, SETTINGS } from '../../service/src/config/settings';
import { findServiceNode } from '../../scripts/service-node.cjs';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { freePort, waitFor } from '../support/ports';
import { SERVICE_DIR, serviceDockerfile } from './dockerfile';
import { reproduceRuntimeStage, type ReproducedStage } from './runtime-stage';

/**
 * dist/ as shipped (bundle, its code cache, healthcheck.js, source maps, licences, loader), and
 * the bundle with its code cache alone (what start-up reads). Measured 2026-12-02, built on Node
 * 24.22.3: 11.10 MB and 6.91 MB (the cache varies by ~100 bytes between builds); the budgets leave
 * 15% headroom.
 */
const DIST_BUDGET_BYTES = 12_800_000;
const BUNDLE_AND_CACHE_BUDGET_BYTES = 7_950_000;

const DIST = join(SERVICE_DIR, 'dist');
const node = findServiceNode();
const asRoot = process.getuid?.() === 0;
const dockerfile = serviceDockerfile();
const stopSignal = (dockerfile.final.stopSignal ?? 'SIGTERM') as NodeJS.Signals;
const drainTimeoutMs = 1000 * Number(SETTINGS.drainTimeout.schema.parse(undefined));

/** `service/dist/server-<hash>.js`, the bundle main.js loads. */
function bundleName(): string {
  const bundles = readdirSync(DIST).filter((f) => /^server-[A-Z0-9]+\.js$/.test(f));
  if (bundles.length !== 1) throw new Error(`service/dist should hold one server-<hash>.js, found ${bundles.join(', ') || 'none'}: run node scripts/build-service.mjs`);
  return bundles[0];
}

/** Output and exit code of a process, killing it after `timeoutMs`. */
function finished(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, ms: Date.now() - started });
    }),
  );
}

interface Container {
  readonly url: string;
  readonly child: ChildProcess;
  /** What the service wrote to stderr so far. */
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** Runs the stage's CMD (as `docker run -e` would add: loopback host, free ports, the fake upstream) until /health answers. */
async function startContainer(stage: ReproducedStage, upstreamUrl: string): Promise<Container> {
  const port = await freePort();
  const env = {
    TBO_HOST: '127.0.0.1', // the image's 0.0.0.0, kept to loopback in tests
    TBO_PORT: String(port),
    TBO_ADMIN_PORT: String(await freePort()),
    TBO_LOG_LEVEL: 'warn',
    ANTHROPIC_API_KEY: 'sk-ant-image-test',
    ANTHROPIC_BASE_URL: upstreamUrl,
    TBO_MAX_RETRIES: '0',
  };
  const child = stage.run(stage.stage.cmd ?? [], env);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (ended) throw new Error(`the service exited at start-up: ${stderr}`);
      return (await fetch(`${url}${PROBE_PATHS.liveness}`)).ok;
    },
    { what: 'the container /health', timeoutMs: 15_000, intervalMs: 10 },
  );
  return { url, child, stderr: () => stderr, exited };
}

/** Runs the stage's HEALTHCHECK command as the container would, against the service on `url`'s port. */
function healthcheck(stage: ReproducedStage, url: string) {
  const check = stage.stage.healthcheck;
  if (!check) throw new Error('service/Dockerfile has no HEALTHCHECK');
  return finished(stage.run(check.command, { TBO_PORT: new URL(url).port }), check.timeoutSeconds * 1000);
}

/** Runs `node -e script args…` as the image's user; its stdout parsed as JSON. */
async function probe(stage: ReproducedStage, script: string, ...args: string[]): Promise<unknown> {
  const run = await finished(stage.run(['node', '-e', script, ...args]), 15_000);
  if (run.code !== 0) throw new Error(`probe failed (${run.signal ?? run.code}): ${run.err}`);
  return JSON.parse(run.out);
}

/** Whether V8 on the image's node takes `dist/<bundle>.cache` for the bundle, wrapped as dist/main.js wraps it. */
const CACHE_PROBE = `
  const { readFileSync } = require('node:fs');
  const Module = require('node:module');
  const vm = require('node:vm');
  const file = process.argv[1];
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: readFileSync(file + '.cache') });
  process.stdout.write(JSON.stringify({ rejected: script.cachedDataRejected, node: process.version }));`;

/** Every path under `dir`, relative to it. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return [relative(base, path), ...(statSync(path).isDirectory() ? walk(path, base) : [])];
  });
}

const describeAsRoot = asRoot ? describe : describe.skip;
if (!asRoot) console.warn('test/image/runtime-stage: skipped, it needs root to start the service as uid 1000 (USER node)');

describeAsRoot('the runtime stage, on the image user and node', () => {
  let fake: FakeUpstream;
  let stage: ReproducedStage;
  let container: Container | undefined;

  beforeAll(async () => {
    if (!node) throw new Error('no Node.js for the service: npm ci --prefix scripts/service-node');
    if (!existsSync(join(DIST, 'main.js'))) throw new Error('service/dist is not built: node scripts/build-service.mjs');
    fake = await startFakeUpstream();
    stage = reproduceRuntimeStage(dockerfile, { contextDir: SERVICE_DIR, nodeBinary: node.path });
  });
  afterEach(async () => {
    if (container && container.child.exitCode === null && container.child.signalCode === null) {
      container.child.kill('SIGKILL');
      await container.exited;
    }
    container = undefined;
  });
  afterAll(async () => {
    await fake?.close();
    stage?.remove();
  });

  it('ships package.json and dist/ only (no node_modules: the service is bundled), root-owned and not writable by others', () => {
    const files = walk(stage.workdir).sort();
    expect(files).toEqual(
      ['package.json', 'dist', ...readdirSync(DIST).map((f) => `dist/${f}`)].sort(),
    );
    expect(readdirSync(join(stage.workdir, 'dist')).sort()).toEqual(
      [bundleName(), `${bundleName()}.cache`, `${bundleName()}.map`, 'healthcheck.js', 'healthcheck.js.map', 'main.js', 'THIRD-PARTY-LICENSES.txt',
        // loaded only when configured (service/src/optional.ts)
        'optional-sentry.js', 'optional-sentry.js.map', 'optional-tracing.js', 'optional-tracing.js.map'].sort(),
    );
    expect(walk(stage.root).filter((path) => path.split('/').includes('node_modules'))).toEqual([]);
    for (const path of ['', ...files]) {
      const stat = statSync(join(stage.workdir, path));
      expect({ path, uid: stat.uid, gid: stat.gid, writableByOthers: (stat.mode & 0o022) !== 0 }).toEqual({ path, uid: 0, gid: 0, writableByOthers: false });
    }
  });

  it('keeps dist/ within its size budget', () => {
    const size = (names: readonly string[]) => names.reduce((sum, name) => sum + statSync(join(stage.workdir, 'dist', name)).size, 0);
    const all = readdirSync(join(stage.workdir, 'dist'));
    expect(size(all)).toBeLessThanOrEqual(DIST_BUDGET_BYTES);
    expect(size([bundleName(), `${bundleName()}.cache`])).toBeLessThanOrEqual(BUNDLE_AND_CACHE_BUDGET_BYTES);
  });

  it('lists in dist/THIRD-PARTY-LICENSES.txt only production dependencies from the lockfile, no devDependency', () => {
    const text = readFileSync(join(stage.workdir, 'dist', 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    const count = Number(/\((\d+)\)\.\n/.exec(text)?.[1]);
    const listed = text
      .split(`\n${'-'.repeat(78)}\n\n`)
      .map((section, i) => (i === 0 ? section.slice(section.indexOf('\n\n') + 2) : section).split('\n')[0])
      .map((header) => /^(\S+)@(\d\S*) \(/.exec(header)?.slice(1, 3).join('@') ?? `unparsed: ${header}`);
    expect(listed).toHaveLength(count);
    const lock = JSON.parse(readFileSync(join(SERVICE_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
    const production = new Set(
      Object.entries(lock.packages)
        .filter(([path, entry]) => path.includes('node_modules/') && !entry.dev)
        .map(([path, entry]) => `${path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${entry.version}`),
    );
    expect(listed.filter((id) => !production.has(id))).toEqual([]);
    const { devDependencies } = JSON.parse(readFileSync(join(SERVICE_DIR, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(listed.filter((id) => id.slice(0, id.lastIndexOf('@')) in devDependencies)).toEqual([]);
  });

  it('starts as uid 1000 on the pinned node with the image ENV and CMD, and answers /health and /ready', async () => {
    container = await startContainer(stage, fake.url);
    const pid = container.child.pid ?? 0;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(stage.user.uid));
    expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(stage.user.gid));
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(realpathSync(node?.path ?? ''));
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['NODE_ENV=production']));
    expect((await fetch(`${container.url}${PROBE_PATHS.liveness}`)).status).toBe(200);
    expect((await fetch(`${container.url}${PROBE_PATHS.readiness}`)).status).toBe(200);
    expect(container.stderr()).toBe(''); // no warnings from node or a bundled package
  });

  it("loads dist/ from V8's code cache on this node (the build ran on it)", async () => {
    const result = (await probe(stage, CACHE_PROBE, `dist/${bundleName()}`)) as { rejected: boolean; node: string };
    expect(result.node).toBe(`v${node?.version}`);
    if (result.rejected) throw new Error(`V8 on node ${result.node} rejects dist/'s code cache: another node built dist/. Build it with node scripts/build-service.mjs (npm test does).`);
  });

  it('cannot write to its working directory or the files it runs', async () => {
    const attempts = await probe(
      stage,
      `const fs = require('node:fs');
      const attempts = {
        'create a file in WORKDIR': () => fs.writeFileSync('probe', 'x'),
        'create a folder in WORKDIR': () => fs.mkdirSync('probe'),
        'append to package.json': () => fs.appendFileSync('package.json', 'x'),
        'chmod package.json': () => fs.chmodSync('package.json', 0o666),
        'create a file in dist/': () => fs.writeFileSync('dist/probe.js', 'x'),
        'overwrite dist/main.js': () => fs.writeFileSync('dist/main.js', 'x'),
        'delete dist/main.js': () => fs.unlinkSync('dist/main.js'),
      };
      const result = {};
      for (const [what, attempt] of Object.entries(attempts)) {
        try { attempt(); result[what] = 'done'; } catch (err) { result[what] = err.code; }
      }
      process.stdout.write(JSON.stringify(result));`,
    );
    expect(Object.keys(attempts as object)).toHaveLength(7);
    expect(Object.entries(attempts as Record<string, string>).filter(([, outcome]) => !['EACCES', 'EPERM'].includes(outcome))).toEqual([]);
  });

  it('passes its HEALTHCHECK, drains an in-flight stream on STOPSIGNAL and exits 0 within the drain timeout, then fails the HEALTHCHECK', async () => {
    container = await startContainer(stage, fake.url);
    const check = await healthcheck(stage, container.url);
    expect({ code: check.code, err: check.err }).toEqual({ code: 0, err: '' });

    fake.setStreamChunkDelay(150);
    const client = new Anthropic({ apiKey: 'unused-when-open', baseURL: container.url, maxRetries: 0 });
    const prompt = 'a stream still running when the container is told to stop';
    const stream = client.messages.stream({ model: 'claude-test', max_tokens: 200, messages: [{ role: 'user', content: prompt }] });
    let streamEnded = false;
    const final = stream.finalMessage().finally(() => (streamEnded = true));
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));

    const signalled = Date.now();
    container.child.kill(stopSignal);
    const url = container.url;
    await waitFor(
      async () => {
        try {
          return (await fetch(`${url}${PROBE_PATHS.readiness}`)).status === 503;
        } catch {
          return true; // refused: no longer listening
        }
      },
      { what: '/ready 503 or a refused connection', timeoutMs: 5_000, intervalMs: 10 },
    );
    expect(streamEnded).toBe(false);
    const message = await final;
    expect(message.content).toEqual([{ type: 'text', text: `echo: ${prompt}` }]);
    expect(message.stop_reason).toBe('end_turn');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([container.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), drainTimeoutMs)))]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(drainTimeoutMs);
    expect(fake.aborted).toBe(0);
    expect(container.stderr()).toBe('');

    const after = await healthcheck(stage, url);
    expect(after.code).not.toBe(0);
  }, 60_000);
});

describeAsRoot('the runtime stage with a code cache written by another node', () => {
  const other = process.execPath;
  const otherVersion = process.versions.node;
  const sameNode = otherVersion === node?.version;
  // Skipped when jest itself runs on the image's node version: there is no other node to write a cache.
  const itWithOtherNode = sameNode ? it.skip : it;
  let fake: FakeUpstream;
  let stage: ReproducedStage;
  let container: Container | undefined;

  beforeAll(async () => {
    if (!node) throw new Error('no Node.js for the service: npm ci --prefix scripts/service-node');
    if (sameNode) return;
    fake = await startFakeUpstream();
    stage = reproduceRuntimeStage(dockerfile, { contextDir: SERVICE_DIR, nodeBinary: node.path });
    // As if the build stage had run another node: its cache for the same bundle.
    const bundle = join(stage.workdir, 'dist', bundleName());
    const made = spawnSync(
      other,
      ['-e', "const fs = require('node:fs'); const vm = require('node:vm'); const f = process.argv[1]; fs.writeFileSync(process.argv[2], new vm.Script(require('node:module').wrap(fs.readFileSync(f, 'utf8')), { filename: f }).createCachedData());", bundle, `${bundle}.cache`],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`could not write a cache with node ${otherVersion}: ${made.stderr}`);
  });
  afterAll(async () => {
    if (container && container.child.exitCode === null) {
      container.child.kill('SIGKILL');
      await container.exited;
    }
    await fake?.close();
    stage?.remove();
  });

  itWithOtherNode(`is rejected by V8 on the image's node (the cache is from node ${otherVersion}), and the service compiles and starts the same`, async () => {
    expect(await probe(stage, CACHE_PROBE, `dist/${bundleName()}`)).toEqual({ rejected: true, node: `v${node?.version}` });
    container = await startContainer(stage, fake.url);
    expect((await fetch(`${container.url}${PROBE_PATHS.readiness}`)).status).toBe(200);
    const reply = await new Anthropic({ apiKey: 'unused-when-open', baseURL: container.url, maxRetries: 0 }).messages.create({
      model: 'claude-test',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'compiled without the cache' }],
    });
    expect(reply.content).toEqual([{ type: 'text', text: 'echo: compiled without the cache' }]);
    container.child.kill(stopSignal);
    expect(await container.exited).toBe(0);
    expect(container.stderr()).toBe('');
  });
});
