/**
 * What the fault suite's load generator (`load.ts`, its own process) takes and reports. Types only:
 * shared by the generator and by the test side that drives it (`load-client.ts`).
 */

/** One kind of request: endpoint × streaming. */
export type LoadKind = 'messages' | 'messages-stream' | 'chat' | 'chat-stream' | 'collaborate' | 'collaborate-stream';

export const STREAM_KINDS: readonly LoadKind[] = ['messages-stream', 'chat-stream', 'collaborate-stream'];

export interface LoadConfig {
  /** Service base URLs (http://127.0.0.1:port), used round-robin. */
  readonly targets: readonly string[];
  /** Concurrent requests (each worker keeps one request in flight over keep-alive). */
  readonly connections: number;
  /** Hard limit on the run; the generator stops issuing requests after it. */
  readonly durationMs: number;
  /** Stop after this many requests were issued. @default no limit */
  readonly maxRequests?: number;
  /** Cap on requests started per second, over all workers. @default no cap (closed loop) */
  readonly rps?: number;
  /** Kinds in round-robin order; repeat a kind to weight it. */
  readonly mix: readonly LoadKind[];
  /** Share of requests that reuse a prompt from a small pool (cache hits, coalescing). */
  readonly repeatShare: number;
  /** Size of the pool of repeated prompts. */
  readonly repeatPool: number;
  /** Prefix of every prompt: keeps runs (and rounds) apart in the cache. */
  readonly tag: string;
  /** Characters of filler appended to each prompt (longer answers, longer streams). @default 0 */
  readonly padding?: number;
  /** Session ids to rotate through (`x-tbo-session-id`, `context.session_id`). @default 1 */
  readonly sessions?: number;
  /** Model for `/v1/messages`. @default 'claude-load' */
  readonly anthropicModel?: string;
  /** Model for `/v1/chat/completions`. @default 'gpt-load' */
  readonly openaiModel?: string;
  /** `context.complexity` for `/v1/collaborate`. @default 1 */
  readonly complexity?: number;
  /** Per-request deadline. @default 15000 ms */
  readonly timeoutMs?: number;
  /** Keep one timing record per request (for the SIGTERM scenario). @default false */
  readonly record?: boolean;
}

/** A request's life, in epoch ms (the test process shares the clock). */
export interface RequestRecord {
  readonly kind: LoadKind;
  /** Sent (the request was handed to the socket). */
  readonly t0: number;
  /** Response headers received, if they were. */
  readonly th: number | undefined;
  /** Finished (complete, failed or timed out). */
  readonly te: number;
  readonly ok: boolean;
  readonly reason: string | undefined;
}

export interface FailureSample {
  readonly kind: LoadKind;
  readonly target: string;
  readonly reason: string;
  readonly at: number;
}

export interface LoadCounters {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly inFlight: Readonly<Partial<Record<LoadKind, number>>>;
  /** HTTP status → count (0: no response). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Failure reason → count. */
  readonly reasons: Readonly<Record<string, number>>;
  /** `x-tbo-cache` value → count, over successful answers. */
  readonly cache: Readonly<Record<string, number>>;
  /** `optimization_applied` entries (`/v1/collaborate`) → count. */
  readonly applied: Readonly<Record<string, number>>;
  /** Model that answered → count. */
  readonly models: Readonly<Record<string, number>>;
}

export interface LoadReport extends LoadCounters {
  readonly elapsedMs: number;
  /** Successful answers per second over the run. */
  readonly rps: number;
  /** Latency of successful requests, ms. */
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The first failures, for the report. */
  readonly failures: readonly FailureSample[];
  readonly records: readonly RequestRecord[];
}

/** Commands on the generator's stdin, one JSON object a line. */
export type LoadCommand =
  | { readonly cmd: 'snapshot'; readonly id: number }
  | { readonly cmd: 'set'; readonly id: number; readonly mix?: readonly LoadKind[]; readonly rps?: number }
  | { readonly cmd: 'stop' };

/** Lines on the generator's stdout. */
export type LoadMessage =
  | { readonly type: 'ready' }
  | ({ readonly type: 'snapshot'; readonly id: number } & LoadCounters)
  | ({ readonly type: 'result' } & LoadReport);
