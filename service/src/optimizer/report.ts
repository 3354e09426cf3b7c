import { BACKEND_FORMAT, type Backend } from '../config/backends';
import type { CacheStore } from '../adapters/cache/types';
import type { CircuitBreaker } from './breaker';
import type { Dispatcher } from './dispatcher';
import type { LatencyWindow } from './latency-window';
import type { ModelRef } from './routing';
import type { SessionTracker } from './sessions';
import type { TenantStats } from './tenant-stats';

export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
  readonly coalesced: number;
}

/** Whose report: one tenant's own, or every tenant's (admin credentials). */
export type ReportScope = { readonly tenant: string } | 'global';

const round = (x: number) => Math.round(x * 10_000) / 10_000;

function cachePerformance(counts: CacheCounts, cache: CacheStore): Record<string, number> {
  const { hits, misses, coalesced } = counts;
  const lookups = hits + misses + coalesced;
  return { hit_rate: lookups ? round((hits + coalesced) / lookups) : 0, hits, misses, coalesced, size: cache.size, capacity: cache.capacity };
}

function upstream(b: CircuitBreaker): Record<string, unknown> {
  const stats = b.stats();
  const [backend, ...model] = b.name.split(':');
  return {
    provider: BACKEND_FORMAT[backend as Backend] ?? backend,
    backend,
    model: model.join(':'),
    breaker_state: b.state,
    ...(b.state !== 'closed' ? { breaker_reason: b.reason } : {}),
    p95_ttft: round(stats.p95TtftMs / 1000),
    error_rate: round(stats.errorRate),
    calls_in_window: stats.calls,
  };
}

/**
 * The guide's performance report (`GET /v1/performance`). A tenant sees its own cache outcomes,
 * sessions and bandwidth, and the health of the routing tiers' models and of the models it asked
 * for itself; never another tenant's models or sessions. The global view is for admins.
 */
export async function performanceReport(
  scope: ReportScope,
  deps: {
    readonly cache: CacheStore;
    readonly counts: CacheCounts;
    readonly tenants: TenantStats;
    readonly latency: LatencyWindow;
    readonly targetLatency: number;
    readonly sessions: SessionTracker;
    readonly dispatcher: Dispatcher;
    /** The routing tiers' models: public to every tenant. */
    readonly routed: readonly ModelRef[];
  },
): Promise<Record<string, unknown>> {
  const tenant = scope === 'global' ? undefined : scope.tenant;
  const latency = deps.latency.summary(deps.targetLatency);
  const all = deps.dispatcher.allBreakers;
  let breakers = all;
  let counts: CacheCounts = deps.counts;
  if (tenant !== undefined) {
    const own = deps.tenants.view(tenant);
    counts = own;
    const visible = new Set([...deps.routed.map((r) => r.model), ...own.models]);
    breakers = all.filter((b) => visible.has(b.name.slice(b.name.indexOf(':') + 1)));
  }
  const bandwidth = deps.sessions.aggregate(tenant);
  return {
    scope: tenant === undefined ? 'global' : 'tenant',
    ...(tenant !== undefined ? { tenant } : {}),
    engine_performance: {
      cache_performance: cachePerformance(counts, deps.cache),
      latency: {
        p50: round(latency.p50),
        p95: round(latency.p95),
        mean: round(latency.mean),
        target_latency: deps.targetLatency,
        target_achievement: round(latency.targetAchievement),
        samples: latency.samples,
      },
    },
    bandwidth_metrics: {
      turns_per_second: round(bandwidth.turnsPerSecond),
      bandwidth_degradation: round(bandwidth.degradation),
      active_sessions: tenant === undefined ? await deps.sessions.activeSessions() : bandwidth.sessions,
      circuit_breaker_triggered: all.some((b) => b.state !== 'closed'),
    },
    upstreams: breakers.map(upstream),
  };
}
