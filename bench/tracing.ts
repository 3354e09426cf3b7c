/**
 * What OpenTelemetry tracing costs (issue 15): TBO's CPU per request on the cache-miss and the
 * cache-hit path with tracing off, on with every trace sampled, and on with 1 % sampled, measured
 * in the same interleaved rounds as `npm run bench` (bench/measure.ts). Three TBO processes
 * (`node service/dist/main.js`, the bench's usual environment), the two traced ones exporting to a
 * loopback OTLP/HTTP receiver in its own process (bench/tracing-receiver-server.ts) with the
 * standard settings a deployment uses (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER=
 * parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG). "Off" is the figure to compare with the
 * previous BENCHMARKS.md (its tbo-miss and tbo-hit rows): the hot path with tracing off must cost
 * nothing measurable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenarios, type Scenario, type ScenarioResult } from './measure';
import { cacheCounts } from './metrics';
import { spawnBenchServer, spawnTbo, stopPid, type TboProcess } from './processes';
import { CHAT_PATH, chatBody, smallPrompt, type Tags } from './requests';
import type { BenchResult } from './result';
import { fmt, renderTable } from './table';
import { primeAndCheck, TBO_KEY, tboEnv } from './tbo-env';

/** The configurations measured, in table order ("previous" only when another build is given). */
export const TRACING_MODES = [
  { id: 'previous', label: 'previous build (no tracing code)', ratio: undefined },
  { id: 'off', label: 'off (no OTEL_* set)', ratio: undefined },
  { id: 'on-100', label: 'on, 100 % sampled', ratio: 1 },
  { id: 'on-1', label: 'on, 1 % sampled', ratio: 0.01 },
] as const;
export type TracingMode = (typeof TRACING_MODES)[number]['id'];

/** Spans one request of each path produces when sampled: the SERVER span and the memory-tier lookup, plus the upstream attempt on a miss. */
export const SPANS_PER_REQUEST = { miss: 3, hit: 2 } as const;

/** A figure of the previous full run (BENCHMARKS.md): CPU µs per request and its per-chunk range. */
export interface PreviousFigure {
  readonly cpuUs: number;
  readonly range: readonly [number, number];
}

export interface TracingResults {
  readonly measuredAt: string;
  readonly durationSeconds: number;
  readonly requestsPerScenario: number;
  readonly roundsCompleted: number;
  /** The other build measured in the same rounds (mode "previous"), when one was given. */
  readonly previousBuild?: string;
  /** Scenario ids `tracing-<mode>-<miss|hit>`. */
  readonly scenarios: readonly ScenarioResult[];
  /** Per traced process: requests it answered (all of them, warm-up included), spans expected at its ratio and spans the receiver got. */
  readonly spans: readonly { readonly mode: TracingMode; readonly ratio: number; readonly misses: number; readonly hits: number; readonly expected: number; readonly received: number }[];
  /** The tbo-miss / tbo-hit rows of the full run BENCHMARKS.md showed before this one (bench/results/latest.json). */
  readonly previous: { readonly startedAt: string; readonly miss: PreviousFigure; readonly hit: PreviousFigure } | undefined;
  readonly problems: readonly string[];
  readonly method: string;
}

/** A full bench result that may carry the tracing group. */
export type WithTracing = BenchResult & { readonly tracing?: TracingResults };

/** The tbo-miss and tbo-hit figures of a saved full run, if it has them. */
export function previousFigures(latestPath: string): TracingResults['previous'] {
  if (!existsSync(latestPath)) return undefined;
  const saved = JSON.parse(readFileSync(latestPath, 'utf8')) as BenchResult;
  const figure = (id: string): PreviousFigure | undefined => {
    const s = saved.scenarios.find((x) => x.id === id);
    return s && { cpuUs: s.serverCpuUsPerRequest, range: s.serverCpuUsRange };
  };
  const miss = figure('tbo-miss');
  const hit = figure('tbo-hit');
  return miss && hit ? { startedAt: saved.startedAt, miss, hit } : undefined;
}

const scenarioId = (mode: TracingMode, path: 'miss' | 'hit') => `tracing-${mode}-${path}`;

export interface TracingBenchOptions {
  readonly logDir: string;
  /** An empty TBO_CONFIG_FILE (defaults, whatever /app/config holds). */
  readonly configFile: string;
  readonly tags: Tags;
  readonly log: (line: string) => void;
  readonly previous: TracingResults['previous'];
  /**
   * Another build's `dist/main.js` (e.g. the commit before tracing) to measure with tracing's
   * rows in the same rounds: "off" against it is the paired comparison. @default none
   */
  readonly previousMain?: string;
  /** A name for that build in the report (a commit). */
  readonly previousLabel?: string;
  /** Measured requests per scenario. @default 5000 */
  readonly measure?: number;
  /** @default 1000 */
  readonly warmup?: number;
  /** @default 5 */
  readonly rounds?: number;
}

/** Starts the upstream, the receiver and the three TBOs, measures the six scenarios, stops everything (SIGTERM: the traced TBOs flush their last spans). */
export async function runTracingBench(opts: TracingBenchOptions): Promise<TracingResults> {
  const began = performance.now();
  const measuredAt = new Date().toISOString();
  const measure = opts.measure ?? 5000;
  const warmup = opts.warmup ?? 1000;
  const rounds = opts.rounds ?? 5;
  const [upstream, receiver] = await Promise.all([spawnBenchServer('upstream-tracing', 'upstream-server.ts'), spawnBenchServer('otlp-receiver', 'tracing-receiver-server.ts')]);
  const serviceName = (mode: TracingMode) => `tbo-bench-${mode}`;
  const tbos = new Map<TracingMode, TboProcess>();
  const modes = TRACING_MODES.filter((m) => m.id !== 'previous' || opts.previousMain);
  try {
    for (const mode of modes) {
      const otel: Record<string, string> = mode.ratio === undefined
        ? {}
        : { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: serviceName(mode.id), OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(mode.ratio) };
      const main = mode.id === 'previous' ? { main: opts.previousMain } : {};
      tbos.set(mode.id, await spawnTbo(`tbo-tracing-${mode.id}`, { ...tboEnv(upstream.url, opts.configFile), ...otel }, join(opts.logDir, `tbo-tracing-${mode.id}.log`), main));
    }
    const headers = { authorization: `Bearer ${TBO_KEY}` };
    const hitBody = chatBody(smallPrompt('HIT-TRACING-1'));
    const distinct = () => chatBody(smallPrompt(opts.tags.next()));
    for (const tbo of tbos.values()) await primeAndCheck(tbo, headers, hitBody, opts.tags);
    const scenarios: Scenario[] = modes.flatMap((mode) => {
      const tbo = tbos.get(mode.id) as TboProcess;
      const url = `${tbo.url}${CHAT_PATH}`;
      return [
        { id: scenarioId(mode.id, 'miss'), label: `cache miss, tracing ${mode.label}`, url, headers, body: distinct, server: tbo, upstreamCallsPerRequest: 1 as const, measure },
        { id: scenarioId(mode.id, 'hit'), label: `cache hit, tracing ${mode.label}`, url, headers, body: hitBody, server: tbo, upstreamCallsPerRequest: 0 as const, measure },
      ];
    });
    const { results, roundsCompleted } = await runScenarios(scenarios, upstream, { warmup, measure, rounds, minRounds: rounds, budgetMs: Infinity, startedAt: began, log: opts.log });
    const problems = results.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`));

    const counts = new Map<TracingMode, { misses: number; hits: number }>();
    for (const [mode, tbo] of tbos) {
      const c = await cacheCounts(tbo.adminUrl);
      counts.set(mode, { misses: c.miss, hits: c.hit });
      const scenarioRequests = (path: 'miss' | 'hit') => warmup + (results.find((r) => r.id === scenarioId(mode, path))?.requests ?? 0);
      // primeAndCheck: a miss, a hit, a miss.
      if (c.miss !== scenarioRequests('miss') + 2 || c.hit !== scenarioRequests('hit') + 1) problems.push(`${tbo.name}: /metrics counted ${c.miss} misses and ${c.hit} hits, expected ${scenarioRequests('miss') + 2} and ${scenarioRequests('hit') + 1}`);
    }
    // SIGTERM: graceful shutdown exports the spans still queued.
    await Promise.all([...tbos.values()].map((t) => stopPid(t.pid, 10_000)));
    const received = (await receiver.stats()).counters;
    if ((received.rejected ?? 0) > 0) problems.push(`the OTLP receiver could not decode ${received.rejected} export requests`);
    const spans = modes.flatMap((mode) => {
      if (mode.ratio === undefined) return [];
      const { misses, hits } = counts.get(mode.id) ?? { misses: 0, hits: 0 };
      const expected = mode.ratio * (misses * SPANS_PER_REQUEST.miss + hits * SPANS_PER_REQUEST.hit);
      return [{ mode: mode.id, ratio: mode.ratio, misses, hits, expected, received: received[`spans:${serviceName(mode.id)}`] ?? 0 }];
    });
    const full = spans.find((s) => s.ratio === 1);
    if (full && full.received !== full.expected) problems.push(`100 % sampling: the receiver got ${full.received} spans, expected ${full.expected}`);
    return {
      measuredAt,
      durationSeconds: (performance.now() - began) / 1000,
      requestsPerScenario: results[0]?.requests ?? 0,
      roundsCompleted,
      ...(opts.previousMain ? { previousBuild: opts.previousLabel ?? opts.previousMain } : {}),
      scenarios: results,
      spans,
      previous: opts.previous,
      problems,
      method: [
        `${modes.length} TBO processes (node service/dist/main.js${opts.previousMain ? ', and the previous build\'s' : ''}; log info, client auth on, the bench's usual environment) against one fake upstream, ${warmup} warm-up and ${measure} measured requests per scenario at 1 connection, interleaved in ${rounds} rounds with the other scenarios of this group (bench/measure.ts)`,
        'tracing on: OTEL_EXPORTER_OTLP_ENDPOINT=<a loopback OTLP/HTTP receiver in its own process, which counts and drops the spans>, OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=1 or 0.01; the SDK\'s batch span processor defaults (5 s, batches of 512, queue of 2048); requests carry no traceparent, so the ratio decides',
        `spans per sampled request: ${SPANS_PER_REQUEST.miss} on a miss (request, memory lookup, upstream attempt), ${SPANS_PER_REQUEST.hit} on a hit (request, memory lookup); the receiver's count after the processes stopped (SIGTERM exports what is queued)`,
        'off is compared with the tbo-miss and tbo-hit rows of the previous full run (another run, other load: read the ratio against both per-chunk ranges)',
      ].join('; '),
    };
  } finally {
    await Promise.all([...tbos.values()].map((t) => stopPid(t.pid)));
    await Promise.all([stopPid(upstream.pid), stopPid(receiver.pid)]);
  }
}

function row(r: TracingResults, mode: TracingMode, path: 'miss' | 'hit'): ScenarioResult | undefined {
  return r.scenarios.find((s) => s.id === scenarioId(mode, path));
}

/** The group's table: CPU per request per path and mode, against off in the same run. */
export function tracingTable(r: TracingResults): string {
  const rows = (['miss', 'hit'] as const).flatMap((path) =>
    TRACING_MODES.filter((mode) => row(r, mode.id, path)).map((mode) => {
      const s = row(r, mode.id, path);
      const off = row(r, 'off', path);
      const spans = r.spans.find((x) => x.mode === mode.id);
      return [
        `cache ${path}`,
        mode.label,
        String(s?.requests ?? 0),
        fmt(s?.serverCpuUsPerRequest, 1),
        s ? `${fmt(s.serverCpuUsRange[0], 0)}–${fmt(s.serverCpuUsRange[1], 0)}` : '–',
        mode.id === 'off' ? '1.00' : fmt((s?.serverCpuUsPerRequest ?? NaN) / (off?.serverCpuUsPerRequest ?? NaN), 2),
        fmt((s?.serverCpuUsPerRequest ?? NaN) - (off?.serverCpuUsPerRequest ?? NaN), 1),
        fmt(s?.latency.meanMs, 3),
        fmt(s?.latency.p99Ms, 3),
        spans ? `${spans.received} / ${fmt(spans.expected, 0)}` : '–',
      ];
    }),
  );
  return renderTable(
    ['path (1 connection)', r.previousBuild ? `tracing (previous build: ${r.previousBuild})` : 'tracing', 'requests', 'TBO CPU µs/req', 'per chunk', '× off', 'Δ µs/req', 'mean ms', 'p99 ms', 'spans got / expected (process)'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/**
 * Tracing off against the previous build measured in the same rounds (when it was), and against the
 * previous full run's figure for the same path (another run: only as good as the two runs' loads agree).
 */
export function offVersusPrevious(r: TracingResults): string {
  const ratio = (path: 'miss' | 'hit') => (row(r, 'off', path)?.serverCpuUsPerRequest ?? NaN) / (row(r, 'previous', path)?.serverCpuUsPerRequest ?? NaN);
  const paired = r.previousBuild
    ? `Paired, in the same rounds: tracing off ÷ the previous build (${r.previousBuild}) = ${fmt(ratio('miss'), 2)}× on a cache miss, ${fmt(ratio('hit'), 2)}× on a cache hit. `
    : '';
  if (!r.previous) return `${paired}No previous full run (bench/results/latest.json) to compare tracing off with.`;
  const p = r.previous;
  const part = (path: 'miss' | 'hit', prev: PreviousFigure) => {
    const off = row(r, 'off', path);
    return `cache ${path} ${fmt(off?.serverCpuUsPerRequest, 0)} µs (per chunk ${fmt(off?.serverCpuUsRange[0], 0)}–${fmt(off?.serverCpuUsRange[1], 0)}) vs ${fmt(prev.cpuUs, 0)} µs (${fmt(prev.range[0], 0)}–${fmt(prev.range[1], 0)}), ${fmt((off?.serverCpuUsPerRequest ?? NaN) / prev.cpuUs, 2)}×`;
  };
  return `${paired}Tracing off against the previous BENCHMARKS.md (full run of ${p.startedAt.slice(0, 16).replace('T', ' ')} UTC, other load): ${part('miss', p.miss)}; ${part('hit', p.hit)}.`;
}

/** The BENCHMARKS.md section. */
export function tracingMarkdown(r: TracingResults): string[] {
  return [
    '## Tracing (OpenTelemetry)',
    '',
    `Measured ${r.measuredAt.slice(0, 16).replace('T', ' ')} UTC (${fmt(r.durationSeconds, 0)} s, ${r.requestsPerScenario} measured requests per scenario, ${r.roundsCompleted} rounds): TBO's CPU per request`,
    'with tracing off (no `OTEL_*` variable: the SDK is not even loaded), on with every trace sampled and on with 1 % sampled, exporting',
    'OTLP/HTTP to a loopback receiver. "× off" and "Δ" compare with tracing off in the same rounds. Each row is its own process, and',
    'processes settle a few % apart (bench/compare.ts runs 4 pairs for that reason): read small differences against the per-chunk',
    'ranges. The tracing code\'s own CPU per request, in one process and without HTTP: `npx tsx bench/tracing-micro.ts`.',
    '',
    '```',
    tracingTable(r),
    '```',
    '',
    offVersusPrevious(r),
    '',
    `Method: ${r.method}.`,
    ...(r.problems.length ? ['', `Problems: ${r.problems.join('; ')}.`] : []),
    '',
  ];
}
