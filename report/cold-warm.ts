/**
 * What losing the cache costs: upstream calls and cost over one window of the workload through a
 * TBO that has just started (empty cache) against the same window, at the same moment, through a
 * TBO whose cache the previous window of the same workload filled (scenario.ts `COLD_WARM`).
 */
import { fmt, renderTable } from '../bench/table';
import type { ComparisonRow } from './render';
import type { TboCounters } from './tbo-metrics';
import type { SessionPlan } from './workload';

/** The window that filled the warm TBO's cache. */
export interface PreviousWindow {
  readonly seed: number;
  readonly sessions: number;
  readonly turns: number;
  readonly answered: number;
  /** Wall time of playing it back to back, seconds. */
  readonly seconds: number;
  /** Calls the warm TBO's upstream served during it. */
  readonly upstreamCalls: number;
}

export interface ColdWarmOutcome {
  /** The measured window: the report's workload. */
  readonly window: { readonly sessions: number; readonly turns: number; readonly seconds: number };
  readonly previous: PreviousWindow;
  /** The window through a TBO with an empty cache (a run of the policy comparison). */
  readonly cold: ComparisonRow;
  /** The same window through a TBO warmed by the previous window; counters over this window only. */
  readonly warm: ComparisonRow;
  /** cold − warm. */
  readonly extraCalls: number;
  readonly extraCostUsd: number;
  /** cold / warm − 1. */
  readonly extraCallsRatio: number;
  readonly extraCostRatio: number;
}

/**
 * The plans played back to back: every session starts at once and asks its next question as soon
 * as it has the answer. The requests, and so what they leave in the cache, are the plans' own.
 */
export function backToBack(plans: readonly SessionPlan[]): SessionPlan[] {
  return plans.map((p) => ({ ...p, startMs: 0, thinkMs: p.thinkMs.map(() => 0) }));
}

function minus(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

/** TBO's counters over a stretch of its run: read after it minus read before it. */
export function counterDelta(after: TboCounters, before: TboCounters): TboCounters {
  return {
    tokensInput: after.tokensInput - before.tokensInput,
    tokensOutput: after.tokensOutput - before.tokensOutput,
    costUsd: after.costUsd - before.costUsd,
    costSavedUsd: after.costSavedUsd - before.costSavedUsd,
    cache: minus(after.cache, before.cache),
    upstreamCalls: minus(after.upstreamCalls, before.upstreamCalls),
    collaborateResponses: minus(after.collaborateResponses, before.collaborateResponses),
  };
}

/** The two rows of the window and what the empty cache cost over the warm one. */
export function coldWarmOutcome(window: ColdWarmOutcome['window'], previous: PreviousWindow, cold: ComparisonRow, warm: ComparisonRow): ColdWarmOutcome {
  return {
    window,
    previous,
    cold,
    warm,
    extraCalls: cold.upstreamCalls - warm.upstreamCalls,
    extraCostUsd: cold.costUsd - warm.costUsd,
    extraCallsRatio: cold.upstreamCalls / warm.upstreamCalls - 1,
    extraCostRatio: cold.costUsd / warm.costUsd - 1,
  };
}

const s = (ms: number) => fmt(ms / 1000, 3);
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');
const usd = (x: number) => (Number.isFinite(x) ? `$${x.toFixed(5)}` : '–');

/** The table and the line under it. */
export function renderColdWarm(o: ColdWarmOutcome): string {
  const row = (start: string, r: ComparisonRow) => [
    start,
    `${r.answered} / ${r.turns}`,
    r.cache ? `${r.cache.hit} / ${r.cache.coalesced} / ${r.cache.miss}` : '–',
    pct(r.hitRate ?? NaN),
    `${r.upstreamCalls} (${r.upstream529})`,
    usd(r.costUsd),
    `${s(r.latencyP50Ms)} / ${s(r.latencyP95Ms)} / ${s(r.latencyMeanMs)}`,
  ];
  const table = renderTable(
    ['cache at the start of the window', 'answered', 'hit / coal. / miss', 'hit rate', 'upstream calls (529)', 'upstream cost', 'turn latency p50 / p95 / mean (s)'],
    [row('cold: empty (TBO just started)', o.cold), row('warm: filled by the previous window', o.warm)],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const sign = (x: number) => (x >= 0 ? '+' : '');
  return [
    table,
    `losing the cache: ${sign(o.extraCalls)}${o.extraCalls} upstream calls (${sign(o.extraCallsRatio)}${pct(o.extraCallsRatio)}) and ${sign(o.extraCostUsd)}${usd(o.extraCostUsd)} (${sign(o.extraCostRatio)}${pct(o.extraCostRatio)}) ` +
      `over the window (${o.window.sessions} sessions × ${o.window.turns / o.window.sessions} turns, ${o.window.seconds.toFixed(1)} s).`,
    `previous window: ${o.previous.sessions} other sessions (seed ${o.previous.seed}: the same shared scripts and bursts, other timing and rewordings, unique questions of its own), ` +
      `played back to back just before: ${o.previous.answered} / ${o.previous.turns} answered, ${o.previous.upstreamCalls} upstream calls, ${o.previous.seconds.toFixed(1)} s.`,
  ].join('\n');
}
