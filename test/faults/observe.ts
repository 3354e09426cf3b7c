/**
 * What the fault suite reads from the processes it runs: RSS from /proc, Prometheus metrics (from
 * the admin listener), `/v1/performance` (the global view, with an admin key) and `/ready`, a
 * breaker-state recorder, and a watchdog per spawned service so a killed jest worker leaves no
 * process behind.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../support/ports';
import type { TboProcess } from '../support/tbo';

/**
 * A tiny `sh` loop that SIGKILLs `pid` once this (jest worker) process is gone; normal teardown
 * stops the process itself and then calls the returned function to end the watchdog.
 */
export function guard(pid: number): () => void {
  const script = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.5; done; kill -9 "$2" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'tbo-faults-watchdog', String(process.pid), String(pid)], { stdio: 'ignore' });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  return () => {
    if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL');
  };
}

/** Stops a service process by pid with SIGKILL when it still runs, and its watchdog. */
export async function killTbo(proc: TboProcess | undefined, unguard?: () => void): Promise<void> {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop('SIGKILL');
  unguard?.();
}

/** Resident set size of a process, in bytes (VmRSS of /proc/<pid>/status). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/**
 * The admin credential of every service the suite starts (`TBO_ADMIN_KEYS`): `/v1/performance` with
 * it is the global view, every upstream's breaker whoever called it.
 */
export const ADMIN_KEY = 'faults-admin-key-0123456789abcdef';

/**
 * Every sample of a service's Prometheus text exposition, by `name{labels}` exactly as exported.
 * `adminUrl` is the service's admin listener (`TboProcess.adminUrl`): the public port has no /metrics.
 */
export async function metrics(adminUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${adminUrl}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${adminUrl}/metrics: HTTP ${res.status}`);
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

export const redisGet = (result: 'hit' | 'miss' | 'error') => `tbo_cache_operations_total{tier="redis",operation="get",result="${result}"}`;
export const upstreamOutcome = (provider: string, outcome: string) => `tbo_upstream_duration_seconds_count{provider="${provider}",outcome="${outcome}"}`;

export interface UpstreamReport {
  readonly provider: string;
  readonly model: string;
  readonly breaker_state: 'closed' | 'open' | 'half_open';
  readonly breaker_reason?: string;
  readonly error_rate: number;
  readonly calls_in_window: number;
}

/** `/v1/performance` on the public listener, as an admin: the global view (`scope: "global"`). */
export async function performance(url: string): Promise<{ scope: string; upstreams: UpstreamReport[] }> {
  const res = await fetch(`${url}/v1/performance`, { headers: { 'x-api-key': ADMIN_KEY } });
  const body = (await res.json()) as { scope: string; upstreams: UpstreamReport[] };
  if (res.status !== 200 || body.scope !== 'global') throw new Error(`${url}/v1/performance as admin: HTTP ${res.status}, scope ${body.scope}`);
  return body;
}

export async function readiness(url: string): Promise<{ status: number; redis: string; entries: number; capacity: number }> {
  const res = await fetch(`${url}/ready`);
  const body = (await res.json()) as { cache: { redis: string; memory: { entries: number; capacity: number } } };
  return { status: res.status, redis: body.cache.redis, entries: body.cache.memory.entries, capacity: body.cache.memory.capacity };
}

/** One observation of a model's breaker: `/v1/performance` and the `tbo_circuit_breaker_active` gauge. */
export interface BreakerSample {
  readonly t: number;
  readonly state: string;
  readonly reason: string | undefined;
  readonly active: number;
}

/**
 * Polls a service every `intervalMs` (`/v1/performance` as an admin, `/metrics` on the admin
 * listener) and keeps the samples of one model's breaker in which something changed (state, reason
 * or the gauge), so a test can wait for a transition after a point in time and report when it
 * happened.
 */
export class BreakerRecorder {
  readonly samples: BreakerSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly svc: Pick<TboProcess, 'url' | 'adminUrl'>,
    private readonly model: string,
    intervalMs = 50,
  ) {
    this.loop = this.poll(intervalMs);
  }

  private async poll(intervalMs: number): Promise<void> {
    while (this.running) {
      try {
        const [perf, m] = await Promise.all([performance(this.svc.url), metrics(this.svc.adminUrl)]);
        const u = perf.upstreams.find((x) => x.model === this.model);
        const sample: BreakerSample = { t: Date.now(), state: u?.breaker_state ?? 'unknown', reason: u?.breaker_reason, active: m.get('tbo_circuit_breaker_active') ?? -1 };
        const last = this.samples.at(-1);
        if (!last || last.state !== sample.state || last.reason !== sample.reason || last.active !== sample.active) this.samples.push(sample);
      } catch {
        // the service is busy or gone; try again
      }
      await sleep(intervalMs);
    }
  }

  /** The first sample at or after `since` that matches, once one is recorded. */
  async first(match: (s: BreakerSample) => boolean, since: number, timeoutMs: number, what: string): Promise<BreakerSample> {
    let found: BreakerSample | undefined;
    await waitFor(() => (found = this.samples.find((s) => s.t >= since && match(s))) !== undefined, { timeoutMs, intervalMs: 20, what });
    return found as BreakerSample;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
