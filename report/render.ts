/** The printed tables: the two runs side by side, per kind of session, and per session. */
import { fmt, renderTable } from '../bench/table';
import type { PairedOverhead } from './paired';
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

export interface Outcome {
  readonly tbo: RunSummary;
  readonly direct: RunSummary;
  readonly tboCounters: TboCounters;
  readonly upstream: { readonly tbo: UpstreamCounts; readonly direct: UpstreamCounts };
  readonly paired: PairedOverhead;
}

const s = (ms: number) => fmt(ms / 1000, 3);
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');
const usd = (x: number) => (Number.isFinite(x) ? `$${x.toFixed(5)}` : '–');
const statuses = (r: RunSummary) => Object.entries(r.clientErrorStatuses).map(([k, v]) => `${v}× ${k === '0' ? 'no answer' : k}`).join(', ');

export function renderSummary(o: Outcome): string {
  const { tbo, direct, tboCounters: m } = o;
  const saved = tbo.tokensFromCacheOrCoalesced;
  const rows: string[][] = [
    ['turns answered / asked', `${tbo.answered} / ${tbo.turns}`, `${direct.answered} / ${direct.turns}`],
    ['turn latency p50 (s)', s(tbo.latency.p50Ms), s(direct.latency.p50Ms)],
    ['turn latency p95 (s)', s(tbo.latency.p95Ms), s(direct.latency.p95Ms)],
    ['turn latency mean (s)', s(tbo.latency.meanMs), s(direct.latency.meanMs)],
    ['upstream calls (of them 529)', `${o.upstream.tbo.calls} (${o.upstream.tbo.overloaded})`, `${o.upstream.direct.calls} (${o.upstream.direct.overloaded})`],
    [`TBO's added latency on a miss, median / mean (ms, ${o.paired.pairs} pairs)`, `${fmt(o.paired.medianMs, 1)} / ${fmt(o.paired.meanMs, 1)}`, '–'],
    ['upstream calls in flight, max', String(o.upstream.tbo.maxInFlight), String(o.upstream.direct.maxInFlight)],
    ['answers: cache hit / coalesced / miss', `${tbo.cache.hit ?? 0} / ${tbo.cache.coalesced ?? 0} / ${tbo.cache.miss ?? 0}`, `– / – / ${direct.answered}`],
    ['answers TBO got by retrying a 529', String(tbo.retriedByTbo), '–'],
    ['errors seen by clients', `${tbo.clientErrors}${tbo.clientErrors ? ` (${statuses(tbo)})` : ''}`, `${direct.clientErrors}${direct.clientErrors ? ` (${statuses(direct)})` : ''}`],
    ['upstream tokens in / out', `${m.tokensInput} / ${m.tokensOutput}`, `${direct.answeredTokens.input} / ${direct.answeredTokens.output}`],
    ['tokens saved in / out', `${saved.input} / ${saved.output}`, '–'],
    ['upstream cost (USD)', usd(m.costUsd), usd(direct.answeredCostUsd)],
    ['cost saved (USD)', `${usd(m.costSavedUsd)} (${pct(m.costSavedUsd / (m.costUsd + m.costSavedUsd))})`, '–'],
    ['bandwidth E, median (turns/s)', fmt(tbo.bandwidth.medianTurnsPerSecond, 3), fmt(direct.bandwidth.medianTurnsPerSecond, 3)],
    ['τ = 1/E, median (s/turn)', fmt(tbo.bandwidth.medianSecondsPerTurn, 2), fmt(direct.bandwidth.medianSecondsPerTurn, 2)],
    ['Δ = mean AI latency per session, median (s)', fmt(tbo.bandwidth.medianMeanLatency, 3), fmt(direct.bandwidth.medianMeanLatency, 3)],
    ['loss Δ/(τ_h+Δ), median / mean', `${pct(tbo.bandwidth.medianLoss)} / ${pct(tbo.bandwidth.meanLoss)}`, `${pct(direct.bandwidth.medianLoss)} / ${pct(direct.bandwidth.meanLoss)}`],
    ['loss, turns timed from the first attempt, mean', pct(tbo.bandwidth.meanLossFromFirstAttempt), pct(direct.bandwidth.meanLossFromFirstAttempt)],
    ['loss at unscaled think time, mean (projection)', pct(tbo.bandwidth.meanProjectedUnscaledLoss), pct(direct.bandwidth.meanProjectedUnscaledLoss)],
  ];
  return renderTable(['', 'through TBO', 'direct to upstream'], rows, ['l', 'r', 'r']);
}

export function renderKinds(o: Outcome): string {
  const kinds = Object.keys(KIND_MEANING) as SessionKind[];
  const of = (list: readonly SessionStats[], k: SessionKind) => list.filter((x) => x.kind === k && !x.client.baseline);
  const avg = (list: readonly SessionStats[], f: (x: SessionStats) => number) => (list.length ? list.reduce((a, x) => a + f(x), 0) / list.length : NaN);
  const rows = kinds.map((k) => {
    const t = of(o.tbo.sessions, k);
    const d = of(o.direct.sessions, k);
    const cache = (name: string) => t.reduce((a, x) => a + (x.cache[name] ?? 0), 0);
    return [
      k,
      String(t.length),
      `${cache('hit')} / ${cache('coalesced')} / ${cache('miss')}`,
      fmt(avg(t, (x) => x.client.meanLatency), 3),
      fmt(avg(d, (x) => x.client.meanLatency), 3),
      fmt(avg(t, (x) => x.client.secondsPerTurn), 2),
      fmt(avg(d, (x) => x.client.secondsPerTurn), 2),
      pct(avg(t, (x) => x.client.degradation)),
      pct(avg(d, (x) => x.client.degradation)),
    ];
  });
  return renderTable(['sessions', 'n', 'TBO hit / coal. / miss', 'Δ TBO (s)', 'Δ direct (s)', 'τ TBO (s)', 'τ direct (s)', 'loss TBO', 'loss direct'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

export function renderSessions(o: Outcome): string {
  const direct = new Map(o.direct.sessions.map((x) => [x.session, x]));
  const rows = o.tbo.sessions.map((t) => {
    const d = direct.get(t.session);
    const rep = t.tboReported;
    return [
      t.session,
      t.note ?? '',
      `${t.cache.hit ?? 0}/${t.cache.coalesced ?? 0}/${t.cache.miss ?? 0}`,
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
  return renderTable(
    ['session', 'reworded', 'h/c/m', 'TBO turns', 'Δ (s)', 'τ (s)', 'loss', 'TBO says τ / loss', 'direct turns', 'Δ (s)', 'τ (s)', 'loss'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}
