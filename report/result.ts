/** Everything one report run produced, as handed from run.ts to the text and the files. */
import type { MachineFacts } from '../bench/cpu';
import type { Check } from './checks';
import type { Outcome } from './render';
import type { TurnRecord } from './replay';
import type { SessionPlan } from './workload';

export interface ReportResult {
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly replaySeconds: number;
  readonly machine: MachineFacts & { readonly loadAvgAtEnd: readonly number[]; readonly busyPctDuringReplay: number; readonly stealPctDuringReplay: number };
  readonly plans: readonly SessionPlan[];
  readonly turns: { readonly tbo: readonly TurnRecord[]; readonly direct: readonly TurnRecord[] };
  readonly outcome: Outcome;
  /** Raw counters of each run's upstream process. */
  readonly upstreamCounters: { readonly tbo: Readonly<Record<string, number>>; readonly direct: Readonly<Record<string, number>> };
  readonly checks: readonly Check[];
  /** Failed "must" checks: the measurement is invalid. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}
