/**
 * Runs the backup and restore scripts of lib/core/redis-backup.ts the way the Kubernetes CronJob and
 * init container run them: `sh -c "<script>"` with the script's inputs in the environment.
 *
 * The StatefulSet's image is `redis:7-alpine`, whose shell and tools are busybox. When busybox is
 * installed here (`apt-get install busybox`), the scripts run under busybox `ash` with a PATH that
 * holds nothing but busybox applets and the Redis binaries, as in that image; otherwise under
 * `/bin/sh` with this machine's tools (dash and GNU coreutils: the Debian `redis:7` image).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';

const BUSYBOX = '/usr/bin/busybox';
/** The Redis binaries the official image puts on PATH next to its shell tools. */
const REDIS_TOOLS = ['redis-server', 'redis-cli', 'redis-check-rdb'] as const;
const REDIS_BIN_DIR = '/usr/bin';

/** A shell to run the scripts with. */
export interface ScriptShell {
  /** `busybox ash (alpine-like PATH)` or `/bin/sh`: printed with the drill's results. */
  readonly name: string;
  readonly path: string;
  /** PATH given to the script. */
  readonly pathEnv: string;
}

/** What a script run printed and how long it took. */
export interface ScriptRun {
  readonly output: string;
  readonly ms: number;
}

/**
 * The shell the image would use: busybox with a bin directory of its applets (made under `workDir`)
 * and the Redis tools, or `/bin/sh` when busybox is not installed.
 */
export async function imageShell(workDir: string): Promise<ScriptShell> {
  if (!existsSync(BUSYBOX)) return { name: '/bin/sh (busybox not installed)', path: '/bin/sh', pathEnv: process.env.PATH ?? '/usr/bin:/bin' };
  const bin = join(workDir, 'busybox-bin');
  await mkdir(bin, { recursive: true });
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  await Promise.all(applets.map((applet) => symlink(BUSYBOX, join(bin, applet))));
  await Promise.all(REDIS_TOOLS.map((tool) => symlink(join(REDIS_BIN_DIR, tool), join(bin, tool))));
  return { name: 'busybox ash (busybox applets + redis tools only)', path: join(bin, 'sh'), pathEnv: bin };
}

/**
 * Runs `sh -c "$script"` with exactly `env` (and PATH); rejects with the script's output when it
 * exits non-zero. The scripts read their password from `REDISCLI_AUTH`, so no secret is on a
 * command line or in the output.
 */
export function runScript(shell: ScriptShell, script: string, env: Readonly<Record<string, string>>, timeoutMs = 60_000): Promise<ScriptRun> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(shell.path, ['-c', script], { env: { PATH: shell.pathEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ output, ms: performance.now() - startedAt });
      else reject(new Error(`${shell.name} -c <script> exited ${code ?? signal}:\n${output}`));
    });
  });
}
