import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisClient } from '../adapters/redis-pool';
import { TboError } from '../errors';

/**
 * Per-tenant requests per minute. With Redis the window is shared by every instance; while Redis
 * is unreachable each instance falls back to its own in-memory window.
 */
export class TenantRateLimiter {
  private readonly limiter: RateLimiterAbstract | undefined;

  /** @param keyPrefix the deployment's Redis key prefix: counters live under `<prefix>:rl:<tenant>`. */
  constructor(perMinute: number, keyPrefix: string, redis?: RedisClient) {
    if (perMinute <= 0) return;
    const prefix = `${keyPrefix}:rl`;
    const memory = new RateLimiterMemory({ points: perMinute, duration: 60, keyPrefix: prefix });
    this.limiter = redis
      ? new RateLimiterRedis({ storeClient: redis, points: perMinute, duration: 60, keyPrefix: prefix, insuranceLimiter: memory, rejectIfRedisNotReady: true })
      : memory;
  }

  async consume(tenant: string): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(tenant);
    } catch (res) {
      if (res instanceof RateLimiterRes) {
        throw new TboError('rate_limit', `rate limit of ${this.limiter.points} requests per minute exceeded for this tenant`, {
          retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
        });
      }
      // The limiter itself failed (both stores): serve rather than fail closed on infrastructure.
    }
  }
}
