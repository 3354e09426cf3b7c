import type { Backend } from '../config/backends';
import type { Protocol, Provider, TokenUsage } from '../protocols/types';
import type { BandwidthStats } from './bandwidth';
import type { Flight } from './flight';
import type { CacheStatus, ResponseSink } from './ports';
import type { RouteDecision } from './routing';

/** How one request was answered: what the responders write and the native API reports. */
export interface Answer {
  /** The answer as stored in the cache (format chosen by the endpoint's responder). */
  readonly value: string;
  readonly cache: CacheStatus;
  /** What really happened: "cache_hit", "coalesced", "routed", "fallback", "retried", "queued". */
  readonly applied: readonly string[];
  readonly route: RouteDecision;
  /** Predicted latency of the chosen upstream, seconds (computed on demand). */
  predictedLatency(): number;
  readonly bandwidth: BandwidthStats | undefined;
  /** Seconds from request to answer. */
  readonly responseTime: number;
  /** Provider, model and tokens of the answer, when known. */
  readonly facts: AnswerFacts | undefined;
  readonly cost: number | undefined;
  /** x-tbo-* and Server-Timing headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a stored answer was: for cost accounting of hits. */
export interface AnswerFacts {
  readonly provider: Provider;
  /** The model as the answer names it. */
  readonly model: string;
  /** The backend that answered. @default the provider's public API */
  readonly backend?: Backend;
  /** The backend's model id it was called with (what prices may be keyed by). */
  readonly backendModel?: string;
  readonly usage: TokenUsage | undefined;
  /** The upstream's id of the request that produced the answer (replayed with cache hits). */
  readonly requestId?: string;
}

/** How one API surface stores, writes and streams answers. */
export interface Responder {
  /** True when responses carry the session's bandwidth (the turn is then awaited before writing). */
  readonly reportsBandwidth: boolean;
  /**
   * Upstream response headers this API's clients get: a live answer's (request id, rate-limit
   * state), or for a cached answer only the original request id (`live` undefined).
   */
  upstreamHeaders(live: Readonly<Record<string, string>> | undefined, facts: AnswerFacts | undefined): Record<string, string>;
  /** The cache value for a finished upstream answer. */
  cacheValue(body: string, protocol: Protocol): string;
  /** Writes a complete answer (from the cache or a finished flight). */
  write(answer: Answer, sink: ResponseSink): void;
  /** Follows a live upstream stream; `finish` resolves once the flight completed. */
  stream(flight: Flight, protocol: Protocol, sink: ResponseSink, headers: Readonly<Record<string, string>>, finish: () => Promise<Answer>): Promise<void>;
}

export const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
