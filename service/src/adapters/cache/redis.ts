import type { TraceSpan } from '../../observability/tracing';
import type { RedisPool } from '../redis-pool';
import type { EntrySigner, RejectReason } from './signer';
import type { CacheObserver } from './types';

/**
 * The shared tier: Redis (standalone or cluster), under the deployment's key prefix, every entry
 * authenticated. Failures are counted and read as misses; an entry that fails authentication is
 * deleted (and its TTL never refreshed).
 */
export class RedisCache {
  private readonly prefix: string;

  constructor(
    private readonly pool: RedisPool,
    private readonly observe: CacheObserver,
    keyPrefix: string,
    private readonly signer: EntrySigner,
    private readonly rejected: (reason: RejectReason) => void,
  ) {
    this.prefix = `${keyPrefix}:cache:`;
  }

  /**
   * Looks a key up; an authentic hit has its TTL refreshed (as the guide does).
   * @param span the lookup's span, ended here with what it found (hit, miss, or `redis_error`)
   */
  async get(key: string, ttlSeconds: number, span?: TraceSpan): Promise<string | undefined> {
    const redisKey = this.prefix + key;
    let stored: string | null;
    try {
      stored = await this.pool.next().get(redisKey);
    } catch {
      this.observe('redis', 'get', 'error');
      span?.end('redis_error');
      return undefined;
    }
    if (typeof stored !== 'string') {
      this.observe('redis', 'get', 'miss');
      span?.end('miss');
      return undefined;
    }
    const opened = this.signer.open(key, stored);
    if ('rejected' in opened) {
      this.observe('redis', 'get', 'miss');
      span?.end('miss');
      this.rejected(opened.rejected);
      void this.pool.next().del(redisKey).catch(() => undefined);
      return undefined;
    }
    this.observe('redis', 'get', 'hit');
    span?.end('hit');
    void this.touch(key, ttlSeconds);
    return opened.value;
  }

  /** Refreshes a key's TTL (an answer kept hot in one instance's memory stays shared). */
  async touch(key: string, ttlSeconds: number): Promise<void> {
    try {
      await this.pool.next().expire(this.prefix + key, ttlSeconds);
      this.observe('redis', 'touch', 'ok');
    } catch {
      this.observe('redis', 'touch', 'error');
    }
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    try {
      await this.pool.next().set(this.prefix + key, this.signer.seal(key, value), 'EX', ttlSeconds);
      this.observe('redis', 'set', 'ok');
    } catch {
      this.observe('redis', 'set', 'error');
    }
  }
}
