import type { Readable } from 'node:stream';
import type { Clock } from '../clock';
import type { Dispatcher } from './dispatcher';
import type { Router } from './routing';
import type { SessionTracker } from './sessions';

type Status = 'healthy' | 'degraded' | 'unhealthy';

interface Connectivity {
  readonly status: Status;
  readonly provider?: string;
  /** The backend probed (the public API, bedrock, vertex …). */
  readonly backend?: string;
  readonly model?: string;
  readonly latency_seconds?: number;
  readonly error?: string;
  readonly checked_at: string;
}

/** The shared (Redis) cache tier as the health check sees it: the Redis pool's own report. */
export interface SharedTierHealth {
  readonly state: 'connected' | 'connecting' | 'disconnected';
  /** Why it is not connected (no secrets); absent while connected. */
  readonly lastError?: string;
  /** When that error happened, ms since the epoch. */
  readonly lastErrorAt?: number;
}

/**
 * The Redis check: `degraded` whenever Redis is configured but not connected. The service then
 * answers from its memory tier (intended: /ready stays 200), but instances no longer share
 * answers, rate limits or sessions, which an alarm on this (or on `tbo_redis_up == 0`) must see.
 */
function sharedTierCheck(tier: SharedTierHealth): { readonly status: Status } & Record<string, unknown> {
  if (tier.state === 'connected') return { status: 'healthy', state: tier.state };
  return {
    status: 'degraded',
    state: tier.state,
    ...(tier.lastError === undefined ? {} : { last_error: tier.lastError }),
    ...(tier.lastErrorAt === undefined ? {} : { last_error_at: new Date(tier.lastErrorAt).toISOString() }),
  };
}

/** Who the connectivity check calls as (no tenant can be named this: tenants cannot contain ':' or start with it). */
export const HEALTH_CHECK_TENANT = ':health-check';

/** Lookups below which the hit rate is "insufficient data" (healthy). */
export const MIN_LOOKUPS_FOR_HIT_RATE = 100;

async function drain(body: Readable): Promise<void> {
  for await (const _ of body) void _;
}

/**
 * The guide's comprehensive health check. API connectivity is a real upstream call (max_tokens
 * 10), made at most once per interval and cached, so scrapes never cost tokens.
 */
export class HealthChecker {
  private last: { at: number; result: Promise<Connectivity> } | undefined;

  constructor(
    private readonly deps: {
      readonly dispatcher: Dispatcher;
      readonly router: Router;
      readonly sessions: SessionTracker;
      readonly cacheCounts: () => { readonly hits: number; readonly lookups: number };
      readonly clock: Clock;
      readonly intervalMs: number;
      /** The Redis tier's state; absent when Redis is not configured (no `redis` check then). */
      readonly redis?: () => SharedTierHealth;
    },
  ) {}

  async check(): Promise<{ status: Status; checks: Record<string, unknown> }> {
    const api = await this.connectivity();
    const { hits, lookups } = this.deps.cacheCounts();
    const hitRate = lookups ? hits / lookups : 0;
    const cache = lookups < MIN_LOOKUPS_FOR_HIT_RATE
      ? { status: 'healthy' as Status, hit_rate: hitRate, lookups, note: 'insufficient data' }
      : { status: (hitRate > 0.1 ? 'healthy' : 'degraded') as Status, hit_rate: hitRate, lookups };
    const { degradation, sessions } = this.deps.sessions.aggregate();
    const bandwidth = { status: (degradation > 0.5 ? 'unhealthy' : degradation > 0.2 ? 'degraded' : 'healthy') as Status, degradation, sessions };
    const redis = this.deps.redis && sharedTierCheck(this.deps.redis());
    const statuses = [api.status, cache.status, bandwidth.status, ...(redis ? [redis.status] : [])];
    const status: Status = statuses.every((s) => s === 'healthy') ? 'healthy' : statuses.includes('unhealthy') ? 'unhealthy' : 'degraded';
    return { status, checks: { api_connectivity: api, cache_performance: cache, bandwidth, ...(redis ? { redis } : {}) } };
  }

  private connectivity(): Promise<Connectivity> {
    const now = this.deps.clock.now();
    if (this.last && now - this.last.at < this.deps.intervalMs) return this.last.result;
    const result = this.probe();
    this.last = { at: now, result };
    return result;
  }

  private async probe(): Promise<Connectivity> {
    const { clock } = this.deps;
    const checkedAt = new Date(clock.wall()).toISOString();
    let route;
    try {
      route = this.deps.router.route('auto', 1);
    } catch (err) {
      return { status: 'unhealthy', error: (err as Error).message, checked_at: checkedAt };
    }
    const target = route.chain[0];
    const started = clock.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 15_000);
    timer.unref();
    try {
      const d = await this.deps.dispatcher.dispatch({
        route: { ...route, chain: [target] },
        stream: false,
        priority: 1,
        tenant: HEALTH_CHECK_TENANT,
        clientHeaders: {},
        body: (t, protocol) => JSON.stringify(protocol.buildRequest({ model: t.model, maxTokens: 10, messages: [{ role: 'user', content: 'ping' }], stream: false })),
        signal: controller.signal,
        deadline: started + 15_000,
      });
      try {
        await drain(d.response.body);
      } finally {
        d.release();
      }
      return { status: 'healthy', provider: target.provider, backend: target.backend, model: target.model, latency_seconds: (clock.now() - started) / 1000, checked_at: checkedAt };
    } catch (err) {
      return { status: 'unhealthy', provider: target.provider, backend: target.backend, model: target.model, error: (err as Error).message, checked_at: checkedAt };
    } finally {
      clearTimeout(timer);
    }
  }
}
