/**
 * Turns a run's turn records into the numbers the report prints: turn latency percentiles,
 * errors, tokens and cost as the client saw them, and per-session collaborative bandwidth computed
 * with TBO's own formula (service/src/optimizer/bandwidth.ts) from the client's timestamps.
 */
import { bandwidth, delayLoss, type BandwidthStats } from '../service/src/optimizer/bandwidth';
import { PriceTable } from '../service/src/optimizer/pricing';
import type { TurnRecord } from './replay';
import { MODEL, PRICES, TIME_SCALE } from './scenario';
import { ascending, mean, median, percentile, sum } from './stats';
import type { RunName, TboBandwidth } from './targets';
import type { SessionKind, SessionPlan } from './workload';

export interface SessionStats {
  readonly session: string;
  readonly kind: SessionKind;
  readonly note?: string;
  readonly turnsAnswered: number;
  readonly turnsUnanswered: number;
  /** Answers by `x-tbo-cache` (TBO run). */
  readonly cache: Readonly<Record<string, number>>;
  /** TBO's formula over the client's turns (successful attempt sent → answer received). */
  readonly client: BandwidthStats;
  /** What TBO itself reported in the last answer's `bandwidth_metrics` (TBO run). */
  readonly tboReported?: TboBandwidth;
  /**
   * The same formula with each turn starting at the person's first attempt: a failed attempt and
   * the pause before retrying count as AI time instead of think time.
   */
  readonly fromFirstAttempt: BandwidthStats;
  /**
   * Δ / (τ_h + Δ) with τ_h the measured human share of a turn divided by TIME_SCALE: the loss had
   * the people thought for unscaled times. A projection from this run's numbers, not a measurement.
   */
  readonly projectedUnscaledLoss: number;
}

export interface LatencySummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export interface RunSummary {
  readonly run: RunName;
  readonly turns: number;
  readonly answered: number;
  readonly unanswered: number;
  /** Failed attempts clients saw (each one an error message on someone's screen). */
  readonly clientErrors: number;
  readonly clientErrorStatuses: Readonly<Record<string, number>>;
  /** Answered turns only: first attempt → answer. */
  readonly latency: LatencySummary;
  /** By `x-tbo-cache` over answered turns (TBO run). */
  readonly cache: Readonly<Record<string, number>>;
  /** Answers on which TBO retried the upstream (`optimization_applied` has "retried"). */
  readonly retriedByTbo: number;
  /** Usage of every answer the clients received. */
  readonly answeredTokens: { readonly input: number; readonly output: number };
  /** Usage of answers served from the cache or a shared call (TBO run). */
  readonly tokensFromCacheOrCoalesced: { readonly input: number; readonly output: number };
  /** Usage of answered turns priced with PRICES (the same PriceTable TBO uses). */
  readonly answeredCostUsd: number;
  readonly sessions: readonly SessionStats[];
  readonly bandwidth: {
    readonly medianSecondsPerTurn: number;
    readonly medianTurnsPerSecond: number;
    readonly medianMeanLatency: number;
    readonly medianLoss: number;
    readonly meanLoss: number;
    readonly meanProjectedUnscaledLoss: number;
    readonly meanLossFromFirstAttempt: number;
  };
}

const prices = new PriceTable(JSON.stringify(PRICES));

function latencySummary(ms: readonly number[]): LatencySummary {
  const sorted = ascending(ms);
  return { n: sorted.length, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95), meanMs: mean(sorted), maxMs: sorted.at(-1) ?? NaN };
}

function countBy<T>(items: readonly T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function sessionStats(plan: SessionPlan, turns: readonly TurnRecord[]): SessionStats {
  const answered = turns.filter((t) => t.ok).sort((a, b) => a.turn - b.turn);
  const client = bandwidth(answered.map((t) => ({ requestAt: t.sentAt, completeAt: t.answeredAt })));
  const humanSeconds = Math.max(0, client.secondsPerTurn - client.meanLatency);
  return {
    session: plan.id,
    kind: plan.kind,
    ...(plan.note ? { note: plan.note } : {}),
    turnsAnswered: answered.length,
    turnsUnanswered: turns.length - answered.length,
    cache: countBy(answered, (t) => t.cache),
    client,
    fromFirstAttempt: bandwidth(answered.map((t) => ({ requestAt: t.askedAt, completeAt: t.answeredAt }))),
    ...(answered.at(-1)?.tboBandwidth ? { tboReported: answered.at(-1)?.tboBandwidth } : {}),
    projectedUnscaledLoss: client.baseline ? NaN : delayLoss(client.meanLatency, humanSeconds / TIME_SCALE),
  };
}

export function summarize(run: RunName, plans: readonly SessionPlan[], records: readonly TurnRecord[]): RunSummary {
  const answered = records.filter((r) => r.ok);
  const shared = answered.filter((r) => r.cache === 'hit' || r.cache === 'coalesced');
  const sessions = plans.map((p) => sessionStats(p, records.filter((r) => r.session === p.id)));
  const measured = sessions.filter((s) => !s.client.baseline);
  const usage = (rs: readonly TurnRecord[]) => ({ input: sum(rs.map((r) => r.usage?.input ?? 0)), output: sum(rs.map((r) => r.usage?.output ?? 0)) });
  const answeredTokens = usage(answered);
  const statuses = records.flatMap((r) => r.errors);
  return {
    run,
    turns: records.length,
    answered: answered.length,
    unanswered: records.length - answered.length,
    clientErrors: statuses.length,
    clientErrorStatuses: countBy(statuses, (s) => String(s)),
    latency: latencySummary(answered.map((r) => r.latencyMs)),
    cache: countBy(answered, (r) => r.cache),
    retriedByTbo: answered.filter((r) => (r.applied ?? []).includes('retried')).length,
    answeredTokens,
    tokensFromCacheOrCoalesced: usage(shared),
    answeredCostUsd: prices.cost(MODEL, answeredTokens) ?? NaN,
    sessions,
    bandwidth: {
      medianSecondsPerTurn: median(measured.map((s) => s.client.secondsPerTurn)),
      medianTurnsPerSecond: median(measured.map((s) => s.client.turnsPerSecond)),
      medianMeanLatency: median(measured.map((s) => s.client.meanLatency)),
      medianLoss: median(measured.map((s) => s.client.degradation)),
      meanLoss: mean(measured.map((s) => s.client.degradation)),
      meanProjectedUnscaledLoss: mean(measured.map((s) => s.projectedUnscaledLoss)),
      meanLossFromFirstAttempt: mean(measured.map((s) => s.fromFirstAttempt.degradation)),
    },
  };
}
