/**
 * Starts the TBO service for a test: in-process (fast, injectable) or as a child process running
 * exactly what the container runs (`node service/dist/main.js`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../service/src/config/load';
import { TboService, type ServiceDeps } from '../../service/src/service';
import { freePort, waitFor } from './ports';

export const REPO_ROOT = join(__dirname, '..', '..');
export const SERVICE_MAIN = join(REPO_ROOT, 'service', 'dist', 'main.js');

/** The service's own upstream keys in tests: recognisable, so a leak is easy to spot. */
export const ANTHROPIC_KEY = 'sk-ant-test-SENTINEL-0123456789';
export const OPENAI_KEY = 'sk-openai-test-SENTINEL-0123456789';

export interface RunningTbo {
  readonly url: string;
  /** The admin listener: /metrics and /health/details. */
  readonly adminUrl: string;
  readonly service: TboService;
  close(): Promise<void>;
}

/** Env for a service pointed at a fake upstream, with both provider keys. */
export function upstreamEnv(upstreamUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TBO_HOST: '127.0.0.1',
    TBO_PORT: '0',
    TBO_ADMIN_PORT: '0',
    TBO_LOG_LEVEL: 'silent',
    TBO_CONFIG_FILE: '',
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: upstreamUrl,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: `${upstreamUrl}/v1`,
    // Upstream errors pass straight through unless a test turns retries on (optimizer tests do).
    TBO_MAX_RETRIES: '0',
    // Most tests exercise the cache with requests that do not set a temperature (sampled by the
    // APIs' defaults): replay them. The default policy (bypass) has its own tests.
    TBO_CACHE_SAMPLED: 'cache',
    ...extra,
  };
}

export async function startTbo(env: Record<string, string>, deps: ServiceDeps = {}): Promise<RunningTbo> {
  const service = new TboService(loadConfig(env), deps);
  const address = await service.listen();
  return {
    url: `http://127.0.0.1:${address.port}`,
    adminUrl: `http://127.0.0.1:${service.adminAddress.port}`,
    service,
    // Tests close once their requests are done: idle keep-alive connections need no drain.
    close: () => service.shutdown('test', 100),
  };
}

export interface TboProcess {
  readonly url: string;
  /** The admin listener: /metrics and /health/details. */
  readonly adminUrl: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A started `service/dist/main.js` on free loopback ports, not yet known to be up. */
export interface LaunchedTbo {
  readonly port: number;
  readonly adminPort: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Its exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Everything it wrote (stdout and stderr) so far. */
  output(): string;
}

/** Starts the built service with `env` (and PATH) on free ports, with `node` (default: this one). */
export async function launchTbo(env: Readonly<Record<string, string>>, node = process.execPath): Promise<LaunchedTbo> {
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawn(node, [SERVICE_MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env, TBO_PORT: String(port), TBO_ADMIN_PORT: String(adminPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { port, adminPort, url: `http://127.0.0.1:${port}`, child, exited, output: () => out };
}

/** Runs the built service as its own process and waits until /health answers. */
export async function spawnTbo(env: Record<string, string>): Promise<TboProcess> {
  const { adminPort, url, child, exited, output } = await launchTbo(env);
  let ended = false;
  void exited.then(() => (ended = true));
  await waitFor(
    async () => {
      if (ended) throw new Error(`tbo exited at start-up: ${output()}`);
      return (await fetch(`${url}/health`)).ok;
    },
    { what: 'tbo /health', timeoutMs: 15_000 },
  );
  return {
    url,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    child,
    output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the built service expecting it to refuse to start; resolves with its exit code and output. */
export async function runTboExpectingExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [SERVICE_MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}
