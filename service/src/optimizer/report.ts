import type { CacheStore } from '../adapters/cache/types';
import type { Dispatcher } from './dispatcher';
import type { LatencyWindow } from './latency-window';
import type { SessionTracker } from './sessions';

export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
  readonly coalesced: number;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The guide's performance report (`GET /v1/performance`). */
export async function performanceReport(deps: {
  readonly cache: CacheStore;
  readonly counts: CacheCounts;
  readonly latency: LatencyWindow;
  readonly targetLatency: number;
  readonly sessions: SessionTracker;
  readonly dispatcher: Dispatcher;
}): Promise<Record<string, unknown>> {
  const { hits, misses, coalesced } = deps.counts;
  const lookups = hits + misses + coalesced;
  const latency = deps.latency.summary(deps.targetLatency);
  const bandwidth = deps.sessions.aggregate();
  const breakers = deps.dispatcher.allBreakers;
  return {
    engine_performance: {
      cache_performance: {
        hit_rate: lookups ? round((hits + coalesced) / lookups) : 0,
        hits,
        misses,
        coalesced,
        size: deps.cache.size,
        capacity: deps.cache.capacity,
      },
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
      active_sessions: await deps.sessions.activeSessions(),
      circuit_breaker_triggered: breakers.some((b) => b.state !== 'closed'),
    },
    upstreams: breakers.map((b) => {
      const stats = b.stats();
      const [provider, ...model] = b.name.split(':');
      return {
        provider,
        model: model.join(':'),
        breaker_state: b.state,
        ...(b.state !== 'closed' ? { breaker_reason: b.reason } : {}),
        p95_ttft: round(stats.p95TtftMs / 1000),
        error_rate: round(stats.errorRate),
        calls_in_window: stats.calls,
      };
    }),
  };
}
