/** Turns measurements into the targets verdict and the tables (printed, and in BENCHMARKS.md). */
import type { CardinalityResult } from './cardinality';
import { COLD_START_LIMIT_MS, coldStartSummary, renderColdStart, type ColdStartResult } from './cold-start';
import { renderComparison } from './comparison';
import type { MemoryResult, RetainedMemoryResult } from './memory';
import type { ChunkRecord, ScenarioResult } from './measure';
import type { BenchResult, ProcessMemory } from './result';
import { fmt, renderTable } from './table';

export const TARGETS = {
  missCpuUs: 210,
  missAddedMs: 0.6,
  hitCpuUs: 130,
  rssMiB: 200,
  /** TBO's cache-miss CPU per request at most this share of Portkey's (same run). */
  portkeyCpuShare: 1 / 3,
  /** TBO's cache-miss throughput at 10 connections at least this multiple of Portkey's (same run). */
  portkeyThroughputFactor: 2,
  /** Median start of the image's command to a 200 on /ready, ms. */
  coldStartMs: COLD_START_LIMIT_MS,
} as const;

/** Figures for the same machine kind, from the brief, printed beside the measurements. */
export const REFERENCE = {
  bareExpressCpuUs: 90,
  passthroughCpuUs: 160,
  passthroughAddedMs: 0.45,
  portkeyVersion: '1.15.2',
  portkeyCpuUs: 630,
  portkeyAddedMs: 1.1,
} as const;

export interface Target {
  readonly id: string;
  readonly label: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: 'µs' | 'ms' | 'MiB' | 'req/s';
  /** The measurement must be at least the limit (throughput); otherwise at most. */
  readonly atLeast?: boolean;
  readonly met: boolean;
  /** What the limit was derived from (the peer's figure in this run). */
  readonly note?: string;
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
  readonly byP99Ms: number;
}

export function addedOver(s: ScenarioResult, base: ScenarioResult): Added {
  return {
    scenario: s.id,
    baseline: base.id,
    byRpsMs: s.msPerRequest - base.msPerRequest,
    byMeanLatencyMs: s.latency.meanMs - base.latency.meanMs,
    byP50Ms: s.latency.p50Ms - base.latency.p50Ms,
    byP99Ms: s.latency.p99Ms - base.latency.p99Ms,
  };
}

const MiB = 2 ** 20;

/** Lowest and highest ratio f(a) / f(b) over the rounds both scenarios ran in (their chunks ran in the same round). */
export function perRoundRatio(a: Pick<ScenarioResult, 'chunks'> | undefined, b: Pick<ScenarioResult, 'chunks'> | undefined, f: (c: ChunkRecord) => number): readonly [number, number] {
  if (!a || !b) return [NaN, NaN];
  const ratios = a.chunks.flatMap((ca) => {
    const cb = b.chunks.find((c) => c.round === ca.round);
    return cb ? [f(ca) / f(cb)] : [];
  });
  return ratios.length ? [Math.min(...ratios), Math.max(...ratios)] : [NaN, NaN];
}

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

  // Against the peer, both measured in this run (no calibration needed: same machine, same moment).
  for (const [suffix, conns, primary] of [['', 1, true], ['-c10', 10, false]] as const) {
    const tbo = byId.get(`tbo-miss${suffix}`)?.serverCpuUsPerRequest;
    const peer = byId.get(`portkey${suffix}`)?.serverCpuUsPerRequest;
    const spread = perRoundRatio(byId.get(`tbo-miss${suffix}`), byId.get(`portkey${suffix}`), (c) => c.serverCpuMicros / c.requests);
    if (tbo === undefined || peer === undefined) continue;
    const limit = peer * TARGETS.portkeyCpuShare;
    targets.push({
      id: `portkey-cpu${suffix}`,
      label: `cache miss: TBO CPU / request ≤ ⅓ of Portkey's (${conns} conn.)`,
      measured: tbo,
      limit,
      unit: 'µs',
      met: tbo <= limit,
      primary,
      note: `Portkey ${fmt(peer, 0)} µs; TBO = ${fmt((100 * tbo) / peer, 0)} % of it, ${fmt(100 * spread[0], 0)}–${fmt(100 * spread[1], 0)} % per round`,
    });
  }
  for (const [scenario, label, primary] of [['tbo-miss-c10', 'cache miss', true], ['tbo-hit-c10', 'cache hit', false]] as const) {
    const tbo = byId.get(scenario)?.rps;
    const peer = byId.get('portkey-c10')?.rps;
    const spread = perRoundRatio(byId.get(scenario), byId.get('portkey-c10'), (c) => c.requests / c.wallMs);
    if (tbo === undefined || peer === undefined) continue;
    const limit = peer * TARGETS.portkeyThroughputFactor;
    targets.push({
      id: `portkey-rps${scenario === 'tbo-hit-c10' ? '-hit' : ''}`,
      label: `${label}: TBO req/s ≥ 2 × Portkey's (10 conn.)`,
      measured: tbo,
      limit,
      unit: 'req/s',
      atLeast: true,
      met: tbo >= limit,
      primary,
      note: `Portkey ${fmt(peer, 0)} req/s; TBO = ${fmt(tbo / peer, 2)} ×, ${fmt(spread[0], 2)}–${fmt(spread[1], 2)} × per round`,
    });
  }
  return targets;
}

/** The cold-start target, from its measurement. */
export function coldStartTarget(c: ColdStartResult): Target {
  return {
    id: 'cold-start',
    label: `cold start: ${c.command} to a 200 on /ready (median of ${c.runs})`,
    measured: c.ready.medianMs,
    limit: TARGETS.coldStartMs,
    unit: 'ms',
    met: c.ready.medianMs <= TARGETS.coldStartMs,
    primary: true,
    note: `p90 ${fmt(c.ready.p90Ms, 0)} ms; node alone ${fmt(c.nodeFloor.medianMs, 0)} ms`,
  };
}

export function renderScenarios(results: readonly ScenarioResult[], added: ReadonlyMap<string, Added>): string {
  const rows = results.map((r) => {
    const a = added.get(r.id);
    return [
      r.id,
      String(r.connections),
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
    ['scenario', 'conn.', 'CPU µs/req', 'user / sys', 'per chunk', 'upstream µs/req', 'req/s', 'wall ms/req', 'added ms (wall/req)', 'added ms (mean)', 'mean ms', 'p50 ms', 'p99 ms', 'foreign cores', 'check'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

export function renderTargets(targets: readonly Target[]): string {
  const digits = (t: Target) => (t.unit === 'ms' ? (t.limit >= 10 ? 0 : 3) : t.unit === 'req/s' ? 0 : 1);
  return renderTable(
    ['target', 'measured', 'limit', 'status', 'calibrated*', 'status*', 'from'],
    targets.map((t) => [
      t.label,
      `${fmt(t.measured, digits(t))} ${t.unit}`,
      `${t.atLeast ? '≥' : '≤'} ${Number.isInteger(t.limit) ? t.limit : fmt(t.limit, digits(t))} ${t.unit}`,
      `${t.met ? 'met' : 'NOT MET'}${t.primary ? '' : ' (comparison)'}`,
      t.calibrated === undefined ? '–' : `${fmt(t.calibrated, digits(t))} ${t.unit}`,
      t.calibratedMet === undefined ? '–' : t.calibratedMet ? 'met' : 'NOT MET',
      t.note ?? '–',
    ]),
    ['l', 'r', 'r', 'l', 'r', 'l', 'l'],
  );
}

/** The systems compared side by side: scenario ids at 1 and at 10 connections. */
const SYSTEMS = [
  { label: 'upstream called directly', c1: 'direct', c10: 'direct-c10', process: 'upstream' },
  { label: 'bare express handler', c1: 'express', c10: 'express-c10', process: 'express' },
  { label: 'TBO, cache miss', c1: 'tbo-miss', c10: 'tbo-miss-c10', process: 'tbo' },
  { label: 'TBO, cache hit', c1: 'tbo-hit', c10: 'tbo-hit-c10', process: 'tbo' },
  { label: 'Portkey (proxy)', c1: 'portkey', c10: 'portkey-c10', process: 'portkey' },
] as const;

type Scenarios = BenchResult['scenarios'];

function baselineName(id: string | undefined): string {
  return id === undefined ? '–' : id.startsWith('direct') ? 'upstream direct' : id.startsWith('express') ? 'bare express' : id;
}

/** Latency side by side: mean and p99 as measured, and added over the baseline, at 1 and 10 connections. */
export function renderSideBySideLatency(scenarios: Scenarios): string {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const rows = SYSTEMS.map((sys) => {
    const a = byId.get(sys.c1);
    const b = byId.get(sys.c10);
    return [
      sys.label,
      fmt(a?.latency.meanMs, 3),
      fmt(a?.latency.p99Ms, 3),
      a?.added ? fmt(a.added.byMeanLatencyMs, 3) : '–',
      a?.added ? fmt(a.added.byP99Ms, 3) : '–',
      fmt(b?.latency.meanMs, 3),
      fmt(b?.latency.p99Ms, 3),
      b?.added ? fmt(b.added.byMeanLatencyMs, 3) : '–',
      b?.added ? fmt(b.added.byP99Ms, 3) : '–',
      baselineName(a?.added?.baseline),
    ];
  });
  return renderTable(
    ['system', '1 conn: mean ms', 'p99 ms', 'added mean', 'added p99', '10 conn: mean ms', 'p99 ms', 'added mean', 'added p99', 'added over'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** Cost side by side: CPU per request of the server process, throughput, the server's RSS. */
export function renderSideBySideCost(scenarios: Scenarios, processes: readonly ProcessMemory[]): string {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const rss = new Map(processes.map((p) => [p.name, p]));
  const rows = SYSTEMS.map((sys) => {
    const a = byId.get(sys.c1);
    const b = byId.get(sys.c10);
    const p = rss.get(sys.process);
    return [
      sys.label,
      sys.process,
      fmt(a?.serverCpuUsPerRequest, 0),
      fmt(b?.serverCpuUsPerRequest, 0),
      a && a.upstreamCallsPerRequest > 0 && !sys.c1.startsWith('direct') ? fmt(a.upstreamCpuUsPerRequest, 0) : '–',
      fmt(a?.rps, 0),
      fmt(b?.rps, 0),
      p ? fmt(p.rssAfterBytes / MiB, 0) : '–',
    ];
  });
  return renderTable(
    ['system', 'process', 'CPU µs/req, 1 conn', 'CPU µs/req, 10 conn', 'upstream CPU µs/req', 'req/s, 1 conn', 'req/s, 10 conn', 'RSS MiB after run'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** Resident memory of every server process: idle after start, after the measured rounds, peak. */
export function renderProcesses(processes: readonly ProcessMemory[]): string {
  return renderTable(
    ['process', 'what', 'VmRSS idle MiB', 'VmRSS after rounds MiB', 'VmHWM MiB'],
    processes.map((p) => [p.name, p.what, fmt(p.rssIdleBytes / MiB, 1), fmt(p.rssAfterBytes / MiB, 1), fmt(p.hwmBytes / MiB, 1)]),
    ['l', 'l', 'r', 'r', 'r'],
  );
}

export function renderMemory(m: MemoryResult, retained?: RetainedMemoryResult): string {
  const rows = [
    ['entries cached (from /ready) / capacity', `${m.entriesCached} / ${m.cacheCapacity}`],
    ['answer size (bytes of JSON) / request size', `${m.answerBytes} / ${m.requestBytes}`],
    ['VmRSS before inserting (after no-store warm-up)', `${fmt(m.rssBaselineBytes / MiB, 1)} MiB`],
    ['VmRSS after inserting', `${fmt(m.rssAfterBytes / MiB, 1)} MiB`],
    ['VmRSS growth / per entry', `${fmt(m.rssDeltaBytes / MiB, 1)} MiB / ${fmt(m.rssDeltaPerEntryBytes, 0)} B`],
    ['VmHWM (peak RSS)', `${fmt(m.vmHwmBytes / MiB, 1)} MiB`],
    ['V8 heap used before / after (from /metrics)', `${fmt(m.heapUsedBaselineBytes / MiB, 1)} / ${fmt(m.heapUsedAfterBytes / MiB, 1)} MiB`],
  ];
  if (retained) {
    rows.push(
      [`after forced full GC, empty cache: V8 heap used / VmRSS`, `${fmt(retained.heapUsedEmptyBytes / MiB, 1)} / ${fmt(retained.rssEmptyBytes / MiB, 1)} MiB`],
      [`after forced full GC, ${retained.entries} cached: V8 heap used / VmRSS`, `${fmt(retained.heapUsedFullBytes / MiB, 1)} / ${fmt(retained.rssFullBytes / MiB, 1)} MiB`],
      ['retained per cached entry (heap, after GC)', `${fmt(retained.retainedPerEntryBytes, 0)} B`],
      [`after ${retained.entries} more (all evicted), forced GC: heap / VmRSS`, `${fmt(retained.heapUsedAfterEvictionBytes / MiB, 1)} / ${fmt(retained.rssAfterEvictionBytes / MiB, 1)} MiB`],
    );
  }
  return renderTable(['memory (fresh TBO, log info)', 'value'], rows, ['l', 'r']);
}

export function renderMachine(m: BenchResult['machine']): string {
  const l = m.loadAvg1mDuringRun;
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores (available ${m.availableParallelism}${m.cgroupCpuMax ? `, cgroup cpu.max ${m.cgroupCpuMax}` : ''}), ${m.memTotalMiB} MiB, node ${m.node}, ${m.platform} ${m.kernel}`,
    `load: avg ${m.loadAvgAtStart.join(' ')} at start, ${m.loadAvgAtEnd.join(' ')} at end; 1-min load average during the run ${fmt(l.min, 1)}–${fmt(l.max, 1)} (mean ${fmt(l.mean, 1)}, ${l.samples} samples) on ${m.cores} cores; all cores ${fmt(m.busyPctDuringRun, 0)}% busy during the run (incl. the bench itself), steal ${fmt(m.stealPctDuringRun, 1)}%`,
  ].join('\n');
}

/** Everything `npm run bench` prints at the end, from the saved result alone. */
export function renderReport(r: BenchResult): string {
  const added = new Map(r.scenarios.flatMap((s) => (s.added ? [[s.id, s.added] as const] : [])));
  const beyond = (id: string) => (added.get(id)?.byRpsMs ?? NaN) - (added.get('passthrough')?.byRpsMs ?? NaN);
  const log = (name: string) => r.logging[name] ?? { bytes: 0, lines: 0 };
  const info = log('tbo');
  return [
    `Side by side, latency (ms; added = this system minus the baseline in the last column, same connection count):`,
    renderSideBySideLatency(r.scenarios),
    '',
    `Side by side, cost (CPU of the server process per request; req/s of one client process; RSS after the measured rounds):`,
    renderSideBySideCost(r.scenarios, r.processes),
    `reference on this machine kind: Portkey ${r.reference.portkeyVersion} ≈ ${r.reference.portkeyCpuUs} µs CPU/req and ${r.reference.portkeyAddedMs} ms added mean latency at 1 connection.`,
    '',
    renderProcesses(r.processes),
    '',
    'All scenarios:',
    renderScenarios(r.scenarios, added),
    'CPU µs/req: the process under test (TBO, Portkey, express, pass-through; upstream for direct); user / sys: split (sys is mostly loopback TCP);',
    'per chunk: lowest–highest over the chunks. wall ms/req: wall time ÷ requests (= 1/rps; at 1 connection the mean time per request).',
    'added: cache misses, Portkey and the pass-through vs the upstream called directly; cache hits vs the bare express handler (same connection count).',
    "foreign cores: mean cores busy with processes other than the bench, the server and the upstream (other people's load).",
    `reference on this machine kind: bare express ≈ ${r.reference.bareExpressCpuUs} µs CPU/req; express+undici pass-through ≈ ${r.reference.passthroughCpuUs} µs and ${r.reference.passthroughAddedMs} ms added.`,
    `TBO log output at info: ${info.lines} lines, ${(info.bytes / Math.max(1, info.lines)).toFixed(0)} bytes/line (warn: ${log('tbo-warn').lines} lines; Portkey stdout: ${log('portkey').lines} lines).`,
    '',
    renderTargets(r.targets.results),
    `* calibrated: CPU × reference ÷ this run's calibration process (misses: pass-through, ${r.reference.passthroughCpuUs} µs; hits: bare express, ${r.reference.bareExpressCpuUs} µs).`,
    '  A first-order correction for a loaded machine, not a measurement. The Portkey targets need none: both sides are measured in the same run.',
    `TBO's added latency beyond the minimal pass-through, same run (wall/req, 1 conn.): miss ${beyond('tbo-miss').toFixed(3)} ms, miss [warn] ${beyond('tbo-miss-warn').toFixed(3)} ms (noisy when foreign load is high).`,
    '',
    renderMemory(r.memory, r.retained),
    '',
    ...(r.comparison ? [`CPU per request against the previous build (bench/compare.ts, ${r.comparison.measuredAt.slice(0, 16).replace('T', ' ')} UTC, same build):`, renderComparison(r.comparison), ''] : []),
    ...(r.cardinality ? [`Bounded state (a fresh TBO; Δ = change from the baseline after the warm-up):`, renderCardinality(r.cardinality), cardinalitySummary(r.cardinality), ''] : []),
    ...(r.coldStart ? [`Cold start (the image's start command, its runtime files only, ${r.coldStart.runs} runs):`, renderColdStart(r.coldStart), coldStartSummary(r.coldStart), ''] : []),
    renderMachine(r.machine),
    ...r.warnings.map((w) => `WARNING: ${w}`),
    ...r.problems.map((p) => `INVALID: ${p}`),
  ].join('\n');
}

/** Bounded state: memory and /metrics before and after N distinct model names, session ids and request ids. */
export function renderCardinality(c: CardinalityResult): string {
  const rows = c.steps.map((s, i) => {
    const a = s.after;
    // After the baseline, each step also shows what it added (Δ over the step before it).
    const prev = s.id === 'start' || s.id === 'baseline' ? undefined : c.steps[i - 1]?.after;
    const grown = (v: number, b: number | undefined, digits: number, scale = 1) => (b === undefined ? fmt(v / scale, digits) : `${fmt(v / scale, digits)} (${v >= b ? '+' : ''}${fmt((v - b) / scale, digits)})`);
    return [
      s.label,
      s.requests ? String(s.requests) : '–',
      s.requests ? fmt((s.requests * 1000) / s.wallMs, 0) : '–',
      s.requests ? `${s.misses} / ${s.hits} / ${s.upstreamCalls}` : '–',
      fmt(a.rssBytes / MiB, 1),
      grown(a.rssAfterGcBytes, prev?.rssAfterGcBytes, 1, MiB),
      grown(a.heapUsedAfterGcBytes, prev?.heapUsedAfterGcBytes, 1, MiB),
      grown(a.series, prev?.series, 0),
      String(a.modelLabels.length),
      `${fmt(a.performanceGlobalBytes / 1024, 1)} / ${fmt(a.performanceTenantBytes / 1024, 1)}`,
      String(a.cacheEntries),
    ];
  });
  return renderTable(
    ['step (one fresh TBO, in order)', 'requests', 'req/s', 'miss / hit / upstream calls', 'VmRSS MiB', 'VmRSS after GC MiB (Δ step)', 'heap after GC MiB (Δ step)', '/metrics series (Δ step)', 'model label values', '/v1/performance KiB global / tenant', 'cache entries'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** One line: growth from the baseline to the end of the bounded-state steps. */
export function cardinalitySummary(c: CardinalityResult): string {
  const base = c.steps.find((s) => s.id === 'baseline')?.after;
  const end = c.steps.at(-1)?.after;
  if (!base || !end) return '';
  const d = (a: number, b: number, scale: number, digits: number) => `${a - b >= 0 ? '+' : ''}${fmt((a - b) / scale, digits)}`;
  const labels = end.modelLabels.length <= 12 ? end.modelLabels.join(', ') : `${end.modelLabels.slice(0, 12).join(', ')}, …`;
  return (
    `From the baseline to the end (${c.distinct} distinct model names, ${c.distinct} session ids, ${c.distinct} request ids): VmRSS after forced GC ${fmt(base.rssAfterGcBytes / MiB, 1)} → ${fmt(end.rssAfterGcBytes / MiB, 1)} MiB (${d(end.rssAfterGcBytes, base.rssAfterGcBytes, MiB, 1)} MiB), ` +
    `V8 heap ${d(end.heapUsedAfterGcBytes, base.heapUsedAfterGcBytes, MiB, 1)} MiB, /metrics ${base.series} → ${end.series} series (${d(end.series, base.series, 1, 0)}), ` +
    `${fmt(base.metricsBytes / 1024, 1)} → ${fmt(end.metricsBytes / 1024, 1)} KiB; model label values: ${labels}.`
  );
}
