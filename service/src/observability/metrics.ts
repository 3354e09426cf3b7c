import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheObserver } from '../adapters/cache/types';
import type { CacheStatus, OptimizerMetrics } from '../optimizer/ports';
import type { Backend } from '../config/backends';
import type { TokenUsage } from '../protocols/types';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

function memo<C>(store: WeakMap<object, Map<string, C>>, metric: object, labels: readonly string[], make: () => C): C {
  let byLabels = store.get(metric);
  if (!byLabels) store.set(metric, (byLabels = new Map()));
  const id = labels.join('\0');
  let child = byLabels.get(id);
  if (!child) byLabels.set(id, (child = make()));
  return child;
}

/**
 * Every metric the service exports, in its own registry (so several instances can live in one
 * process, as in tests). Label children on the hot path are cached, not rebuilt per request.
 */
export class Metrics implements OptimizerMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({ name: 'tbo_requests_total', help: 'HTTP requests by method, endpoint and status', labelNames: ['method', 'endpoint', 'status'] as const, registers: [this.registry] });
  readonly requestDuration = new Histogram({ name: 'tbo_request_duration_seconds', help: 'HTTP request duration in seconds', labelNames: ['method', 'endpoint'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly cacheHitRate = new Gauge({ name: 'tbo_cache_hit_rate', help: 'Share of cacheable requests answered without a new upstream call (hits + coalesced)', registers: [this.registry] });
  readonly bandwidthEfficiency = new Gauge({ name: 'tbo_bandwidth_efficiency', help: 'Mean collaborative bandwidth over active sessions, in turns per second', registers: [this.registry] });
  readonly circuitBreakerActive = new Gauge({ name: 'tbo_circuit_breaker_active', help: '1 while any upstream circuit breaker is open', registers: [this.registry] });
  readonly activeSessions = new Gauge({ name: 'tbo_active_sessions', help: 'Sessions with a turn in the last 30 minutes', registers: [this.registry] });
  readonly upstreamDuration = new Histogram({ name: 'tbo_upstream_duration_seconds', help: 'Upstream call duration by backend (provider label: anthropic, openai, bedrock, vertex, vertex-openai) and outcome', labelNames: ['provider', 'outcome'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly overheadSeconds = new Histogram({ name: 'tbo_overhead_seconds', help: 'Time spent in TBO per proxied request, excluding the upstream', buckets: OVERHEAD_BUCKETS, registers: [this.registry] });
  readonly cacheOperations = new Counter({ name: 'tbo_cache_operations_total', help: 'Cache operations by tier, operation and result', labelNames: ['tier', 'operation', 'result'] as const, registers: [this.registry] });
  readonly cacheRequests = new Counter({ name: 'tbo_cache_requests_total', help: 'Proxied requests by cache outcome (hit, miss, coalesced, bypass)', labelNames: ['result'] as const, registers: [this.registry] });
  readonly coalesced = new Counter({ name: 'tbo_coalesced_requests_total', help: 'Requests answered by joining an identical in-flight upstream call', registers: [this.registry] });
  readonly tokensTotal = new Counter({ name: 'tbo_tokens_total', help: 'Upstream tokens by provider, model and direction', labelNames: ['provider', 'model', 'direction'] as const, registers: [this.registry] });
  readonly costTotal = new Counter({ name: 'tbo_cost_usd_total', help: 'Upstream spend in USD by provider and model', labelNames: ['provider', 'model'] as const, registers: [this.registry] });
  readonly costSaved = new Counter({ name: 'tbo_cost_saved_usd_total', help: 'Upstream spend avoided by cache hits and coalescing, USD', labelNames: ['provider', 'model'] as const, registers: [this.registry] });
  readonly queueLength = new Gauge({ name: 'tbo_queue_length', help: 'Requests waiting for an upstream slot (the autoscaler scales on > 50)', registers: [this.registry] });
  readonly queueWait = new Histogram({ name: 'tbo_queue_wait_seconds', help: 'Time requests waited for an upstream slot', buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly cacheRejected = new Counter({ name: 'tbo_cache_rejected_total', help: 'Shared-cache entries refused (and deleted) because they failed authentication or did not decode', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly inflightBodyBytes = new Gauge({ name: 'tbo_inflight_body_bytes', help: 'Request body bytes held by requests in flight (bounded by TBO_MAX_INFLIGHT_BODY_BYTES)', registers: [this.registry] });
  readonly redisUp = new Gauge({ name: 'tbo_redis_up', help: '1 when the Redis cache tier is connected, 0 when not, -1 when not configured', registers: [this.registry] });

  private readonly requestChildren = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<string> }>();
  private readonly counterChildren = new WeakMap<object, Map<string, Counter.Internal>>();
  private readonly histogramChildren = new WeakMap<object, Map<string, Histogram.Internal<string>>>();
  private readonly counts = { hit: 0, miss: 0, coalesced: 0 };
  private readonly collectors: (() => Promise<void> | void)[] = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.cacheHitRate.set(0);
    for (const g of [this.bandwidthEfficiency, this.circuitBreakerActive, this.activeSessions, this.queueLength]) g.set(0);
  }

  /** One finished HTTP request. */
  request(method: string, endpoint: string, status: number, seconds: number): void {
    const id = `${method} ${endpoint} ${status}`;
    let child = this.requestChildren.get(id);
    if (!child) {
      child = { count: this.requests.labels(method, endpoint, String(status)), duration: this.requestDuration.labels(method, endpoint) };
      this.requestChildren.set(id, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  /** A labelled counter child, built once per label set (label lookups are not free on the hot path). */
  private counter<T extends string>(metric: Counter<T>, ...labels: string[]): Counter.Internal {
    return memo(this.counterChildren, metric, labels, () => metric.labels(...labels));
  }

  private histogram<T extends string>(metric: Histogram<T>, ...labels: string[]): Histogram.Internal<T> {
    return memo(this.histogramChildren, metric, labels, () => metric.labels(...labels)) as Histogram.Internal<T>;
  }

  cacheResult(status: CacheStatus): void {
    this.counter(this.cacheRequests, status).inc();
    if (status === 'coalesced') this.coalesced.inc();
    if (status === 'bypass') return;
    this.counts[status]++;
    const { hit, miss, coalesced } = this.counts;
    this.cacheHitRate.set((hit + coalesced) / (hit + miss + coalesced));
  }

  /** Cache outcomes so far; `lookups` counts every cacheable request, `answered` the hits plus coalesced. */
  get cacheCounts(): { readonly hits: number; readonly misses: number; readonly coalesced: number; readonly lookups: number; readonly answered: number } {
    const { hit, miss, coalesced } = this.counts;
    return { hits: hit, misses: miss, coalesced, lookups: hit + miss + coalesced, answered: hit + coalesced };
  }

  /** Registers a refresh that runs before every export (gauges computed from live state). */
  onCollect(fn: () => Promise<void> | void): void {
    this.collectors.push(fn);
  }

  /** Refreshes computed gauges; call before reading the registry. */
  async collect(): Promise<void> {
    await Promise.all(this.collectors.map((fn) => fn()));
  }

  upstreamCall(provider: Backend, outcome: string, seconds: number): void {
    this.histogram(this.upstreamDuration, provider, outcome).observe(seconds);
  }

  tokens(provider: Backend, model: string, usage: TokenUsage): void {
    this.counter(this.tokensTotal, provider, model, 'input').inc(usage.input);
    this.counter(this.tokensTotal, provider, model, 'output').inc(usage.output);
  }

  overhead(seconds: number): void {
    this.overheadSeconds.observe(seconds);
  }

  cost(provider: Backend, model: string, usd: number, saved: boolean): void {
    this.counter(saved ? this.costSaved : this.costTotal, provider, model).inc(usd);
  }

  queue(length: number, waitedSeconds: number | undefined): void {
    this.queueLength.set(length);
    if (waitedSeconds !== undefined) this.queueWait.observe(waitedSeconds);
  }

  breakerChange(anyOpen: boolean): void {
    this.circuitBreakerActive.set(anyOpen ? 1 : 0);
  }

  /** A shared-cache entry refused: forged, altered, written by another deployment, or garbage. */
  cacheRejection(reason: 'decode' | 'signature'): void {
    this.counter(this.cacheRejected, reason).inc();
  }

  readonly cacheObserver: CacheObserver = (tier, operation, result) => {
    this.counter(this.cacheOperations, tier, operation, result).inc();
  };
}
