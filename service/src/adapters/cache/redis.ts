import type { RedisPool } from '../redis-pool';
import type { CacheObserver } from './types';

const PREFIX = 'tbo:cache:';

/** The shared tier: Redis (standalone or cluster). Failures are counted and read as misses. */
export class RedisCache {
  constructor(
    private readonly pool: RedisPool,
    private readonly observe: CacheObserver,
  ) {}

  /** GET and EXPIRE in one pipeline, so a hit refreshes its TTL (as the guide does). */
  async get(key: string, ttlSeconds: number): Promise<string | undefined> {
    try {
      const results = await this.pool.next().pipeline().get(PREFIX + key).expire(PREFIX + key, ttlSeconds).exec();
      const [err, value] = results?.[0] ?? [new Error('empty pipeline result'), null];
      if (err) throw err;
      this.observe('redis', 'get', typeof value === 'string' ? 'hit' : 'miss');
      return typeof value === 'string' ? value : undefined;
    } catch {
      this.observe('redis', 'get', 'error');
      return undefined;
    }
  }

  /** Refreshes a key's TTL (an answer kept hot in one instance's memory stays shared). */
  async touch(key: string, ttlSeconds: number): Promise<void> {
    try {
      await this.pool.next().expire(PREFIX + key, ttlSeconds);
      this.observe('redis', 'touch', 'ok');
    } catch {
      this.observe('redis', 'touch', 'error');
    }
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    try {
      await this.pool.next().set(PREFIX + key, value, 'EX', ttlSeconds);
      this.observe('redis', 'set', 'ok');
    } catch {
      this.observe('redis', 'set', 'error');
    }
  }
}
