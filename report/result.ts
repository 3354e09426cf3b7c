/** Everything one report run produced, as handed from run.ts to the text and the files. */
import type { MachineFacts } from '../bench/cpu';
import type { Check } from './checks';
import type { ColdWarmOutcome } from './cold-warm';
import type { ComparisonRow, Outcome } from './render';
import type { TurnRecord } from './replay';
import type { SessionPlan } from './workload';

export interface ReportResult {
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly replaySeconds: number;
  readonly machine: MachineFacts & { readonly loadAvgAtEnd: readonly number[]; readonly busyPctDuringReplay: number; readonly stealPctDuringReplay: number };
  readonly plans: readonly SessionPlan[];
  /** By run: each TBO run's label (the warm run's measured window included), and `direct`. */
  readonly turns: Readonly<Record<string, readonly TurnRecord[]>>;
  readonly outcome: Outcome;
  /** The policy comparison, one row per TBO run and one for the direct run. */
  readonly comparison: readonly ComparisonRow[];
  /** Upstream calls and cost over the window with an empty cache vs one the previous window filled. */
  readonly coldWarm: ColdWarmOutcome;
  /** Raw counters of each run's upstream process, by run. */
  readonly upstreamCounters: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly checks: readonly Check[];
  /** Failed "must" checks: the measurement is invalid. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}
