/**
 * Cross-checks between what the clients saw, what TBO counted and what the upstream served. A
 * failed "must" check makes the run invalid (exit 1); "info" checks are reported either way.
 */
import type { TurnRecord } from './replay';
import type { Outcome } from './render';
import { sum } from './stats';

export interface Check {
  readonly name: string;
  readonly level: 'must' | 'info';
  readonly ok: boolean;
  readonly detail: string;
}

export function crossCheck(o: Outcome, tboTurns: readonly TurnRecord[]): Check[] {
  const m = o.tboCounters;
  const seen = o.tbo.cache;
  const cacheNames = ['hit', 'coalesced', 'miss'];
  const tboCalls = sum(Object.values(m.upstreamCalls));
  const sharedCost = sum(tboTurns.filter((t) => t.ok && (t.cache === 'hit' || t.cache === 'coalesced')).map((t) => t.costUsd ?? 0));
  const tokenGap = {
    input: o.direct.answeredTokens.input - m.tokensInput,
    output: o.direct.answeredTokens.output - m.tokensOutput,
  };
  const saved = o.tbo.tokensFromCacheOrCoalesced;
  const reported = o.tbo.sessions.filter((x) => x.tboReported && !x.client.baseline);
  const tauGap = Math.max(0, ...reported.map((x) => Math.abs((x.tboReported?.secondsPerTurn ?? 0) - x.client.secondsPerTurn) / x.client.secondsPerTurn));
  const lossGap = Math.max(0, ...reported.map((x) => Math.abs((x.tboReported?.degradation ?? 0) - x.client.degradation)));
  return [
    {
      name: 'TBO /metrics cache results = x-tbo-cache headers the clients got',
      level: 'must',
      ok: cacheNames.every((k) => (m.cache[k] ?? 0) === (seen[k] ?? 0)),
      detail: cacheNames.map((k) => `${k} ${m.cache[k] ?? 0} vs ${seen[k] ?? 0}`).join(', '),
    },
    {
      name: 'upstream calls TBO counted = calls its upstream served',
      level: 'must',
      ok: tboCalls === o.upstream.tbo.calls,
      detail: `${tboCalls} (${Object.entries(m.upstreamCalls).map(([k, v]) => `${k} ${v}`).join(', ')}) vs ${o.upstream.tbo.calls}`,
    },
    {
      name: 'tbo_cost_saved_usd_total = sum of usage.cost_usd of hit and coalesced answers',
      level: 'must',
      ok: Math.abs(m.costSavedUsd - sharedCost) < 1e-6,
      detail: `$${m.costSavedUsd.toFixed(6)} vs $${sharedCost.toFixed(6)}`,
    },
    {
      name: 'the burst was coalesced (one upstream call shared by concurrent duplicates)',
      level: 'must',
      ok: (seen.coalesced ?? 0) > 0,
      detail: `${seen.coalesced ?? 0} coalesced answers`,
    },
    {
      name: 'direct tokens − TBO upstream tokens = tokens of answers TBO served without a call',
      level: 'info',
      ok: tokenGap.input === saved.input && tokenGap.output === saved.output,
      detail: `in ${tokenGap.input} vs ${saved.input}, out ${tokenGap.output} vs ${saved.output} (differs when a question went unanswered in one run only)`,
    },
    {
      name: 'TBO-reported bandwidth_metrics ≈ the same formula over client timestamps',
      level: 'info',
      ok: tauGap < 0.02 && lossGap < 0.01,
      detail: `largest gap over ${reported.length} sessions: τ ${(tauGap * 100).toFixed(2)} %, loss ${(lossGap * 100).toFixed(2)} points (TBO stamps arrival and answer inside the server)`,
    },
  ];
}
