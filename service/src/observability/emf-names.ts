/**
 * The CloudWatch Embedded Metric Format contract: metric names and the dimension the service
 * writes, which the AWS construct's alarms and dashboard read. Dependency-free (lib/core exports it).
 */
export const EMF_METRICS = {
  /** Proxied request latency, seconds, as a distribution (so p95 works). */
  requestLatency: 'RequestLatency',
  /** Proxied requests in the flush interval. */
  requests: 'Requests',
  /** Share of cacheable requests answered without an upstream call, over the flush interval; absent when there were none. */
  cacheHitRate: 'CacheHitRate',
  /** Mean collaborative bandwidth, turns per second, over sessions served; absent when there are none. */
  bandwidthEfficiency: 'BandwidthEfficiency',
  /** 1 while any upstream circuit breaker is open. */
  circuitBreakerActive: 'CircuitBreakerActive',
  /** Sessions with a turn within the idle timeout. */
  activeSessions: 'ActiveSessions',
  /** Requests waiting for an upstream slot on this instance (`tbo_queue_length`): the scale-out signal. */
  queueLength: 'QueueLength',
  /** Time spent in TBO per proxied request, excluding the upstream, seconds, as a distribution. */
  overhead: 'Overhead',
} as const;

/** The one dimension of every EMF metric; its value is `TBO_SERVICE_NAME`. */
export const EMF_SERVICE_DIMENSION = 'Service';
