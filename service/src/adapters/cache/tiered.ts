import type { MemoryCache } from './memory';
import type { RedisCache } from './redis';
import type { CacheLookup, CacheObserver, CacheStore } from './types';

/** Memory first, then Redis (when configured); a Redis hit is copied into memory. */
export class TieredCache implements CacheStore {
  constructor(
    private readonly memory: MemoryCache,
    private readonly redis: RedisCache | undefined,
    private readonly observe: CacheObserver,
  ) {}

  async get(key: string, ttlSeconds: number): Promise<CacheLookup | undefined> {
    const local = this.memory.get(key);
    this.observe('memory', 'get', local === undefined ? 'miss' : 'hit');
    if (local !== undefined) return { value: local, tier: 'memory' };
    if (!this.redis) return undefined;
    const shared = await this.redis.get(key, ttlSeconds);
    if (shared === undefined) return undefined;
    this.memory.set(key, shared, ttlSeconds);
    return { value: shared, tier: 'redis' };
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.memory.set(key, value, ttlSeconds);
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
