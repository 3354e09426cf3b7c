import { EMF_METRICS, EMF_SERVICE_DIMENSION } from './emf-names';
import type { Metrics } from './metrics';

export { EMF_METRICS };

/** The proxied endpoints (as in the shared alert rules): not /v1/performance. */
const PROXIED = /^\/v1\/(messages|chat\/completions|collaborate)$/;

interface BucketValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * Writes CloudWatch Embedded Metric Format lines, so the service's own metrics reach CloudWatch
 * with no agent: the awslogs driver ships stdout, CloudWatch extracts the metrics. Latency goes out
 * as a distribution (values and counts per histogram bucket) so alarms can use p95.
 */
export class EmfExporter {
  private previous = new Map<string, number>();
  private previousCache = { answered: 0, lookups: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly opts: { readonly namespace: string; readonly service: string; readonly intervalSeconds: number },
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Builds one EMF document from what changed since the last flush, and writes it. */
  /**
   * What a histogram gained since the last flush, as an EMF distribution (each bucket's upper
   * bound and how many observations it gained), and the number of observations gained.
   */
  private distribution(values: readonly BucketValue[], bucketMetric: string, include: (v: BucketValue) => boolean): { values: number[]; counts: number[]; total: number } {
    const cumulative = new Map<number, number>();
    for (const v of values) {
      if (v.metricName !== bucketMetric || !include(v)) continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      cumulative.set(le, (cumulative.get(le) ?? 0) + v.value);
    }
    const bounds = [...cumulative.keys()].sort((a, b) => a - b);
    const out = { values: [] as number[], counts: [] as number[], total: 0 };
    let below = 0;
    for (const [i, le] of bounds.entries()) {
      const key = `${bucketMetric}:${le}`;
      const delta = (cumulative.get(le) ?? 0) - (this.previous.get(key) ?? 0);
      this.previous.set(key, cumulative.get(le) ?? 0);
      const inBucket = delta - below;
      below = delta;
      out.total = delta;
      if (inBucket > 0) {
        out.values.push(Number.isFinite(le) ? le : (bounds[i - 1] ?? 1) * 2);
        out.counts.push(inBucket);
      }
    }
    return out;
  }

  async flush(now = Date.now()): Promise<void> {
    await this.metrics.collect();
    const latency = this.distribution((await this.metrics.requestDuration.get()).values as BucketValue[], 'tbo_request_duration_seconds_bucket', (v) => PROXIED.test(String(v.labels.endpoint)));
    const overhead = this.distribution((await this.metrics.overheadSeconds.get()).values as BucketValue[], 'tbo_overhead_seconds_bucket', () => true);
    const { values, counts, total } = latency;
    const gauge = async (g: { get(): Promise<{ values: { value: number }[] }> }) => (await g.get()).values[0]?.value ?? 0;
    const M = EMF_METRICS;
    // Hit rate over this interval only, and only when there was something to hit: an idle
    // instance reports no data rather than 0, so it cannot fire the low-hit-rate alarm.
    const { answered, lookups } = this.metrics.cacheCounts;
    const windowLookups = lookups - this.previousCache.lookups;
    const windowHitRate = windowLookups > 0 ? (answered - this.previousCache.answered) / windowLookups : undefined;
    this.previousCache = { answered, lookups };
    const efficiency = await gauge(this.metrics.bandwidthEfficiency);
    const doc: Record<string, unknown> = {
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: this.opts.namespace,
            Dimensions: [[EMF_SERVICE_DIMENSION]],
            Metrics: [
              ...(values.length ? [{ Name: M.requestLatency, Unit: 'Seconds' }] : []),
              { Name: M.requests, Unit: 'Count' },
              ...(windowHitRate !== undefined ? [{ Name: M.cacheHitRate, Unit: 'None' }] : []),
              ...(efficiency > 0 ? [{ Name: M.bandwidthEfficiency, Unit: 'None' }] : []),
              { Name: M.circuitBreakerActive, Unit: 'None' },
              { Name: M.activeSessions, Unit: 'Count' },
              { Name: M.queueLength, Unit: 'Count' },
              ...(overhead.values.length ? [{ Name: M.overhead, Unit: 'Seconds' }] : []),
            ],
          },
        ],
      },
      [EMF_SERVICE_DIMENSION]: this.opts.service,
      [M.requests]: total,
      ...(windowHitRate !== undefined ? { [M.cacheHitRate]: windowHitRate } : {}),
      ...(efficiency > 0 ? { [M.bandwidthEfficiency]: efficiency } : {}),
      [M.circuitBreakerActive]: await gauge(this.metrics.circuitBreakerActive),
      [M.activeSessions]: await gauge(this.metrics.activeSessions),
      [M.queueLength]: await gauge(this.metrics.queueLength),
    };
    if (values.length) doc[M.requestLatency] = { Values: values, Counts: counts };
    if (overhead.values.length) doc[M.overhead] = { Values: overhead.values, Counts: overhead.counts };
    this.write(`${JSON.stringify(doc)}\n`);
  }
}
