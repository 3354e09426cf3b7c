import type { Clock } from '../../clock';
import { NO_TRACE, type RequestTrace } from '../../observability/tracing';
import type { MemoryCache } from './memory';
import type { RedisCache } from './redis';
import type { CacheLookup, CacheObserver, CacheStore } from './types';

/**
 * Memory first, then Redis (when configured); a Redis hit is copied into memory. A key kept hot in
 * one instance's memory also keeps its Redis TTL fresh (at most once per half TTL), so other
 * instances keep hitting it.
 */
export class TieredCache implements CacheStore {
  constructor(
    private readonly memory: MemoryCache,
    private readonly redis: RedisCache | undefined,
    private readonly observe: CacheObserver,
    private readonly clock: Clock,
  ) {}

  /** Looks a key up in memory, then in Redis; each tier's lookup is a span of `trace`. */
  async get(key: string, ttlSeconds: number, trace: RequestTrace = NO_TRACE): Promise<CacheLookup | undefined> {
    const inMemory = trace.cacheLookup('memory');
    const local = this.peek(key, ttlSeconds);
    inMemory.end(local === undefined ? 'miss' : 'hit');
    if (local !== undefined) return { value: local, tier: 'memory' };
    if (!this.redis) return undefined;
    const shared = await this.redis.get(key, ttlSeconds, trace.cacheLookup('redis'));
    if (shared === undefined) return undefined;
    this.memory.set(key, shared, ttlSeconds, this.clock.now());
    return { value: shared, tier: 'redis' };
  }

  peek(key: string, ttlSeconds: number): string | undefined {
    const entry = this.memory.get(key);
    this.observe('memory', 'get', entry === undefined ? 'miss' : 'hit');
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    if (this.redis && now - entry.sharedTouchedAt > (ttlSeconds * 1000) / 2) {
      entry.sharedTouchedAt = now;
      void this.redis.touch(key, ttlSeconds);
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.memory.set(key, value, ttlSeconds, this.clock.now());
    this.observe('memory', 'set', 'ok');
    await this.redis?.set(key, value, ttlSeconds);
  }

  get size(): number {
    return this.memory.size;
  }

  get capacity(): number {
    return this.memory.capacity;
  }
}
