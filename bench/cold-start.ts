/**
 * Cold start: the time from starting the service to its first 200 on `/ready`, paid on every
 * scale-out. The service starts with the image's own start command (service/Dockerfile's `CMD`), in
 * a directory that holds what the image's runtime stage copies from its build stage (the
 * `COPY --from=build /app/<x>` lines: here each <x> from service/, node_modules linked rather than
 * copied), with a minimal environment. A bare node HTTP server, started and polled the same way in
 * the same rounds, is the floor (node's own start-up and the polling).
 */
import { type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { get } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clockTicks, procCpu, procStatusBytes } from './cpu';
import { baseEnv, freePort, ROOT, spawnTracked, stopPid } from './processes';
import { fmt, renderTable } from './table';

export const COLD_START_RUNS = 20;
/** Target: median start to a 200 on /ready, in ms (issue 12). */
export const COLD_START_LIMIT_MS = 250;
/** The image's build context: its Dockerfile, and its build stage's output (dist/, node_modules). */
export const SERVICE_DIR = join(ROOT, 'service');
const HOST = '127.0.0.1';
/** Between two probes of a port that does not answer yet. */
const POLL_MS = 2;
const START_TIMEOUT_MS = 10_000;
const NODE_HTTP_SERVER = "require('node:http').createServer((q, s) => s.end()).listen(Number(process.env.PORT), '127.0.0.1')";

export interface Spread {
  readonly medianMs: number;
  readonly minMs: number;
  readonly p90Ms: number;
  readonly maxMs: number;
  /** Every run, in the order measured. */
  readonly samplesMs: readonly number[];
}

export interface ColdStartResult {
  /** The image's start command as the Dockerfile states it, e.g. `node dist/main.js`. */
  readonly command: string;
  /** What the directory it ran in held (the runtime stage's files from the build stage). */
  readonly runtimeFiles: readonly string[];
  /** Their size in bytes, node_modules (when the image copies it) not counted. */
  readonly runtimeBytes: number;
  readonly env: Readonly<Record<string, string>>;
  readonly runs: number;
  /** Start to the first 200 on /ready. */
  readonly ready: Spread;
  /** CPU time (user + system, all threads) the service used by then: steadier than wall time on a shared machine (resolution: one clock tick). */
  readonly readyCpu: Spread;
  /** Median VmRSS of the service by then, MiB. */
  readonly readyRssMiB: number;
  /** Start of `node -e <http server>` to its first answer: node's own start-up plus the polling. */
  readonly nodeFloor: Spread;
  readonly nodeFloorCpu: Spread;
  readonly limitMs: number;
  readonly met: boolean;
  /** 1-minute load average before and after the runs (the machine is shared; wall times grow with its load). */
  readonly loadAvg1m: readonly [number, number];
  readonly cores: number;
  readonly method: string;
  readonly problems: readonly string[];
}

/** The runtime stage's start command and the files it copies from the build stage. */
export function imageRuntime(dockerfile: string): { readonly command: readonly string[]; readonly files: readonly string[] } {
  const text = readFileSync(dockerfile, 'utf8');
  const stages = text.split(/^FROM\s/m);
  const runtime = stages[stages.length - 1];
  const cmd = [...runtime.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].pop();
  if (!cmd) throw new Error(`${dockerfile}: no CMD [...] in the last stage`);
  const command = JSON.parse(cmd[1]) as string[];
  const files = [...runtime.matchAll(/^COPY\s+--from=build\b.*?\s\/app\/(\S+?)\/?\s+\S+\s*$/gm)].map((m) => m[1]);
  if (files.length === 0) throw new Error(`${dockerfile}: no COPY --from=build /app/... in the last stage`);
  return { command, files };
}

function spread(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { medianMs: round(median), minMs: round(sorted[0]), p90Ms: round(sorted[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]), maxMs: round(sorted[n - 1]), samplesMs: samples.map(round) };
}

/** Status of GET path, or undefined when nothing answers (yet). A fresh connection every time. */
function probe(port: number, path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: HOST, port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
  });
}

interface Start {
  /** Spawn to the first 200. */
  readonly ms: number;
  /** CPU time of the process (user + system, all threads) by then. */
  readonly cpuMs: number;
  /** Its VmRSS by then. */
  readonly rssBytes: number;
}

/** Starts `args` and polls `path` on `port` until it answers 200; how long and how much that took. */
async function timeToReady(name: string, args: readonly string[], cwd: string, env: Record<string, string>, port: number, path: string): Promise<Start> {
  const began = performance.now();
  const { child, stderr } = spawnTracked(name, args, { cwd, env });
  try {
    for (;;) {
      if (exited(child)) throw new Error(`${name} exited at start-up (${child.exitCode ?? child.signalCode}): ${stderr()}`);
      if ((await probe(port, path)) === 200) {
        const ms = performance.now() - began;
        const cpu = procCpu(child.pid as number);
        return { ms, cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: procStatusBytes(child.pid as number, 'VmRSS') };
      }
      if (performance.now() - began > START_TIMEOUT_MS) throw new Error(`${name}: ${path} did not answer 200 within ${START_TIMEOUT_MS} ms: ${stderr()}`);
      await sleep(POLL_MS);
    }
  } finally {
    await stopPid(child.pid as number, 2000);
  }
}

function bytesUnder(path: string): number {
  const st = lstatSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((a, name) => a + bytesUnder(join(path, name)), 0) : st.size;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Lays out the runtime stage's files in a temporary directory (node_modules linked, the rest copied). */
function runtimeDirectory(serviceDir: string, files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tbo-cold-start-'));
  for (const file of files) {
    const source = join(serviceDir, file);
    if (!existsSync(source)) throw new Error(`${source} is missing (the image copies /app/${file}): run \`npm run build --prefix service\` first`);
    if (file === 'node_modules') symlinkSync(source, join(dir, file), 'dir');
    else cpSync(source, join(dir, file), { recursive: true });
  }
  return dir;
}

/** Options of {@link measureColdStart}. */
export interface ColdStartOptions {
  /** Measured starts (after one unmeasured one). @default 20 */
  readonly runs?: number;
  /** The service directory (Dockerfile and built dist/) to measure. @default this checkout's service/ */
  readonly serviceDir?: string;
  readonly log?: (line: string) => void;
}

export async function measureColdStart(opts: ColdStartOptions = {}): Promise<ColdStartResult> {
  const { runs = COLD_START_RUNS, serviceDir = SERVICE_DIR, log = () => undefined } = opts;
  const { command, files } = imageRuntime(join(serviceDir, 'Dockerfile'));
  if (command[0] !== 'node') throw new Error(`${serviceDir}/Dockerfile: CMD ${JSON.stringify(command)} does not start with node`);
  const dir = runtimeDirectory(serviceDir, files);
  const problems: string[] = [];
  const ready: Start[] = [];
  const floor: Start[] = [];
  const env = { TBO_HOST: HOST, TBO_LOG_LEVEL: 'silent', TBO_CONFIG_FILE: '' };
  const loadBefore = loadavg()[0];
  try {
    // One unmeasured start of each warms the page cache, as an image layer already read would be.
    for (let i = 0; i <= runs; i++) {
      const [port, adminPort, floorPort] = await Promise.all([freePort(), freePort(), freePort()]);
      const t = await timeToReady('tbo-cold-start', command.slice(1), dir, { ...baseEnv(), ...env, TBO_PORT: String(port), TBO_ADMIN_PORT: String(adminPort) }, port, '/ready');
      const f = await timeToReady('node-http-floor', ['-e', NODE_HTTP_SERVER], dir, { ...baseEnv(), PORT: String(floorPort) }, floorPort, '/');
      if (i === 0) continue;
      ready.push(t);
      floor.push(f);
      if (i % 5 === 0) log(`cold start: ${i} of ${runs} runs`);
    }
    const result = spread(ready.map((r) => r.ms));
    const rss = spread(ready.map((r) => r.rssBytes / 2 ** 20));
    return {
      command: command.join(' '),
      runtimeFiles: files,
      runtimeBytes: files.filter((f) => f !== 'node_modules').reduce((a, f) => a + bytesUnder(join(dir, f)), 0),
      env: { ...env, TBO_PORT: '<free port>', TBO_ADMIN_PORT: '<free port>', NODE_ENV: 'production' },
      runs,
      ready: result,
      readyCpu: spread(ready.map((r) => r.cpuMs)),
      readyRssMiB: rss.medianMs,
      nodeFloor: spread(floor.map((r) => r.ms)),
      nodeFloorCpu: spread(floor.map((r) => r.cpuMs)),
      limitMs: COLD_START_LIMIT_MS,
      met: result.medianMs <= COLD_START_LIMIT_MS,
      loadAvg1m: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0] * 100) / 100],
      cores: availableParallelism(),
      method: `the runtime stage of service/Dockerfile laid out in a temporary directory (${files.join(', ')} from service/${files.includes('node_modules') ? '; node_modules linked' : ''}), its CMD run there with this machine's node ${process.version} and only PATH, HOME, NODE_ENV=production, TBO_HOST=127.0.0.1, TBO_PORT, TBO_ADMIN_PORT, TBO_LOG_LEVEL=silent and an empty TBO_CONFIG_FILE; GET /ready on a new connection every ${POLL_MS} ms from just before spawn until the first 200, then the process's CPU time (/proc/<pid>/stat, ${1000 / clockTicks()} ms ticks) and VmRSS, then SIGTERM; one unmeasured start first, then ${runs} runs, each followed by a bare node HTTP server (node -e) started and polled the same way (the floor)`,
      problems,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderColdStart(c: ColdStartResult): string {
  const row = (what: string, s: Spread, cpu: Spread) => [what, fmt(s.medianMs, 0), fmt(s.minMs, 0), fmt(s.p90Ms, 0), fmt(s.maxMs, 0), fmt(mean(cpu.samplesMs), 0)];
  return renderTable(
    ['start to first 200', 'median ms', 'min', 'p90', 'max', 'CPU ms (mean)'],
    [row(`TBO: ${c.command} → /ready`, c.ready, c.readyCpu), row('bare node HTTP server (floor)', c.nodeFloor, c.nodeFloorCpu)],
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

export function coldStartSummary(c: ColdStartResult): string {
  return `Cold start: median ${fmt(c.ready.medianMs, 0)} ms to /ready over ${c.runs} runs (limit ${c.limitMs} ms: ${c.met ? 'met' : 'NOT MET'}), ${fmt(mean(c.readyCpu.samplesMs), 0)} ms CPU, ${fmt(c.readyRssMiB, 0)} MiB RSS; node alone ${fmt(c.nodeFloor.medianMs, 0)} ms; the image's ${c.runtimeFiles.filter((f) => f !== 'node_modules').join(' + ')}: ${fmt(c.runtimeBytes / 2 ** 20, 1)} MiB${c.runtimeFiles.includes('node_modules') ? ' plus node_modules' : ', no node_modules'}; 1-min load average ${c.loadAvg1m.join(' → ')} on ${c.cores} cores.`;
}
