/**
 * A redis-server run as the Kubernetes StatefulSet runs it: the arguments of `redisArgs` (AOF on,
 * `requirepass`, `maxmemory` from the default memory limit, LRU eviction), with Kubernetes' `$(VAR)`
 * expansion done here and the `--dir` (the volume's mount path) swapped for a local directory. Only `--bind 127.0.0.1 --port P`
 * and a log file are added. Started, SIGKILLed and started again by pid; a watchdog kills it if
 * the process that started it dies first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { redisArgs } from '../../lib/k8s/redis';
import { REDIS_DEFAULTS } from '../../lib/k8s/defaults';
import { SECRET_ENV } from '../../lib/core';
import { waitFor } from '../../test/support/ports';
import { guard } from '../../test/topology/processes';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
const HOST = '127.0.0.1';
const execFileAsync = promisify(execFile);

/** The in-cluster Redis the Kubernetes construct plans by default (only what `redisArgs` reads matters). */
const DEFAULT_IN_CLUSTER_REDIS = {
  mode: 'in-cluster',
  name: 'tbo-redis',
  host: 'tbo-redis.tbo.svc',
  port: REDIS_DEFAULTS.port,
  image: REDIS_DEFAULTS.image,
  storage: REDIS_DEFAULTS.storage,
  resources: REDIS_DEFAULTS.resources,
  labels: {},
  selector: {},
} as const;

/**
 * The StatefulSet container's arguments for a local run: `$(NAME)` expanded from `env` (as the
 * kubelet does) and the `--dir` value replaced by `dataDir`.
 */
export function statefulSetRedisArgs(env: Readonly<Record<string, string>>, dataDir: string): string[] {
  const args = redisArgs(DEFAULT_IN_CLUSTER_REDIS).map((arg) =>
    arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_match, name: string) => {
      const value = env[name];
      if (value === undefined) throw new Error(`redisArgs refers to $(${name}), which the drill does not set`);
      return value;
    }),
  );
  const dir = args.indexOf('--dir');
  if (dir < 0 || dir + 1 >= args.length) throw new Error(`redisArgs passes no --dir (the drill needs to point it at its own directory): ${args.join(' ')}`);
  args[dir + 1] = dataDir;
  return args;
}

/** One redis-server process with the StatefulSet's flags on a fixed port and data directory. */
export class StatefulSetRedis {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private unguard: (() => void) | undefined;

  /**
   * @param port loopback port, kept across restarts (the Service's address does not change)
   * @param dataDir the volume; delete and recreate it between `kill()` and `start()` to model a lost volume
   * @param password `requirepass`, given to the server as `$(REDIS_PASSWORD)` and to redis-cli as `REDISCLI_AUTH`
   * @param logFile where redis-server logs (outside the data directory, which the drill deletes)
   */
  constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly password: string,
    private readonly logFile: string,
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  /** Starts the server and resolves once it answers PING with AUTH (i.e. has loaded its data). */
  async start(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    const args = ['--bind', HOST, '--port', String(this.port), '--logfile', this.logFile, ...statefulSetRedisArgs({ [SECRET_ENV.redisPassword]: this.password }, this.dataDir)];
    const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error(`cannot spawn ${REDIS_SERVER}`);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.unguard = guard(child.pid, 'SIGKILL');
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited at start-up (code ${child.exitCode}); see ${this.logFile}`);
        return (await this.cli('PING')).trim() === 'PONG';
      },
      { what: `redis-server on ${HOST}:${this.port} to answer PING`, timeoutMs: 15_000, intervalMs: 20 },
    );
  }

  /** Sends `signal` to the server by pid and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, signal);
    await this.exited;
    this.unguard?.();
    this.child = undefined;
  }

  /** Runs one redis-cli command (AUTH from `REDISCLI_AUTH`) and returns its raw output. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(REDIS_CLI, ['--no-auth-warning', '-h', HOST, '-p', String(this.port), ...args], {
      env: { REDISCLI_AUTH: this.password },
      timeout: 10_000,
    });
    return stdout;
  }

  /** Keys matching `pattern` (SCAN, not KEYS). */
  async keys(pattern: string): Promise<string[]> {
    return (await this.cli('--scan', '--pattern', pattern)).split('\n').filter(Boolean);
  }
}
