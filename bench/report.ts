/** Turns measurements into the targets verdict, the printed tables and the saved JSON. */
import type { MachineFacts } from './cpu';
import type { MemoryResult } from './memory';
import type { ScenarioResult } from './measure';
import { fmt, renderTable } from './table';

export const TARGETS = {
  missCpuUs: 210,
  missAddedMs: 0.6,
  hitCpuUs: 130,
  rssMiB: 200,
} as const;

/** Figures for the same machine kind, from the brief, printed beside the measurements. */
export const REFERENCE = {
  bareExpressCpuUs: 90,
  passthroughCpuUs: 160,
  passthroughAddedMs: 0.45,
} as const;

export interface Target {
  readonly id: string;
  readonly label: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: 'µs' | 'ms' | 'MiB';
  readonly met: boolean;
  /** The default configuration (log level info); the others are for comparison. */
  readonly primary: boolean;
  /**
   * CPU only: the measurement × the brief's reference figure for this machine kind ÷ this run's
   * calibration process (pass-through for misses, bare express for hits). A first-order correction
   * for a loaded machine, where every process's CPU per request is inflated by a similar factor.
   * (Latency has no such correction: on a loaded machine it is dominated by other processes.)
   */
  readonly calibrated?: number;
  readonly calibratedMet?: boolean;
}

/** Added time per request of `s` over `base`, from 1/rps and from mean latency, in ms. */
export interface Added {
  readonly scenario: string;
  readonly baseline: string;
  readonly byRpsMs: number;
  readonly byMeanLatencyMs: number;
  readonly byP50Ms: number;
}

export function addedOver(s: ScenarioResult, base: ScenarioResult): Added {
  return {
    scenario: s.id,
    baseline: base.id,
    byRpsMs: s.msPerRequest - base.msPerRequest,
    byMeanLatencyMs: s.latency.meanMs - base.latency.meanMs,
    byP50Ms: s.latency.p50Ms - base.latency.p50Ms,
  };
}

const MiB = 2 ** 20;

export function evaluateTargets(byId: ReadonlyMap<string, ScenarioResult>, added: ReadonlyMap<string, Added>, memory: MemoryResult | undefined): Target[] {
  const targets: Target[] = [];
  const push = (id: string, label: string, measured: number | undefined, limit: number, unit: Target['unit'], primary: boolean, calibrated?: number) => {
    if (measured === undefined) return;
    const cal = calibrated !== undefined && Number.isFinite(calibrated) ? { calibrated, calibratedMet: calibrated <= limit } : {};
    targets.push({ id, label, measured, limit, unit, met: measured <= limit, primary, ...cal });
  };
  const bareCpu = byId.get('express')?.serverCpuUsPerRequest;
  const passCpu = byId.get('passthrough')?.serverCpuUsPerRequest;
  const scale = (v: number | undefined, ref: number, cal: number | undefined) => (v === undefined || cal === undefined ? undefined : (v * ref) / cal);
  for (const [suffix, level, primary] of [['', 'info', true], ['-warn', 'warn', false]] as const) {
    const miss = byId.get(`tbo-miss${suffix}`)?.serverCpuUsPerRequest;
    const hit = byId.get(`tbo-hit${suffix}`)?.serverCpuUsPerRequest;
    const missAdded = added.get(`tbo-miss${suffix}`)?.byRpsMs;
    push(`miss-cpu${suffix}`, `cache miss: TBO CPU / request [log ${level}]`, miss, TARGETS.missCpuUs, 'µs', primary, scale(miss, REFERENCE.passthroughCpuUs, passCpu));
    push(`miss-added${suffix}`, `cache miss: added mean latency, 1/rps [log ${level}]`, missAdded, TARGETS.missAddedMs, 'ms', primary);
    push(`hit-cpu${suffix}`, `cache hit: TBO CPU / request [log ${level}]`, hit, TARGETS.hitCpuUs, 'µs', primary, scale(hit, REFERENCE.bareExpressCpuUs, bareCpu));
  }
  if (memory) push('rss', `RSS with ${memory.entriesRequested} cached entries [log info]`, memory.rssAfterBytes / MiB, TARGETS.rssMiB, 'MiB', true);
  return targets;
}

export function renderScenarios(results: readonly ScenarioResult[], added: ReadonlyMap<string, Added>): string {
  const rows = results.map((r) => {
    const a = added.get(r.id);
    return [
      r.id,
      fmt(r.serverCpuUsPerRequest, 1),
      `${fmt(r.serverCpuUsPerRequest - r.serverSystemUsPerRequest, 0)} / ${fmt(r.serverSystemUsPerRequest, 0)}`,
      `${fmt(r.serverCpuUsRange[0], 0)}–${fmt(r.serverCpuUsRange[1], 0)}`,
      r.upstreamCallsPerRequest > 0 && r.id !== 'direct' ? fmt(r.upstreamCpuUsPerRequest, 1) : '–',
      fmt(r.rps, 0),
      fmt(r.msPerRequest, 3),
      a ? `${fmt(a.byRpsMs, 3)} vs ${a.baseline}` : '–',
      a ? fmt(a.byMeanLatencyMs, 3) : '–',
      fmt(r.latency.meanMs, 3),
      fmt(r.latency.p50Ms, 3),
      fmt(r.latency.p99Ms, 3),
      fmt(r.foreignCores, 2),
      r.problems.length ? 'INVALID' : 'ok',
    ];
  });
  return renderTable(
    ['scenario', 'CPU µs/req', 'user / sys', 'per chunk', 'upstream µs/req', 'req/s', '1/rps ms', 'added ms (1/rps)', 'added ms (mean)', 'mean ms', 'p50 ms', 'p99 ms', 'foreign cores', 'check'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

export function renderTargets(targets: readonly Target[]): string {
  const digits = (t: Target) => (t.unit === 'ms' ? 3 : 1);
  return renderTable(
    ['target', 'measured', 'limit', 'status', 'calibrated*', 'status*'],
    targets.map((t) => [
      t.label,
      `${fmt(t.measured, digits(t))} ${t.unit}`,
      `≤ ${t.limit} ${t.unit}`,
      `${t.met ? 'met' : 'NOT MET'}${t.primary ? '' : ' (comparison)'}`,
      t.calibrated === undefined ? '–' : `${fmt(t.calibrated, digits(t))} ${t.unit}`,
      t.calibratedMet === undefined ? '–' : t.calibratedMet ? 'met' : 'NOT MET',
    ]),
    ['l', 'r', 'r', 'l', 'r', 'l'],
  );
}

export function renderMemory(m: MemoryResult): string {
  return renderTable(
    ['memory (fresh TBO, log info)', 'value'],
    [
      ['entries cached (from /ready) / capacity', `${m.entriesCached} / ${m.cacheCapacity}`],
      ['answer size (bytes of JSON) / request size', `${m.answerBytes} / ${m.requestBytes}`],
      ['VmRSS before inserting (after no-store warm-up)', `${fmt(m.rssBaselineBytes / MiB, 1)} MiB`],
      ['VmRSS after inserting', `${fmt(m.rssAfterBytes / MiB, 1)} MiB`],
      ['VmRSS growth / per entry', `${fmt(m.rssDeltaBytes / MiB, 1)} MiB / ${fmt(m.rssDeltaPerEntryBytes, 0)} B`],
      ['VmHWM (peak RSS)', `${fmt(m.vmHwmBytes / MiB, 1)} MiB`],
      ['V8 heap used before / after (from /metrics)', `${fmt(m.heapUsedBaselineBytes / MiB, 1)} / ${fmt(m.heapUsedAfterBytes / MiB, 1)} MiB`],
    ],
    ['l', 'r'],
  );
}

export function renderMachine(facts: MachineFacts, load: { busyPct: number; stealPct: number; loadAvgAtEnd: readonly number[] }): string {
  return [
    `machine: ${facts.cpuModel}, ${facts.cores} cores (available ${facts.availableParallelism}${facts.cgroupCpuMax ? `, cgroup cpu.max ${facts.cgroupCpuMax}` : ''}), ${facts.memTotalMiB} MiB, node ${facts.node}, ${facts.platform} ${facts.kernel}`,
    `load: avg ${facts.loadAvgAtStart.join(' ')} at start, ${load.loadAvgAtEnd.join(' ')} at end; all cores ${fmt(load.busyPct, 0)}% busy during the run (incl. the bench itself), steal ${fmt(load.stealPct, 1)}%`,
  ].join('\n');
}
