/**
 * Child processes of the benchmark: start them, reach them, and make sure every one of them dies.
 *
 * Each child gets a `sh` watchdog whose stdin is a pipe held by this process: when this process
 * ends in any way (even SIGKILL) the pipe closes, `read` returns and the watchdog SIGKILLs the child
 * by pid. On a normal end, {@link stopAll} stops the watchdog first, then the child (SIGTERM, then
 * SIGKILL after a grace period). Processes are only ever signalled by their own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { procCpu, type CpuTime } from './cpu';

export const ROOT = join(__dirname, '..');
export const SERVICE_MAIN = join(ROOT, 'service', 'dist', 'main.js');
const HOST = '127.0.0.1';

interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly watchdog: ChildProcess;
  exited: boolean;
}

const tracked: Tracked[] = [];

function signal(proc: ChildProcess, sig: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(proc.pid, sig);
  } catch {
    // already gone
  }
}

function track(name: string, child: ChildProcess): Tracked {
  if (child.pid === undefined) throw new Error(`${name}: process did not start`);
  const watchdog = spawn('/bin/sh', ['-c', `read _ ; kill -9 ${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => undefined);
  watchdog.stdin?.on('error', () => undefined);
  const entry: Tracked = { name, child, watchdog, exited: false };
  child.once('exit', () => {
    entry.exited = true;
    signal(watchdog, 'SIGKILL'); // its pid must never outlive the child's
  });
  tracked.push(entry);
  return entry;
}

/**
 * Starts `node <args>` as a tracked child (killed with the bench, stopped by {@link stopPid}), stdout
 * ignored, the tail of stderr kept. For measurements that need the bare process (e.g. cold start).
 */
export function spawnTracked(name: string, args: readonly string[], opts: { readonly cwd: string; readonly env: Record<string, string> }): { readonly child: ChildProcess; stderr(): string } {
  const child = spawn(process.execPath, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'ignore', 'pipe'] });
  track(name, child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = tail(err + d.toString())));
  return { child, stderr: () => err };
}

/** Synchronous last resort (process 'exit', signals, deadline): SIGKILL every child we started. */
export function killAllNow(): void {
  for (const t of tracked) {
    signal(t.watchdog, 'SIGKILL');
    if (!t.exited) signal(t.child, 'SIGKILL');
  }
}

async function waitExit(t: Tracked, ms: number): Promise<boolean> {
  if (t.exited) return true;
  const exited = new Promise<boolean>((resolve) => t.child.once('exit', () => resolve(true)));
  return Promise.race([exited, sleep(ms).then(() => t.exited)]);
}

/** Graceful stop of one child: SIGTERM, then SIGKILL after `graceMs`. */
async function stopOne(t: Tracked, graceMs: number): Promise<void> {
  signal(t.watchdog, 'SIGKILL');
  if (t.exited) return;
  signal(t.child, 'SIGTERM');
  if (await waitExit(t, graceMs)) return;
  signal(t.child, 'SIGKILL');
  await waitExit(t, 2000);
}

/** Stops every child still running (in parallel). Safe to call more than once. */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all(tracked.map((t) => stopOne(t, graceMs)));
}

/** Stops one child started by this module, by its pid. */
export async function stopPid(pid: number, graceMs = 3000): Promise<void> {
  const t = tracked.find((x) => x.child.pid === pid);
  if (t) await stopOne(t, graceMs);
}

/**
 * Runs a script's `main` (which returns its exit code): on a throw, prints it, kills every child
 * at once and exits 1.
 */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`${name} failed:`, err instanceof Error ? (err.stack ?? err.message) : err);
      killAllNow();
      process.exitCode = 1;
    },
  );
}

/** Kills all children on exit, Ctrl-C, SIGTERM and SIGHUP. */
export function installCleanupHandlers(name = 'bench'): void {
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`\n${name}: ${sig}, killing child processes`);
      killAllNow();
      process.exit(130);
    });
  }
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('freePort: no address');
  return address.port;
}

/** The environment every child starts from: nothing inherited but PATH and HOME. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production' };
}

function tail(text: string, n = 2000): string {
  return text.length > n ? text.slice(-n) : text;
}

/** A process whose CPU time the benchmark reads. */
export interface Measured {
  readonly name: string;
  readonly pid: number;
  /** User and system CPU time of the whole process so far, in microseconds. */
  cpu(): Promise<CpuTime>;
}

/** What a bench-owned server reports over IPC (see bench/child.ts). */
export interface ChildStats {
  readonly cpu: CpuTime;
  readonly rssBytes: number;
  readonly counters: Readonly<Record<string, number>>;
}

export interface BenchServer extends Measured {
  readonly url: string;
  readonly port: number;
  stats(): Promise<ChildStats>;
  output(): string;
}

/**
 * Starts `bench/<file>` (TypeScript, via `node --import tsx`) with an IPC channel; waits for the
 * `PORT <n>` line it prints once it listens.
 */
export async function spawnBenchServer(name: string, file: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', file)], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const entry = track(name, child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = tail(out + d.toString())));
  child.stderr?.on('data', (d: Buffer) => (out = tail(out + d.toString())));

  const pending = new Map<number, (stats: ChildStats) => void>();
  let nextId = 1;
  child.on('message', (msg: unknown) => {
    const m = msg as { type?: string; id?: number } & ChildStats;
    if (m.type !== 'stats' || typeof m.id !== 'number') return;
    pending.get(m.id)?.({ cpu: m.cpu, rssBytes: m.rssBytes, counters: m.counters });
    pending.delete(m.id);
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no PORT line within 20 s; output: ${out}`)), 20_000);
    const onData = () => {
      const match = /^PORT (\d+)$/m.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) at start-up: ${out}`));
    });
  });

  const stats = (): Promise<ChildStats> => {
    if (entry.exited) return Promise.reject(new Error(`${name} is not running: ${out}`));
    const id = nextId++;
    return new Promise<ChildStats>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: no stats reply within 5 s`));
      }, 5000);
      pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      child.send({ type: 'stats', id });
    });
  };

  return {
    name,
    pid: child.pid as number,
    port,
    url: `http://${HOST}:${port}`,
    stats,
    cpu: async () => (await stats()).cpu,
    output: () => out,
  };
}

/** A server that is not bench-owned (TBO, Portkey): CPU and memory come from /proc/<pid>. */
export interface LoggedProcess extends Measured {
  readonly url: string;
  readonly port: number;
  /** Where its stdout went. */
  readonly logPath: string;
  /** stderr so far. */
  stderr(): string;
}

/** A TBO process: its public listener (`url`) and the listener that serves `/metrics`. */
export interface TboProcess extends LoggedProcess {
  /**
   * Base URL of `/metrics` and `/health/details`: the admin listener (`TBO_ADMIN_PORT`). A build from
   * before the admin listener existed (e.g. a previous commit under `bench/compare.ts`) serves them on
   * the public port; then this is `url`.
   */
  readonly adminUrl: string;
  /** The built service it runs (`…/service/dist/main.js`). */
  readonly main: string;
}

/**
 * Starts `node <args>` (args and env built for a free port chosen here) with stdout written to `logPath`, and waits until
 * `readyPath` on that port answers (any HTTP status when `anyStatus`, else 2xx) within 20 s.
 */
export async function spawnLogged(
  name: string,
  command: (port: number) => { readonly args: readonly string[]; readonly env: Record<string, string> },
  logPath: string,
  readyPath: string,
  anyStatus = false,
): Promise<LoggedProcess> {
  const port = await freePort();
  const { args, env } = command(port);
  const logFd = openSync(logPath, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...args], {
      cwd: ROOT,
      env: { ...baseEnv(), ...env },
      stdio: ['ignore', logFd, 'pipe'],
    });
  } finally {
    closeSync(logFd);
  }
  const entry = track(name, child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = tail(err + d.toString())));
  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (entry.exited) throw new Error(`${name} exited at start-up: ${err}`);
    try {
      const res = await fetch(`${url}${readyPath}`);
      await res.arrayBuffer();
      if (res.ok || anyStatus) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name}: ${readyPath} did not answer within 20 s: ${err}`);
    await sleep(50);
  }
  const pid = child.pid as number;
  return { name, pid, port, url, logPath, stderr: () => err, cpu: async () => procCpu(pid) };
}

/** Options of {@link spawnTbo}. */
export interface TboSpawnOptions {
  /**
   * Extra node arguments, for side runs only (e.g. --cpu-prof, which node 20 refuses in
   * NODE_OPTIONS; --inspect for forced GCs). @default none
   */
  readonly nodeArgs?: readonly string[];
  /** The built service to run. @default this checkout's service/dist/main.js */
  readonly main?: string;
}

/**
 * Runs exactly what the container runs, `node service/dist/main.js`, with stdout (the JSON logs)
 * written to `logPath`, the public listener and the admin listener each on a free loopback port
 * (`TBO_PORT`, `TBO_ADMIN_PORT`); waits until /health answers on the public port and `/metrics` on
 * the admin one. CPU comes from /proc/<pid>/stat.
 */
export async function spawnTbo(name: string, env: Record<string, string>, logPath: string, opts: TboSpawnOptions = {}): Promise<TboProcess> {
  const main = opts.main ?? SERVICE_MAIN;
  const adminPort = await freePort();
  const proc = await spawnLogged(
    name,
    (port) => ({ args: [...(opts.nodeArgs ?? []), main], env: { ...env, TBO_HOST: HOST, TBO_PORT: String(port), TBO_ADMIN_PORT: String(adminPort) } }),
    logPath,
    '/health',
  );
  return { ...proc, main, adminUrl: await metricsListener(name, proc.url, `http://${HOST}:${adminPort}`) };
}

/**
 * Where `/metrics` answers: the admin listener once it listens; a build without one (before issue 10)
 * serves it on the public port, which the current build answers with 404.
 */
async function metricsListener(name: string, publicUrl: string, adminUrl: string): Promise<string> {
  const answers = async (url: string) => {
    try {
      const res = await fetch(`${url}/metrics`);
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false; // not listening (yet)
    }
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await answers(adminUrl)) return adminUrl;
    if (await answers(publicUrl)) return publicUrl;
    if (Date.now() > deadline) throw new Error(`${name}: /metrics answered neither on the admin listener (${adminUrl}) nor on ${publicUrl} within 20 s`);
    await sleep(50);
  }
}
