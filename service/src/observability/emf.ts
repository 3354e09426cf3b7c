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
  async flush(now = Date.now()): Promise<void> {
    await this.metrics.collect();
    const histogram = await this.metrics.requestDuration.get();
    const cumulative = new Map<number, number>();
    for (const v of histogram.values as BucketValue[]) {
      if (v.metricName !== 'tbo_request_duration_seconds_bucket' || !PROXIED.test(String(v.labels.endpoint))) continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      cumulative.set(le, (cumulative.get(le) ?? 0) + v.value);
    }
    const bounds = [...cumulative.keys()].sort((a, b) => a - b);
    const values: number[] = [];
    const counts: number[] = [];
    let below = 0;
    let total = 0;
    for (const [i, le] of bounds.entries()) {
      const key = `le:${le}`;
      const delta = (cumulative.get(le) ?? 0) - (this.previous.get(key) ?? 0);
      this.previous.set(key, cumulative.get(le) ?? 0);
      const inBucket = delta - below;
      below = delta;
      total = delta;
      if (inBucket > 0) {
        values.push(Number.isFinite(le) ? le : (bounds[i - 1] ?? 1) * 2);
        counts.push(inBucket);
      }
    }
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
    };
    if (values.length) doc[M.requestLatency] = { Values: values, Counts: counts };
    this.write(`${JSON.stringify(doc)}\n`);
  }
}
