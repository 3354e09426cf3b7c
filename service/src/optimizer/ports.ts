import type { Backend } from '../config/backends';
import type { RequestTrace } from '../observability/tracing';
import type { TokenUsage } from '../protocols/types';

export type CacheStatus = 'hit' | 'miss' | 'coalesced' | 'bypass';

/** Where the optimizer writes a response; the HTTP layer adapts it to express. */
export interface ResponseSink {
  /** Sends a whole JSON response. */
  json(status: number, body: string, headers: Readonly<Record<string, string>>): void;
  /** Starts a Server-Sent Events response. */
  startStream(headers: Readonly<Record<string, string>>): void;
  write(chunk: string): void;
  end(): void;
  /** Called once if the client goes away before the response ended. */
  onAbort(callback: () => void): void;
  /** The trace of the request this response answers (the optimizer's spans go there). @default none (no spans) */
  readonly trace?: RequestTrace;
}

/** What the optimizer reports; implemented by observability. */
export interface OptimizerMetrics {
  cacheResult(status: CacheStatus): void;
  upstreamCall(provider: Backend, outcome: string, seconds: number): void;
  tokens(provider: Backend, model: string, usage: TokenUsage): void;
  overhead(seconds: number): void;
  /** Upstream spend (or, for hits and coalesced answers, spend avoided), USD. */
  cost(provider: Backend, model: string, usd: number, saved: boolean): void;
  /** Requests waiting for an upstream slot, and how long one waited (when it got a slot). */
  queue(length: number, waitedSeconds: number | undefined): void;
  /** Called whenever a circuit breaker changes state. */
  breakerChange(anyOpen: boolean): void;
}
