/**
 * Runs scenarios side by side: a warm-up per scenario, then the measured requests split into
 * rounds that interleave the scenarios, so a change in the machine's load during the run affects
 * every scenario alike. The order is shuffled per round (seeded, so reproducible): no scenario
 * always follows the same one (a server's lingering work, e.g. GC after its chunk, would
 * otherwise always land on the same neighbour). Around each chunk the CPU counters of the server
 * under test, of the upstream and of this process (the client) are read — the closing ones after
 * a short settle, so work a server finishes after its last response is still its own — and the
 * machine's total busy time: what the machine spent beyond our three processes is other people's
 * load ("foreign").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { clockTicks, machineCpu } from './cpu';
import { fire, summarize, type LatencySummary, type LoadResult } from './load';
import type { BenchServer, Measured } from './processes';

export interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Fixed (cache hit, ceiling) or a new body per request (cache miss, direct upstream). */
  readonly body: string | (() => string);
  /** The process under test; its CPU time per request is the headline number. */
  readonly server: Measured;
  /** Upstream calls each request must cause: 1 through to the upstream, 0 for a hit or the ceiling. */
  readonly upstreamCallsPerRequest: 0 | 1;
  /** Concurrent keep-alive connections of the client. @default 1 */
  readonly connections?: number;
  /** Measured requests of this scenario (split into the rounds); @default RoundsOptions.measure */
  readonly measure?: number;
}

export interface ChunkRecord {
  readonly round: number;
  readonly requests: number;
  readonly wallMs: number;
  readonly serverCpuMicros: number;
  readonly serverSystemMicros: number;
  readonly upstreamCpuMicros: number;
  readonly clientCpuMicros: number;
  /** Cores busy with processes other than the server, the upstream and the client, on average. */
  readonly foreignCores: number;
  readonly upstreamCalls: number;
  readonly autocannonLatencyMs: LoadResult['autocannonLatencyMs'];
}

export interface ScenarioResult {
  readonly id: string;
  readonly label: string;
  readonly server: string;
  readonly connections: number;
  readonly requests: number;
  readonly wallMs: number;
  readonly rps: number;
  /** 1 / rps, in ms: at one connection, the mean time per request as the client sees it (at more, wall time / requests). */
  readonly msPerRequest: number;
  readonly latency: LatencySummary;
  readonly serverCpuUsPerRequest: number;
  /** The kernel's share of it (system time): mostly loopback TCP, the same for any proxy. */
  readonly serverSystemUsPerRequest: number;
  /** Per-chunk server CPU µs/request, lowest and highest: how steady the number was. */
  readonly serverCpuUsRange: readonly [number, number];
  readonly upstreamCpuUsPerRequest: number;
  readonly clientCpuUsPerRequest: number;
  readonly foreignCores: number;
  readonly upstreamCallsPerRequest: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly timeouts: number;
  readonly problems: readonly string[];
  readonly chunks: readonly ChunkRecord[];
}

export interface RoundsOptions {
  readonly warmup: number;
  readonly measure: number;
  readonly rounds: number;
  /** No new round starts once this much time (ms, from `startedAt`) could be exceeded… */
  readonly budgetMs: number;
  /** …but at least this many rounds always run (so every scenario gets its minimum of requests). */
  readonly minRounds: number;
  readonly startedAt: number;
  readonly log: (line: string) => void;
}

export interface RoundsOutcome {
  readonly results: ScenarioResult[];
  readonly roundsCompleted: number;
}

/** Pause after a chunk's last response before its closing counters are read. */
export const SETTLE_MS = 150;

/** The scenarios in a reproducible pseudo-random order for `round` (mulberry32, Fisher–Yates). */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  let seed = 0x9e3779b9 ^ (round + 1);
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function failures(r: LoadResult): number {
  return r.errors + r.non2xx + r.timeouts;
}

function clientCpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

interface Acc {
  records: ChunkRecord[];
  latencies: number[];
  errors: number;
  non2xx: number;
  timeouts: number;
}

async function chunk(s: Scenario, upstream: BenchServer, amount: number, round: number, acc: Acc): Promise<LoadResult> {
  const sameProcess = s.server.pid === upstream.pid;
  const up0 = await upstream.stats();
  const cpu0 = await s.server.cpu();
  const m0 = machineCpu();
  const c0 = clientCpu();
  const r = await fire({ url: s.url, headers: s.headers, body: s.body, amount, connections: s.connections ?? 1 });
  await sleep(SETTLE_MS);
  const c1 = clientCpu();
  const m1 = machineCpu();
  const cpu1 = await s.server.cpu();
  const up1 = await upstream.stats();
  const server = cpu1.user + cpu1.system - (cpu0.user + cpu0.system);
  const up = up1.cpu.user + up1.cpu.system - (up0.cpu.user + up0.cpu.system);
  const client = c1 - c0;
  const busyMicros = (((m1.total - m1.idle) - (m0.total - m0.idle)) * 1e6) / clockTicks();
  const elapsedMicros = ((m1.total - m0.total) * 1e6) / clockTicks() / Math.max(1, m1.cores);
  acc.records.push({
    round,
    requests: r.requests,
    wallMs: r.wallMs,
    serverCpuMicros: server,
    serverSystemMicros: cpu1.system - cpu0.system,
    upstreamCpuMicros: up,
    clientCpuMicros: client,
    foreignCores: Math.max(0, busyMicros - server - (sameProcess ? 0 : up) - client) / Math.max(1, elapsedMicros),
    upstreamCalls: (up1.counters.calls ?? 0) - (up0.counters.calls ?? 0),
    autocannonLatencyMs: r.autocannonLatencyMs,
  });
  for (const l of r.latenciesMs) acc.latencies.push(l);
  acc.errors += r.errors;
  acc.non2xx += r.non2xx;
  acc.timeouts += r.timeouts;
  return r;
}

export async function runScenarios(scenarios: readonly Scenario[], upstream: BenchServer, opts: RoundsOptions): Promise<RoundsOutcome> {
  for (const s of scenarios) {
    const r = await fire({ url: s.url, headers: s.headers, body: s.body, amount: opts.warmup, connections: s.connections ?? 1 });
    if (failures(r) > 0) throw new Error(`${s.id}: warm-up had ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts`);
  }
  opts.log(`warm-up done (${opts.warmup} requests per scenario)`);

  const accs = new Map<string, Acc>(scenarios.map((s) => [s.id, { records: [], latencies: [], errors: 0, non2xx: 0, timeouts: 0 }]));
  const perChunk = (s: Scenario) => Math.ceil((s.measure ?? opts.measure) / opts.rounds);
  let roundsCompleted = 0;
  const roundsStart = performance.now();
  for (let round = 0; round < opts.rounds; round++) {
    const elapsed = performance.now() - opts.startedAt;
    const roundMs = roundsCompleted > 0 ? (performance.now() - roundsStart) / roundsCompleted : 0;
    if (roundsCompleted >= opts.minRounds && elapsed + roundMs > opts.budgetMs) {
      opts.log(`time budget reached: stopping after ${roundsCompleted} of ${opts.rounds} rounds`);
      break;
    }
    const order = roundOrder(scenarios, round);
    const line: string[] = [];
    for (const s of order) {
      const r = await chunk(s, upstream, perChunk(s), round, accs.get(s.id)!);
      line.push(`${s.id} ${Math.round((r.requests * 1000) / r.wallMs)}/s`);
    }
    roundsCompleted++;
    opts.log(`round ${round + 1}/${opts.rounds}: ${line.join(', ')}`);
  }

  const results = scenarios.map((s): ScenarioResult => {
    const acc = accs.get(s.id)!;
    const sum = (f: (c: ChunkRecord) => number) => acc.records.reduce((a, c) => a + f(c), 0);
    const requests = sum((c) => c.requests);
    const wallMs = sum((c) => c.wallMs);
    const calls = sum((c) => c.upstreamCalls);
    const perChunkCpu = acc.records.map((c) => c.serverCpuMicros / c.requests);
    const problems: string[] = [];
    if (acc.errors + acc.non2xx + acc.timeouts > 0) problems.push(`${acc.errors} errors, ${acc.non2xx} non-2xx, ${acc.timeouts} timeouts`);
    if (calls !== requests * s.upstreamCallsPerRequest) problems.push(`upstream got ${calls} calls for ${requests} requests (expected ${requests * s.upstreamCallsPerRequest})`);
    return {
      id: s.id,
      label: s.label,
      server: s.server.name,
      connections: s.connections ?? 1,
      requests,
      wallMs,
      rps: (requests * 1000) / wallMs,
      msPerRequest: wallMs / requests,
      latency: summarize(acc.latencies),
      serverCpuUsPerRequest: sum((c) => c.serverCpuMicros) / requests,
      serverSystemUsPerRequest: sum((c) => c.serverSystemMicros) / requests,
      serverCpuUsRange: [Math.min(...perChunkCpu), Math.max(...perChunkCpu)],
      upstreamCpuUsPerRequest: sum((c) => c.upstreamCpuMicros) / requests,
      clientCpuUsPerRequest: sum((c) => c.clientCpuMicros) / requests,
      foreignCores: sum((c) => c.foreignCores * c.wallMs) / wallMs,
      upstreamCallsPerRequest: calls / requests,
      errors: acc.errors,
      non2xx: acc.non2xx,
      timeouts: acc.timeouts,
      problems,
      chunks: acc.records,
    };
  });
  return { results, roundsCompleted };
}
