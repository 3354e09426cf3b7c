/**
 * The test side of the load generator: starts `load.ts` as its own process (`node --import tsx`),
 * sends it commands and reads its reports. The generator exits by itself when its stdin closes, so
 * a dead test process leaves no load behind; `kill()` stops it by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/tbo';
import type { LoadCommand, LoadConfig, LoadCounters, LoadKind, LoadMessage, LoadReport } from './load-protocol';

const LOAD_SCRIPT = join(__dirname, 'load.ts');

export interface LoadRun {
  readonly pid: number;
  /** Counters so far (the generator keeps running). */
  snapshot(): Promise<LoadCounters>;
  /** Changes the request mix and/or rate from now on; resolves with the counters at the switch. */
  set(change: { readonly mix?: readonly LoadKind[]; readonly rps?: number }): Promise<LoadCounters>;
  /** Stops issuing requests, lets those in flight finish, and resolves with the report. */
  stop(): Promise<LoadReport>;
  /** Resolves with the report once the generator finished by itself (duration or request limit). */
  readonly finished: Promise<LoadReport>;
  /** SIGKILLs the generator by pid (teardown; idempotent). */
  kill(): void;
}

export async function startLoad(config: LoadConfig): Promise<LoadRun> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(config)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('cannot spawn the load generator');
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => undefined); // the generator may be gone already

  const waiting = new Map<number, (c: LoadCounters) => void>();
  let nextId = 1;
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
  let resolveResult!: (r: LoadReport) => void;
  let rejectResult!: (err: Error) => void;
  const finished = new Promise<LoadReport>((resolve, reject) => ((resolveResult = resolve), (rejectResult = reject)));
  finished.catch(() => undefined);

  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      const message = JSON.parse(line) as LoadMessage;
      if (message.type === 'ready') resolveReady();
      else if (message.type === 'snapshot') {
        const { type: _type, id, ...counters } = message;
        waiting.get(id)?.(counters);
        waiting.delete(id);
      } else {
        const { type: _type, ...report } = message;
        resolveResult(report);
      }
    }
  });
  child.once('exit', (code, signal) => {
    const err = new Error(`load generator exited (code ${code}, signal ${signal}) without a report; stderr:\n${stderr}`);
    rejectReady(err);
    rejectResult(err);
  });

  const send = (command: LoadCommand) => child.stdin?.write(`${JSON.stringify(command)}\n`);
  const ask = (command: (id: number) => LoadCommand) =>
    new Promise<LoadCounters>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, resolve);
      send(command(id));
      finished.then(() => reject(new Error('load generator already finished')), reject);
    });

  await ready;
  return {
    pid,
    snapshot: () => ask((id) => ({ cmd: 'snapshot', id })),
    set: (change) => ask((id) => ({ cmd: 'set', id, ...change })),
    stop() {
      send({ cmd: 'stop' });
      return finished;
    },
    finished,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Successful share of a report, in percent. */
export function successRate(r: Pick<LoadCounters, 'ok' | 'sent'>): number {
  return r.sent === 0 ? 100 : (r.ok / r.sent) * 100;
}
