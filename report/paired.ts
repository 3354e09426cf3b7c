/**
 * What TBO's extra hop costs on a miss, measured by pairing turns: in unique sessions every
 * question is asked once, so each upstream call draws the same latency in both runs, and the
 * difference between the two turn latencies is TBO (and one more loopback hop), nothing else. A
 * turn `bypass` sends to the upstream counts as a miss here.
 */
import type { TurnRecord } from './replay';
import { ascending, mean, percentile } from './stats';

export interface PairedOverhead {
  readonly pairs: number;
  readonly medianMs: number;
  readonly meanMs: number;
  readonly p95Ms: number;
}

export function pairedMissOverhead(tbo: readonly TurnRecord[], direct: readonly TurnRecord[]): PairedOverhead {
  const clean = (t: TurnRecord) => t.kind === 'unique' && t.ok && t.attempts === 1;
  const byTurn = new Map(direct.filter(clean).map((t) => [`${t.session}#${t.turn}`, t]));
  const diffs = tbo
    .filter((t) => clean(t) && (t.cache === 'miss' || t.cache === 'bypass') && !(t.applied ?? []).includes('retried'))
    .flatMap((t) => {
      const d = byTurn.get(`${t.session}#${t.turn}`);
      return d ? [t.latencyMs - d.latencyMs] : [];
    });
  const sorted = ascending(diffs);
  return { pairs: sorted.length, medianMs: percentile(sorted, 0.5), meanMs: mean(sorted), p95Ms: percentile(sorted, 0.95) };
}
