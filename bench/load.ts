/**
 * autocannon in this process, with a fixed request count. Latency is taken from autocannon's own
 * per-response times (its hrtime, in ms with sub-µs precision) through its 'response' event: the
 * histogram autocannon summarises with records whole milliseconds, too coarse for sub-ms latency.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

interface AutocannonOptions {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  readonly amount: number;
  /** Seconds per request. */
  readonly timeout: number;
  /** ms between autocannon's samples; it only notices that `amount` is reached on a sample tick. */
  readonly sampleInt: number;
  readonly requests?: readonly { readonly setupRequest?: (req: RequestSpec) => RequestSpec }[];
}

interface AutocannonHistogram {
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
}

interface AutocannonResult {
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly resets: number;
  readonly latency: AutocannonHistogram;
}

type Autocannon = (opts: AutocannonOptions, done: (err: Error | null, result: AutocannonResult) => void) => EventEmitter;

const autocannon = createRequire(__filename)('autocannon') as Autocannon;

export interface LoadSpec {
  /** Full URL of the endpoint. */
  readonly url: string;
  readonly headers: Record<string, string>;
  /** A fixed body, or a function called once per request (distinct requests). */
  readonly body: string | (() => string);
  /** Headers that change per request (e.g. a new x-request-id each time), added to `headers`. */
  readonly headersPerRequest?: () => Record<string, string>;
  readonly amount: number;
  /** @default 1 */
  readonly connections?: number;
}

export interface LoadResult {
  readonly requests: number;
  /** From the start of the first request to the last response (autocannon's own end is late). */
  readonly wallMs: number;
  /** Every response's latency in ms, as autocannon measured it. */
  readonly latenciesMs: number[];
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  /** autocannon's own summary (whole-millisecond histogram), for reference. */
  readonly autocannonLatencyMs: AutocannonHistogram;
}

export function fire(spec: LoadSpec): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const { body, headersPerRequest } = spec;
  const dynamic = typeof body !== 'string' || headersPerRequest !== undefined;
  let firstStart = Infinity;
  let lastEnd = -Infinity;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body: typeof body === 'string' ? body : undefined,
        requests: dynamic
          ? [{ setupRequest: (req) => ({ ...req, body: typeof body === 'string' ? body : body(), headers: headersPerRequest ? { ...req.headers, ...headersPerRequest() } : req.headers }) }]
          : undefined,
        connections: spec.connections ?? 1,
        amount: spec.amount,
        timeout: 10,
        sampleInt: 20,
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          requests: latenciesMs.length,
          wallMs: lastEnd - firstStart,
          latenciesMs,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          autocannonLatencyMs: { mean: result.latency.mean, p50: result.latency.p50, p99: result.latency.p99 },
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
      const now = performance.now();
      if (now - responseTimeMs < firstStart) firstStart = now - responseTimeMs;
      lastEnd = now;
      latenciesMs.push(responseTimeMs);
    });
  });
}

export interface LatencySummary {
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return { meanMs: mean, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] ?? NaN };
}
