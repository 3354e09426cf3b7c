/**
 * The printed tables: every TBO run (one per cache policy) and the direct run side by side, per kind
 * of session, per session, and the policy comparison.
 */
import { fmt, renderTable } from '../bench/table';
import type { PairedOverhead } from './paired';
import type { TboRunSpec } from './scenario';
import type { RunSummary, SessionStats } from './summarize';
import type { TboCounters } from './tbo-metrics';
import { KIND_MEANING, type SessionKind } from './workload';

export interface UpstreamCounts {
  readonly calls: number;
  readonly overloaded: number;
  readonly drawnP50Ms: number;
  readonly drawnP95Ms: number;
  readonly maxInFlight: number;
}

/** One replay through TBO: what the clients saw, what TBO counted, what its upstream served. */
export interface TboRunOutcome {
  readonly spec: TboRunSpec;
  readonly summary: RunSummary;
  readonly counters: TboCounters;
  readonly upstream: UpstreamCounts;
  /** TBO's added latency on a miss, paired with the direct run. */
  readonly paired: PairedOverhead;
}

export interface Outcome {
  /** In the order of scenario.ts `TBO_RUNS`. */
  readonly tboRuns: readonly TboRunOutcome[];
  readonly direct: RunSummary;
  readonly directUpstream: UpstreamCounts;
}

/** One row of the policy comparison (the direct run's row has no cache numbers). */
export interface ComparisonRow {
  readonly run: string;
  /** `TBO_CACHE_SAMPLED`; undefined for the direct run. */
  readonly policy?: string;
  /** `temperature` of the requests; undefined when they send none (sampled at the API's default). */
  readonly temperature?: number;
  /** Requests TBO handled (tbo_cache_requests_total over every result), or the direct run's calls. */
  readonly requests: number;
  readonly answered: number;
  readonly turns: number;
  /** tbo_cache_requests_total by result. */
  readonly cache?: { readonly hit: number; readonly coalesced: number; readonly miss: number; readonly bypass: number };
  /** (hit + coalesced) / requests. */
  readonly hitRate?: number;
  readonly upstreamCalls: number;
  readonly upstream529: number;
  readonly costUsd: number;
  readonly costSavedUsd?: number;
  /** costSaved / (cost + costSaved): the share of the bill the cache and coalescing took off. */
  readonly costSavedShare?: number;
  readonly latencyP50Ms: number;
  readonly latencyP95Ms: number;
  readonly latencyMeanMs: number;
  /** TBO's added latency on a miss (paired unique-session turns), median. */
  readonly addedLatencyMedianMs?: number;
}

const s = (ms: number) => fmt(ms / 1000, 3);
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');
const usd = (x: number) => (Number.isFinite(x) ? `$${x.toFixed(5)}` : '–');
const statuses = (r: RunSummary) => Object.entries(r.clientErrorStatuses).map(([k, v]) => `${v}× ${k === '0' ? 'no answer' : k}`).join(', ');
const errors = (r: RunSummary) => `${r.clientErrors}${r.clientErrors ? ` (${statuses(r)})` : ''}`;
const answers = (c: Readonly<Record<string, number>>) => `${c.hit ?? 0} / ${c.coalesced ?? 0} / ${c.miss ?? 0} / ${c.bypass ?? 0}`;

/** A run's name for the tables: the policy, and the temperature when the requests send one. */
export function runTitle(spec: TboRunSpec): string {
  return spec.temperature === undefined ? spec.label : `${spec.policy}, t=${spec.temperature}`;
}

/** The comparison row of one TBO run (or of a stretch of one, given its counters over that stretch). */
export function tboComparisonRow(r: TboRunOutcome): ComparisonRow {
  const c = r.counters.cache;
  const cache = { hit: c.hit ?? 0, coalesced: c.coalesced ?? 0, miss: c.miss ?? 0, bypass: c.bypass ?? 0 };
  const requests = cache.hit + cache.coalesced + cache.miss + cache.bypass;
  const { costUsd, costSavedUsd } = r.counters;
  return {
    run: r.spec.label,
    policy: r.spec.policy,
    ...(r.spec.temperature === undefined ? {} : { temperature: r.spec.temperature }),
    requests,
    answered: r.summary.answered,
    turns: r.summary.turns,
    cache,
    hitRate: requests ? (cache.hit + cache.coalesced) / requests : NaN,
    upstreamCalls: r.upstream.calls,
    upstream529: r.upstream.overloaded,
    costUsd,
    costSavedUsd,
    costSavedShare: costSavedUsd / (costUsd + costSavedUsd),
    latencyP50Ms: r.summary.latency.p50Ms,
    latencyP95Ms: r.summary.latency.p95Ms,
    latencyMeanMs: r.summary.latency.meanMs,
    addedLatencyMedianMs: r.paired.medianMs,
  };
}

export function comparisonRows(o: Outcome): ComparisonRow[] {
  const tbo = o.tboRuns.map(tboComparisonRow);
  const d = o.direct;
  const direct: ComparisonRow = {
    run: d.run,
    requests: o.directUpstream.calls,
    answered: d.answered,
    turns: d.turns,
    upstreamCalls: o.directUpstream.calls,
    upstream529: o.directUpstream.overloaded,
    costUsd: d.answeredCostUsd,
    latencyP50Ms: d.latency.p50Ms,
    latencyP95Ms: d.latency.p95Ms,
    latencyMeanMs: d.latency.meanMs,
  };
  return [...tbo, direct];
}

/** The policy comparison: one row per TBO run, then the direct run for reference. */
export function renderComparison(rows: readonly ComparisonRow[]): string {
  const body = rows.map((r) => [
    r.policy === undefined ? 'direct to upstream' : r.policy,
    r.policy === undefined ? '–' : r.temperature === undefined ? 'none (sampled)' : String(r.temperature),
    `${r.answered} / ${r.turns}`,
    r.cache ? answers(r.cache) : '–',
    r.hitRate === undefined ? '–' : pct(r.hitRate),
    `${r.upstreamCalls} (${r.upstream529})`,
    usd(r.costUsd),
    r.costSavedUsd === undefined ? '–' : `${usd(r.costSavedUsd)} (${pct(r.costSavedShare ?? NaN)})`,
    `${s(r.latencyP50Ms)} / ${s(r.latencyP95Ms)} / ${s(r.latencyMeanMs)}`,
    r.addedLatencyMedianMs === undefined ? '–' : fmt(r.addedLatencyMedianMs, 1),
  ]);
  return renderTable(
    ['TBO_CACHE_SAMPLED', 'temperature', 'answered', 'hit / coal. / miss / bypass', 'hit rate', 'upstream calls (529)', 'upstream cost', 'cost saved', 'turn latency p50 / p95 / mean (s)', 'added on a miss (ms)'],
    body,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

export function renderSummary(o: Outcome): string {
  const runs = o.tboRuns;
  const d = o.direct;
  const row = (label: string, tbo: (r: TboRunOutcome) => string, direct: string) => [label, ...runs.map(tbo), direct];
  const rows: string[][] = [
    row('turns answered / asked', (r) => `${r.summary.answered} / ${r.summary.turns}`, `${d.answered} / ${d.turns}`),
    row('turn latency p50 (s)', (r) => s(r.summary.latency.p50Ms), s(d.latency.p50Ms)),
    row('turn latency p95 (s)', (r) => s(r.summary.latency.p95Ms), s(d.latency.p95Ms)),
    row('turn latency mean (s)', (r) => s(r.summary.latency.meanMs), s(d.latency.meanMs)),
    row('upstream calls (of them 529)', (r) => `${r.upstream.calls} (${r.upstream.overloaded})`, `${o.directUpstream.calls} (${o.directUpstream.overloaded})`),
    row("TBO's added latency on a miss, median / mean (ms)", (r) => `${fmt(r.paired.medianMs, 1)} / ${fmt(r.paired.meanMs, 1)}`, '–'),
    row('  paired turns', (r) => String(r.paired.pairs), '–'),
    row('upstream calls in flight, max', (r) => String(r.upstream.maxInFlight), String(o.directUpstream.maxInFlight)),
    row('answers: hit / coalesced / miss / bypass', (r) => answers(r.summary.cache), `– / – / ${d.answered} / –`),
    row('answers TBO got by retrying a 529', (r) => String(r.summary.retriedByTbo), '–'),
    row('errors seen by clients', (r) => errors(r.summary), errors(d)),
    row('upstream tokens in / out', (r) => `${r.counters.tokensInput} / ${r.counters.tokensOutput}`, `${d.answeredTokens.input} / ${d.answeredTokens.output}`),
    row('tokens saved in / out', (r) => `${r.summary.tokensFromCacheOrCoalesced.input} / ${r.summary.tokensFromCacheOrCoalesced.output}`, '–'),
    row('upstream cost (USD)', (r) => usd(r.counters.costUsd), usd(d.answeredCostUsd)),
    row('cost saved (USD)', (r) => `${usd(r.counters.costSavedUsd)} (${pct(r.counters.costSavedUsd / (r.counters.costUsd + r.counters.costSavedUsd))})`, '–'),
    row('bandwidth E, median (turns/s)', (r) => fmt(r.summary.bandwidth.medianTurnsPerSecond, 3), fmt(d.bandwidth.medianTurnsPerSecond, 3)),
    row('τ = 1/E, median (s/turn)', (r) => fmt(r.summary.bandwidth.medianSecondsPerTurn, 2), fmt(d.bandwidth.medianSecondsPerTurn, 2)),
    row('Δ = mean AI latency per session, median (s)', (r) => fmt(r.summary.bandwidth.medianMeanLatency, 3), fmt(d.bandwidth.medianMeanLatency, 3)),
    row('loss Δ/(τ_h+Δ), median / mean', (r) => `${pct(r.summary.bandwidth.medianLoss)} / ${pct(r.summary.bandwidth.meanLoss)}`, `${pct(d.bandwidth.medianLoss)} / ${pct(d.bandwidth.meanLoss)}`),
    row('loss, turns timed from the first attempt, mean', (r) => pct(r.summary.bandwidth.meanLossFromFirstAttempt), pct(d.bandwidth.meanLossFromFirstAttempt)),
    row('loss at unscaled think time, mean (projection)', (r) => pct(r.summary.bandwidth.meanProjectedUnscaledLoss), pct(d.bandwidth.meanProjectedUnscaledLoss)),
  ];
  return renderTable(['', ...runs.map((r) => `TBO ${runTitle(r.spec)}`), 'direct to upstream'], rows, ['l', ...runs.map(() => 'r' as const), 'r']);
}

export function renderKinds(o: Outcome): string {
  const kinds = Object.keys(KIND_MEANING) as SessionKind[];
  const of = (list: readonly SessionStats[], k: SessionKind) => list.filter((x) => x.kind === k && !x.client.baseline);
  const avg = (list: readonly SessionStats[], f: (x: SessionStats) => number) => (list.length ? list.reduce((a, x) => a + f(x), 0) / list.length : NaN);
  const runs = [...o.tboRuns.map((r) => ({ title: `TBO ${runTitle(r.spec)}`, sessions: r.summary.sessions, tbo: true })), { title: 'direct', sessions: o.direct.sessions, tbo: false }];
  const rows = kinds.flatMap((k) =>
    runs.map((run, i) => {
      const list = of(run.sessions, k);
      const cache = (name: string) => list.reduce((a, x) => a + (x.cache[name] ?? 0), 0);
      return [
        i === 0 ? k : '',
        run.title,
        String(list.length),
        run.tbo ? `${cache('hit')} / ${cache('coalesced')} / ${cache('miss')} / ${cache('bypass')}` : '–',
        fmt(avg(list, (x) => x.client.meanLatency), 3),
        fmt(avg(list, (x) => x.client.secondsPerTurn), 2),
        pct(avg(list, (x) => x.client.degradation)),
      ];
    }),
  );
  return renderTable(['sessions', 'run', 'n', 'hit / coal. / miss / bypass', 'Δ (s)', 'τ (s)', 'loss'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']);
}

/** Per session: how each TBO run answered it, then `main` (one TBO run) and the direct run in detail. */
export function renderSessions(o: Outcome, main: TboRunOutcome): string {
  const direct = new Map(o.direct.sessions.map((x) => [x.session, x]));
  const byRun = o.tboRuns.map((r) => new Map(r.summary.sessions.map((x) => [x.session, x])));
  const shared = (x: SessionStats | undefined) => (x ? `${(x.cache.hit ?? 0) + (x.cache.coalesced ?? 0)}/${x.turnsAnswered}` : '–');
  const rows = main.summary.sessions.map((t) => {
    const d = direct.get(t.session);
    const rep = t.tboReported;
    return [
      t.session,
      t.note ?? '',
      ...byRun.map((m) => shared(m.get(t.session))),
      `${t.turnsAnswered}`,
      fmt(t.client.meanLatency, 3),
      fmt(t.client.secondsPerTurn, 2),
      pct(t.client.degradation),
      rep ? `${fmt(rep.secondsPerTurn, 2)} / ${pct(rep.degradation)}` : '–',
      d ? `${d.turnsAnswered}` : '–',
      d ? fmt(d.client.meanLatency, 3) : '–',
      d ? fmt(d.client.secondsPerTurn, 2) : '–',
      d ? pct(d.client.degradation) : '–',
    ];
  });
  const title = runTitle(main.spec);
  return renderTable(
    ['session', 'reworded', ...o.tboRuns.map((r) => runTitle(r.spec)), `${title}: turns`, 'Δ (s)', 'τ (s)', 'loss', 'TBO says τ / loss', 'direct turns', 'Δ (s)', 'τ (s)', 'loss'],
    rows,
    ['l', 'l', ...o.tboRuns.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}
