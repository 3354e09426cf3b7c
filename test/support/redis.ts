/**
 * Real redis-server processes for tests, on 127.0.0.1 only, stopped by pid.
 *
 * Leftover processes are killed three ways: `stopAll()` (call it in afterAll), a process 'exit'
 * hook, and a tiny `sh` watchdog per server that SIGKILLs it once the test process is gone. The
 * watchdog is what works under jest: test code sees a sandboxed copy of `process` whose 'exit'
 * event never fires, and a SIGKILLed worker runs no hooks at all.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as tls from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
const HOST = '127.0.0.1';
const execFileAsync = promisify(execFile);

export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  /** Pid of the current (or, once stopped, the last) process; changes after `restart()`. */
  readonly pid: number;
  /** Kills the process by pid and waits for it to exit. @default 'SIGTERM' */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port (stopping it first if it still runs). */
  restart(): Promise<void>;
}

/**
 * PEM files of a TLS-only server: it listens with TLS on its port and nothing in plaintext
 * (`--port 0 --tls-port P`), presents `certFile`/`keyFile`, and asks clients for no certificate.
 */
export interface RedisTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA redis-server loads (it needs one even when it asks clients for no certificate). */
  readonly caFile: string;
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisClusterHandle {
  readonly nodes: RedisNode[];
  readonly urls: string[];
  /** One handle per node, e.g. to kill a node mid-test. */
  readonly handles: RedisHandle[];
  /** Temp dir holding the nodes-P.conf files; removed by `stop()`. */
  readonly dir: string;
  stop(): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly watchdog: ChildProcess;
}

const running = new Map<number, Running>();
const handles = new Set<RedisProcess>();

/**
 * Sends a raw `PING\r\n` and resolves true when the reply is `+PONG`. Never throws. With
 * `tls: true` it speaks TLS without judging the server's certificate (it only asks whether the
 * process answers; the tests judge certificates).
 */
export async function pingRedis(port: number, timeoutMs = 500, opts: { tls?: boolean } = {}): Promise<boolean> {
  return (await rawCommand(port, 'PING', timeoutMs, opts.tls ?? false))?.startsWith('+PONG') ?? false;
}

/**
 * Sends one inline command over a raw socket and resolves its whole RESP reply (simple, error,
 * integer or bulk string), or undefined on a socket error, timeout or early close.
 */
function rawCommand(port: number, command: string, timeoutMs = 500, overTls = false): Promise<string | undefined> {
  return new Promise((resolve) => {
    // The start-up probe of a test server: liveness only, so no certificate check here.
    const socket = overTls ? tls.connect({ host: HOST, port, rejectUnauthorized: false }) : net.connect({ host: HOST, port });
    let reply = Buffer.alloc(0);
    const finish = (result: string | undefined): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
    socket.once(overTls ? 'secureConnect' : 'connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (data: Buffer) => {
      reply = Buffer.concat([reply, data]);
      const headerEnd = reply.indexOf('\r\n');
      if (headerEnd < 0) return;
      const total = reply[0] === 0x24 /* $ */ ? headerEnd + 2 + Number(reply.subarray(1, headerEnd).toString()) + 2 : headerEnd + 2;
      if (reply.length >= total) finish(reply.toString('utf8'));
    });
  });
}

/** True when the server on `port` is process `pid` (and not another one that holds the port). */
async function servedBy(port: number, pid: number, overTls = false): Promise<boolean> {
  return (await rawCommand(port, 'INFO server', 500, overTls))?.includes(`process_id:${pid}\r\n`) ?? false;
}

/** Runs `redis-cli -h 127.0.0.1 -p PORT ...args` and returns its stdout. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(REDIS_CLI, ['-h', HOST, '-p', String(port), ...args], {
    timeout: 30_000,
  });
  return stdout;
}

/**
 * Starts one redis-server; with no port given it picks a free one (retrying on a lost race). With
 * `tls` it serves TLS only on that port, and its `url` is `rediss://127.0.0.1:P`.
 */
export async function startRedis(opts: { port?: number; tls?: RedisTlsFiles } = {}): Promise<RedisHandle> {
  return startNode(opts.port, async () => [], opts.tls);
}

/** Starts `nodes` (default 3, minimum 3) cluster-enabled servers and joins them as masters. */
export async function startRedisCluster(opts: { nodes?: number } = {}): Promise<RedisClusterHandle> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 3) {
    throw new Error(`startRedisCluster: nodes must be an integer >= 3 (redis-cli needs 3 masters), got ${count}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const started: RedisHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((h) => h.stop('SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const clusterArgs = async (port: number): Promise<string[]> => [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', '2000',
      // An explicit bus port: the default (port + 10000) overflows for high ephemeral ports.
      '--cluster-port', String(await freePort()),
      '--dir', dir,
    ];
    for (let i = 0; i < count; i++) started.push(await startNode(undefined, clusterArgs));
    const addresses = started.map((h) => `${HOST}:${h.port}`);
    await execFileAsync(
      REDIS_CLI,
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 60_000 },
    );
    await waitFor(async () => (await Promise.all(started.map((h) => clusterReady(h.port, count)))).every(Boolean), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `cluster_state:ok on ${addresses.join(', ')}`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes: started.map((h) => ({ host: HOST, port: h.port })),
    urls: started.map((h) => h.url),
    handles: started,
    dir,
    stop,
  };
}

/** Stops every server this module started (SIGKILL by default, as a safety net). */
export async function stopAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await Promise.all([...handles].map((h) => h.stop(signal)));
}

async function clusterReady(port: number, count: number): Promise<boolean> {
  const info = await redisCli(port, 'cluster', 'info');
  return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${count}`);
}

async function startNode(
  fixedPort: number | undefined,
  extraArgs: (port: number) => Promise<string[]>,
  tlsFiles?: RedisTlsFiles,
): Promise<RedisProcess> {
  const attempts = fixedPort === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = fixedPort ?? (await freePort());
    const node = new RedisProcess(port, await extraArgs(port), tlsFiles);
    try {
      await node.start();
      return node;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

class RedisProcess implements RedisHandle {
  readonly url: string;
  private current: Running | undefined;
  private lastPid = -1;

  constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
    private readonly tlsFiles?: RedisTlsFiles,
  ) {
    this.url = `${tlsFiles ? 'rediss' : 'redis'}://${HOST}:${port}`;
  }

  /** `--port P`, or for TLS `--port 0 --tls-port P` and the certificate files. */
  private listenArgs(): string[] {
    if (!this.tlsFiles) return ['--port', String(this.port)];
    const { certFile, keyFile, caFile } = this.tlsFiles;
    return [
      '--port', '0', '--tls-port', String(this.port),
      '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile,
      '--tls-auth-clients', 'no',
    ];
  }

  get pid(): number {
    return this.lastPid;
  }

  async start(): Promise<void> {
    installExitHook();
    const args = ['--bind', HOST, ...this.listenArgs(), '--save', '', '--appendonly', 'no', ...this.extraArgs];
    const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    if (child.pid === undefined) {
      const [err] = (await once(child, 'error')) as [Error];
      throw new Error(`cannot spawn ${REDIS_SERVER}: ${err.message}`);
    }
    child.unref(); // a forgotten server must not keep jest alive; the watchdog reaps it
    const entry: Running = { child, watchdog: startWatchdog(child.pid) };
    running.set(child.pid, entry);
    handles.add(this);
    this.current = entry;
    this.lastPid = child.pid;
    const pid = child.pid;
    const overTls = this.tlsFiles !== undefined;
    await waitFor(async () => !isRunning(child) || ((await pingRedis(this.port, 500, { tls: overTls })) && (await servedBy(this.port, pid, overTls))), {
      what: `redis-server (pid ${child.pid}) on port ${this.port} to answer PING`,
    });
    if (!isRunning(child)) {
      await this.stop();
      throw new Error(
        `redis-server on port ${this.port} exited at start-up (code ${child.exitCode}, signal ${child.signalCode}); is the port taken?`,
      );
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const entry = this.current;
    if (entry === undefined) return;
    const { child, watchdog } = entry;
    const pid = child.pid as number;
    if (isRunning(child)) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
      await waitFor(() => !isRunning(child), { what: `redis-server pid ${pid} to exit after ${signal}` });
    }
    watchdog.kill('SIGKILL');
    running.delete(pid);
    handles.delete(this);
    this.current = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** A shell loop that SIGKILLs `pid` once this (test) process has died. Exits by itself if `pid` does. */
function startWatchdog(pid: number): ChildProcess {
  const script =
    'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.5; done; kill -9 "$2" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'redis-watchdog', String(process.pid), String(pid)], {
    stdio: 'ignore',
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  return watchdog;
}

let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child, watchdog } of running.values()) {
      for (const p of [child, watchdog]) {
        try {
          if (p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}
