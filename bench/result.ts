/** The shape of bench/results/latest.json: what `npm run bench` measured, and how. BENCHMARKS.md is made from it. */
import type { CardinalityResult } from './cardinality';
import type { ColdStartResult } from './cold-start';
import type { ComparisonResult } from './comparison';
import type { MachineFacts } from './cpu';
import type { MemoryResult, RetainedMemoryResult } from './memory';
import type { ScenarioResult } from './measure';
import type { JoinStreamResults } from './join-stream';
import type { BigBodiesResult } from './big-bodies';
import type { OptimizerResults } from './optimizer';
import type { Added, REFERENCE, TARGETS, Target } from './report';

/** Resident memory of one server process, from /proc/<pid>/status. */
export interface ProcessMemory {
  readonly name: string;
  readonly what: string;
  readonly pid: number;
  /** VmRSS after start-up, before any measured traffic. */
  readonly rssIdleBytes: number;
  /** VmRSS right after the measured rounds. */
  readonly rssAfterBytes: number;
  /** VmHWM (peak RSS) right after the measured rounds. */
  readonly hwmBytes: number;
}

export interface LoadAverageSummary {
  readonly min: number;
  readonly mean: number;
  readonly max: number;
  readonly samples: number;
}

export interface BenchMethod {
  readonly network: string;
  readonly endpoint: string;
  readonly requestBody: { readonly example: string; readonly bytes: number };
  readonly responseBytes: number;
  readonly warmupPerScenario: number;
  readonly measuredPerScenario: Readonly<Record<string, number>>;
  readonly rounds: number;
  readonly roundsCompleted: number;
  readonly interleaving: string;
  readonly connections: string;
  readonly cacheMiss: string;
  readonly cacheHit: string;
  readonly cpu: string;
  readonly latency: string;
  readonly added: string;
  readonly throughput: string;
  readonly rss: string;
  readonly tbo: string;
  readonly portkey: string;
  readonly upstream: string;
  readonly ceiling: string;
  readonly calibration: string;
  readonly memory: string;
  readonly retained: string;
  /** How the bounded-state steps were run (absent in runs made before they existed). */
  readonly cardinality?: string;
  /** How the streamed-messages rows (Anthropic API and Bedrock) were run (absent in runs made before they existed). */
  readonly messagesStreamed?: string;
}

export interface BenchResult {
  readonly benchmark: 'tbo-gateway-overhead';
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly valid: boolean;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly machine: MachineFacts & {
    readonly loadAvgAtEnd: readonly number[];
    readonly loadAvg1mDuringRun: LoadAverageSummary;
    readonly busyPctDuringRun: number;
    readonly stealPctDuringRun: number;
  };
  readonly method: BenchMethod;
  readonly peer: { readonly name: string; readonly version: string };
  readonly targets: { readonly limits: typeof TARGETS; readonly results: readonly Target[] };
  readonly reference: typeof REFERENCE;
  readonly scenarios: readonly (ScenarioResult & { readonly added?: Added })[];
  readonly processes: readonly ProcessMemory[];
  readonly cacheCheck: readonly { readonly process: string; readonly misses: number; readonly hits: number; readonly expectedMisses: number; readonly expectedHits: number }[];
  readonly logging: Readonly<Record<string, { readonly bytes: number; readonly lines: number }>>;
  readonly memory: MemoryResult;
  readonly retained: RetainedMemoryResult;
  /** Memory and /metrics before and after N distinct model names, session ids and request ids (absent in runs made before they existed). */
  readonly cardinality?: CardinalityResult;
  /** CPU per request against the previous build (bench/compare.ts, a separate run on the same build; absent when none matched). */
  readonly comparison?: ComparisonResult;
  /** The optimizer's own scenarios (absent in runs made before they existed). */
  readonly optimizer?: OptimizerResults;
  /** Start of the image's command to a 200 on /ready (absent in runs made before it existed). */
  readonly coldStart?: ColdStartResult;
  /** First byte of a stream arriving while a non-streamed call for the same request runs (absent in runs made before it existed). */
  readonly joinStream?: JoinStreamResults;
  /** RSS with 100 concurrent 8 MB bodies (absent in runs made before it existed). */
  readonly bigBodies?: BigBodiesResult;
}
