/**
 * Cross-checks between what the clients saw, what TBO counted and what the upstream served, for
 * every TBO run. A failed "must" check makes the report invalid (exit 1); "info" checks are
 * reported either way.
 */
import type { TurnRecord } from './replay';
import type { TboRunOutcome } from './render';
import type { TboRunSpec } from './scenario';
import { sum } from './stats';
import type { RunSummary } from './summarize';
import type { TboCounters } from './tbo-metrics';

export interface Check {
  /** The TBO run checked (its label). */
  readonly run: string;
  readonly name: string;
  readonly level: 'must' | 'info';
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * True when the run's requests can be served from the cache or share a call: every policy but
 * `bypass` does that with sampled requests, and every policy does it with deterministic ones.
 */
export function canShare(spec: TboRunSpec): boolean {
  return spec.policy !== 'bypass' || spec.temperature === 0;
}

/** What a TBO run's clients, TBO itself and its upstream each counted, for {@link accountingChecks}. */
export interface RunAccounts {
  readonly run: string;
  readonly counters: TboCounters;
  readonly summary: RunSummary;
  readonly upstreamCalls: number;
}

/**
 * The three "must" checks that hold for any TBO run, or any stretch of one (counters read before
 * and after it): cache results, upstream calls and cost saved agree between clients, TBO and the upstream.
 */
export function accountingChecks(a: RunAccounts, tboTurns: readonly TurnRecord[]): Check[] {
  const m = a.counters;
  const seen = a.summary.cache;
  const cacheNames = ['hit', 'coalesced', 'miss', 'bypass'];
  const tboCalls = sum(Object.values(m.upstreamCalls));
  const sharedCost = sum(tboTurns.filter((t) => t.ok && (t.cache === 'hit' || t.cache === 'coalesced')).map((t) => t.costUsd ?? 0));
  const run = a.run;
  return [
    {
      run,
      name: 'TBO /metrics cache results = x-tbo-cache headers the clients got',
      level: 'must',
      ok: cacheNames.every((k) => (m.cache[k] ?? 0) === (seen[k] ?? 0)),
      detail: cacheNames.map((k) => `${k} ${m.cache[k] ?? 0} vs ${seen[k] ?? 0}`).join(', '),
    },
    {
      run,
      name: 'upstream calls TBO counted = calls its upstream served',
      level: 'must',
      ok: tboCalls === a.upstreamCalls,
      detail: `${tboCalls} (${Object.entries(m.upstreamCalls).map(([k, v]) => `${k} ${v}`).join(', ')}) vs ${a.upstreamCalls}`,
    },
    {
      run,
      name: 'tbo_cost_saved_usd_total = sum of usage.cost_usd of hit and coalesced answers',
      level: 'must',
      ok: Math.abs(m.costSavedUsd - sharedCost) < 1e-6,
      detail: `$${m.costSavedUsd.toFixed(6)} vs $${sharedCost.toFixed(6)}`,
    },
  ];
}

export function crossCheck(r: TboRunOutcome, direct: RunSummary, tboTurns: readonly TurnRecord[]): Check[] {
  const m = r.counters;
  const seen = r.summary.cache;
  const tokenGap = {
    input: direct.answeredTokens.input - m.tokensInput,
    output: direct.answeredTokens.output - m.tokensOutput,
  };
  const saved = r.summary.tokensFromCacheOrCoalesced;
  const reported = r.summary.sessions.filter((x) => x.tboReported && !x.client.baseline);
  const tauGap = Math.max(0, ...reported.map((x) => Math.abs((x.tboReported?.secondsPerTurn ?? 0) - x.client.secondsPerTurn) / x.client.secondsPerTurn));
  const lossGap = Math.max(0, ...reported.map((x) => Math.abs((x.tboReported?.degradation ?? 0) - x.client.degradation)));
  const shared = (seen.hit ?? 0) + (seen.coalesced ?? 0);
  const run = r.spec.label;
  return [
    ...accountingChecks({ run, counters: m, summary: r.summary, upstreamCalls: r.upstream.calls }, tboTurns),
    canShare(r.spec)
      ? {
        run,
        name: 'the burst was coalesced (one upstream call shared by concurrent duplicates)',
        level: 'must',
        ok: (seen.coalesced ?? 0) > 0,
        detail: `${seen.coalesced ?? 0} coalesced answers`,
      }
      : {
        run,
        name: 'bypass: no sampled request was served from the cache or shared a call',
        level: 'must',
        ok: shared === 0 && (seen.miss ?? 0) === 0 && (m.cache.bypass ?? 0) > 0,
        detail: `${seen.hit ?? 0} hit, ${seen.coalesced ?? 0} coalesced, ${seen.miss ?? 0} miss, ${seen.bypass ?? 0} bypass answers`,
      },
    {
      run,
      name: 'direct tokens − TBO upstream tokens = tokens of answers TBO served without a call',
      level: 'info',
      ok: tokenGap.input === saved.input && tokenGap.output === saved.output,
      detail: `in ${tokenGap.input} vs ${saved.input}, out ${tokenGap.output} vs ${saved.output} (differs when a question went unanswered in one run only)`,
    },
    {
      run,
      name: 'TBO-reported bandwidth_metrics ≈ the same formula over client timestamps',
      level: 'info',
      ok: tauGap < 0.02 && lossGap < 0.01,
      detail: `largest gap over ${reported.length} sessions: τ ${(tauGap * 100).toFixed(2)} %, loss ${(lossGap * 100).toFixed(2)} points (TBO stamps arrival and answer inside the server)`,
    },
  ];
}
