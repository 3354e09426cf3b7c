import type { Clock } from '../../clock';
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

  async get(key: string, ttlSeconds: number): Promise<CacheLookup | undefined> {
    const local = this.peek(key, ttlSeconds);
    if (local !== undefined) return { value: local, tier: 'memory' };
    if (!this.redis) return undefined;
    const shared = await this.redis.get(key, ttlSeconds);
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
