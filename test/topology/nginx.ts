/**
 * The top-level nginx.conf, rendered for loopback and run as an unprivileged child process.
 *
 * Rendering touches only lines marked `# @render T`, and on each only the token T: there is one
 * nginx.conf, and what the tests run is that file with container addresses swapped for ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../support/ports';
import { REPO_ROOT } from '../support/tbo';
import { guard } from './processes';

export const NGINX = '/usr/sbin/nginx';
export const NGINX_CONF = join(REPO_ROOT, 'nginx.conf');

const MARK = /#\s*@render\s+(\S+)\s*$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces, on each `# @render T` line, the whole-word token T by `values[T]` (a marked token
 * without a value stays as shipped). Throws when a marked token is not on its line or a value names
 * no marked token, so the file and the tests cannot drift apart silently.
 */
export function renderNginxConf(source: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const lines = source.split('\n').map((line, i) => {
    const mark = MARK.exec(line);
    if (!mark) return line;
    const token = mark[1];
    const value = values[token];
    const code = line.slice(0, mark.index);
    const word = new RegExp(`(?<=\\s)${escapeRegExp(token)}(?=[\\s;])`);
    if (!word.test(code)) throw new Error(`nginx.conf:${i + 1}: "# @render ${token}" but the line has no token ${token}`);
    if (value === undefined) return line; // kept as shipped
    used.add(token);
    return `${code.replace(word, value)}# rendered from ${token}`;
  });
  const unused = Object.keys(values).filter((token) => !used.has(token));
  if (unused.length) throw new Error(`nginx.conf has no "# @render" line for ${unused.join(', ')}`);
  return lines.join('\n');
}

/** Loopback values for the container addresses: nginx's listen port and the three instances. */
export function loopbackValues(listenPort: number, instancePorts: readonly number[]): Record<string, string> {
  if (instancePorts.length !== 3) throw new Error(`nginx.conf names 3 instances, got ${instancePorts.length} ports`);
  return {
    '80': `127.0.0.1:${listenPort}`,
    ...Object.fromEntries(instancePorts.map((port, i) => [`tbo-${i + 1}:8000`, `127.0.0.1:${port}`])),
  };
}

export async function readNginxConf(): Promise<string> {
  return readFile(NGINX_CONF, 'utf8');
}

/** The command line that runs `conf` from prefix `dir` without root: pid and logs in `dir`/stderr. */
export function nginxArgs(dir: string, extra: readonly string[] = []): string[] {
  return ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`, ...extra];
}

/** One line of the `tbo` JSON access log. */
export interface AccessLogLine {
  readonly request_id: string;
  readonly client: string;
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  /** Every instance tried, "127.0.0.1:P" or "127.0.0.1:P, 127.0.0.1:Q" after a retry. */
  readonly upstream: string;
  readonly upstream_status: string;
  readonly cache: string;
  readonly request_time: number;
}

export interface NginxProcess {
  readonly port: number;
  readonly pid: number;
  /** Access log lines so far (the conf logs to /dev/stdout: a file here, see `launch`). */
  log(): readonly AccessLogLine[];
  /** nginx's error log (stderr) so far. */
  errors(): string;
  /** The access log line of a request, waiting briefly for nginx's log phase. */
  logOf(requestId: string): Promise<AccessLogLine>;
  /**
   * Writes `conf` over the running config and runs `nginx -s reload`, as a deploy does; resolves
   * once a worker of the new config runs (old workers finish their requests and exit on their own).
   */
  reload(conf: string): Promise<void>;
  stop(): Promise<void>;
}

/** Pids of the processes whose parent is `ppid` (from /proc: nginx's workers, for a master). */
function childPids(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) pids.push(Number(entry));
    } catch {
      // the process ended while being read
    }
  }
  return pids;
}

/**
 * Runs `render(port)` as nginx on a free loopback port: master and workers as this user, temp
 * files in a fresh prefix dir, stopped by pid (SIGTERM to the master stops its workers).
 */
export async function startNginx(render: (port: number) => string): Promise<NginxProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port, render(port));
    } catch (err) {
      lastError = err; // most likely the port was taken between freePort() and bind()
    }
  }
  throw lastError;
}

async function launch(port: number, conf: string): Promise<NginxProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'tbo-nginx-'));
  await writeFile(join(dir, 'nginx.conf'), conf);
  // nginx opens /dev/stdout itself, which fails (ENXIO) on the socket a 'pipe' stdio would be:
  // its stdout is a file, read as it grows.
  const logFile = join(dir, 'access.log');
  const logFd = openSync(logFile, 'a+');
  const child = spawn(NGINX, nginxArgs(dir), { stdio: ['ignore', logFd, 'pipe'] });
  if (child.pid === undefined) {
    closeSync(logFd);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot spawn ${NGINX}`);
  }
  const pid = child.pid;
  const unguard = guard(pid, 'SIGTERM');
  const log: AccessLogLine[] = [];
  const byId = new Map<string, AccessLogLine>();
  let offset = 0;
  let pending = '';
  const readLog = (): readonly AccessLogLine[] => {
    const buffer = Buffer.alloc(1 << 16);
    for (let n = readSync(logFd, buffer, 0, buffer.length, offset); n > 0; n = readSync(logFd, buffer, 0, buffer.length, offset)) {
      offset += n;
      pending += buffer.toString('utf8', 0, n);
    }
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as AccessLogLine;
      log.push(entry);
      byId.set(entry.request_id, entry);
    }
    return log;
  };
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopChild(child, exited, 'SIGTERM');
    unguard();
    closeSync(logFd);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (!running(child)) throw new Error(`nginx exited at start-up: ${stderr}`);
        return connects(port);
      },
      { what: `nginx (pid ${pid}) to listen on 127.0.0.1:${port}`, timeoutMs: 10_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    pid,
    log: readLog,
    errors: () => stderr,
    async logOf(requestId: string): Promise<AccessLogLine> {
      await waitFor(() => (readLog(), byId.has(requestId)), { what: `nginx access log line of ${requestId}`, timeoutMs: 5_000, intervalMs: 5 });
      return byId.get(requestId) as AccessLogLine;
    },
    async reload(next: string): Promise<void> {
      const before = new Set(childPids(pid));
      await writeFile(join(dir, 'nginx.conf'), next);
      const signal = spawnSync(NGINX, nginxArgs(dir, ['-s', 'reload']), { encoding: 'utf8', timeout: 10_000 });
      if (signal.status !== 0) throw new Error(`nginx -s reload exited ${signal.status}: ${signal.stderr}`);
      await waitFor(
        () => {
          if (!running(child)) throw new Error(`nginx exited on reload: ${stderr}`);
          return childPids(pid).some((p) => !before.has(p));
        },
        { what: `a worker of nginx (pid ${pid}) with the reloaded config`, timeoutMs: 10_000 },
      );
    },
    stop,
  };
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Signals `child` by pid and waits for it; SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals): Promise<void> {
  if (!running(child)) return;
  process.kill(child.pid as number, signal);
  const timer = setTimeout(() => {
    if (running(child)) process.kill(child.pid as number, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
