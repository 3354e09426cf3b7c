import type { RequestTrace } from '../../observability/tracing';

/** Where a cached answer was found. */
export type CacheTier = 'memory' | 'redis';

export interface CacheLookup {
  readonly value: string;
  readonly tier: CacheTier;
}

/** A cache of final responses (JSON text) by key. Implementations never throw on backend failure. */
export interface CacheStore {
  /** Looks a key up; a hit refreshes its TTL to `ttlSeconds`. Each tier's lookup may be a span of `trace`. */
  get(key: string, ttlSeconds: number, trace?: RequestTrace): Promise<CacheLookup | undefined>;
  /** The memory tier only, synchronously. */
  peek(key: string, ttlSeconds: number): string | undefined;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Entries held in memory (for /ready and /v1/performance). */
  readonly size: number;
  readonly capacity: number;
}

/** Counts every cache operation by tier and result. */
export type CacheObserver = (tier: CacheTier, operation: 'get' | 'set' | 'touch', result: 'hit' | 'miss' | 'ok' | 'error') => void;
