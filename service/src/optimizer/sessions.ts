import { LRUCache } from 'lru-cache';
import type { RedisPool } from '../adapters/redis-pool';
import type { Clock } from '../clock';
import { bandwidth, MAX_TURNS, type BandwidthStats, type Turn } from './bandwidth';

/** Where session turns live: Redis when configured (shared by every instance), else memory. */
export interface TurnStore {
  /** Appends a turn and returns the session's recent turns, oldest first. */
  append(key: string, turn: Turn): Promise<readonly Turn[]>;
  /** Sessions with a turn within the idle timeout. */
  activeCount(): Promise<number>;
}

export class MemoryTurnStore implements TurnStore {
  private readonly sessions: LRUCache<string, Turn[]>;

  constructor(idleMs: number, clock: Clock, maxSessions = 20_000) {
    this.sessions = new LRUCache<string, Turn[]>({ max: maxSessions, ttl: idleMs, updateAgeOnGet: false, perf: { now: () => clock.now() } });
  }

  async append(key: string, turn: Turn): Promise<readonly Turn[]> {
    const turns = [...(this.sessions.get(key) ?? []), turn].slice(-MAX_TURNS);
    this.sessions.set(key, turns);
    return turns;
  }

  async activeCount(): Promise<number> {
    this.sessions.purgeStale();
    return this.sessions.size;
  }
}

/**
 * Turns in a Redis list per session (appended, trimmed and expired atomically in one MULTI), under
 * the deployment's key prefix: `<prefix>:session:<tenant>:<session>` and the index `<prefix>:sessions:active`.
 */
export class RedisTurnStore implements TurnStore {
  private readonly sessionPrefix: string;
  private readonly activeIndex: string;

  constructor(
    private readonly pool: RedisPool,
    private readonly idleMs: number,
    private readonly clock: Clock,
    keyPrefix: string,
  ) {
    this.sessionPrefix = `${keyPrefix}:session:`;
    this.activeIndex = `${keyPrefix}:sessions:active`;
  }

  async append(key: string, turn: Turn): Promise<readonly Turn[]> {
    const redisKey = this.sessionPrefix + key;
    const client = this.pool.next();
    const results = await client
      .multi()
      .rpush(redisKey, `${turn.requestAt},${turn.completeAt}`)
      .ltrim(redisKey, -MAX_TURNS, -1)
      .pexpire(redisKey, Math.round(this.idleMs))
      .lrange(redisKey, 0, -1)
      .exec();
    const [err, list] = results?.[3] ?? [new Error('no result'), null];
    if (err) throw err;
    // The active-session index is a separate key (another cluster slot): updated outside the MULTI.
    void client.zadd(this.activeIndex, turn.completeAt, key).catch(() => undefined);
    return (list as string[]).map((entry) => {
      const [requestAt, completeAt] = entry.split(',').map(Number);
      return { requestAt, completeAt };
    });
  }

  async activeCount(): Promise<number> {
    const client = this.pool.next();
    const results = await client.multi().zremrangebyscore(this.activeIndex, '-inf', this.clock.wall() - this.idleMs).zcard(this.activeIndex).exec();
    const [err, count] = results?.[1] ?? [new Error('no result'), 0];
    if (err) throw err;
    return Number(count);
  }
}

/**
 * Where a tenant's session lives. `|` appears in neither tenant names nor session ids, so no tenant
 * can name its way into another tenant's session (`jwt:a` + `s` vs `jwt` + `a:s`).
 */
export function sessionKey(tenant: string, sessionId: string): string {
  return `${tenant}|${sessionId}`;
}

/**
 * Collaborative bandwidth per session. Reads and writes the shared store (falling back to this
 * instance's memory while Redis is unreachable) and keeps the latest stats of sessions seen here
 * for the gauges.
 */
export class SessionTracker {
  private readonly recent: LRUCache<string, BandwidthStats>;

  constructor(
    private readonly store: TurnStore,
    private readonly fallback: TurnStore,
    idleMs: number,
    private readonly clock: Clock,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.recent = new LRUCache<string, BandwidthStats>({ max: 20_000, ttl: idleMs, perf: { now: () => clock.now() } });
  }

  /** Records a completed turn and returns the session's bandwidth. */
  async recordTurn(tenant: string, sessionId: string, requestAt: number, completeAt = this.clock.wall()): Promise<BandwidthStats> {
    const key = sessionKey(tenant, sessionId);
    const turn = { requestAt, completeAt };
    let turns: readonly Turn[];
    try {
      turns = await this.store.append(key, turn);
    } catch (err) {
      this.onError(err as Error);
      turns = await this.fallback.append(key, turn);
    }
    const stats = bandwidth(turns);
    this.recent.set(key, stats);
    return stats;
  }

  async activeSessions(): Promise<number> {
    try {
      return await this.store.activeCount();
    } catch (err) {
      this.onError(err as Error);
      return this.fallback.activeCount();
    }
  }

  /** Mean bandwidth and degradation over the sessions this instance served recently (of one tenant, when given). */
  aggregate(tenant?: string): { readonly turnsPerSecond: number; readonly degradation: number; readonly sessions: number } {
    this.recent.purgeStale();
    const own = tenant === undefined ? undefined : sessionKey(tenant, '');
    const all = own === undefined ? [...this.recent.values()] : [...this.recent.entries()].flatMap(([key, stats]) => (key.startsWith(own) ? [stats] : []));
    if (!all.length) return { turnsPerSecond: 0, degradation: 0, sessions: 0 };
    return {
      turnsPerSecond: all.reduce((s, b) => s + b.turnsPerSecond, 0) / all.length,
      degradation: all.reduce((s, b) => s + b.degradation, 0) / all.length,
      sessions: all.length,
    };
  }
}
