/**
 * The optimizer's own numbers (issue: optimizer runtime): what the TBO-native path costs over the
 * plain proxy path on a cache miss, and how the priority lanes behave at twice
 * `max_concurrent_requests`. Runs against a fake upstream in its own process; TBO is the real
 * `node service/dist/main.js`.
 */
import { join } from 'node:path';
import { fire, summarize, type LatencySummary } from './load';
import { scrapeMetrics } from './metrics';
import { spawnBenchServer, spawnTbo, stopPid, type BenchServer } from './processes';
import { fmt, renderTable } from './table';

const KEY = 'bench-optimizer-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };

export interface PathCost {
  readonly path: string;
  readonly requests: number;
  readonly cpuUsPerRequest: number;
  readonly latency: LatencySummary;
  readonly non2xx: number;
}

export interface LaneBehaviour {
  readonly maxConcurrent: number;
  readonly connections: number;
  readonly upstreamLatencyMs: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly queuedRequests: number;
  readonly queueWaitP50Ms: number | undefined;
  readonly queueWaitP99Ms: number | undefined;
  readonly clientLatency: LatencySummary;
  readonly throughputRps: number;
}

export interface OptimizerResults {
  readonly paths: readonly PathCost[];
  /** Mean latency the optimizer path adds over the plain proxy path, ms. */
  readonly collaborateAddedMs: number;
  readonly lanes: LaneBehaviour;
}

/** A quantile from a Prometheus histogram's cumulative buckets (upper bound of the bucket it falls in). */
export function bucketQuantile(metrics: Map<string, number>, name: string, q: number): number | undefined {
  const buckets = [...metrics]
    .filter(([k]) => k.startsWith(`${name}_bucket{`))
    .map(([k, v]) => ({ le: /le="([^"]+)"/.exec(k)?.[1] === '+Inf' ? Infinity : Number(/le="([^"]+)"/.exec(k)?.[1]), count: v }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (!total) return undefined;
  return buckets.find((b) => b.count >= q * total)?.le;
}

async function cpuOf(tbo: { cpu(): Promise<{ user: number; system: number }> }): Promise<number> {
  const c = await tbo.cpu();
  return c.user + c.system;
}

async function pathCosts(upstream: BenchServer, logDir: string, amount: number): Promise<PathCost[]> {
  const env = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `${upstream.url}/v1`, TBO_API_KEYS: `bench:${KEY}`, API_RATE_LIMIT: '100000000', TBO_CONFIG_FILE: '', TBO_MODELS_FAST: 'openai:gpt-4o-mini' };
  const tbo = await spawnTbo('tbo-optimizer-paths', env, join(logDir, 'tbo-optimizer-paths.log'));
  let n = 0;
  const question = () => `Ticket OPT-${++n}: the deploy failed after the dependency upgrade. Likely cause?`;
  const paths: [string, string, () => string][] = [
    ['/v1/chat/completions (proxy path, miss)', '/v1/chat/completions', () => JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 256, messages: [{ role: 'user', content: question() }] })],
    ['/v1/collaborate (optimizer path, miss)', '/v1/collaborate', () => JSON.stringify({ messages: [{ role: 'user', content: question() }], context: { session_id: 'bench-session', complexity: 1 }, max_tokens: 256 })],
  ];
  try {
    const out: PathCost[] = [];
    for (const [label, path, body] of paths) {
      await fire({ url: `${tbo.url}${path}`, headers: AUTH, body, amount: Math.min(1000, amount) });
      const before = await cpuOf(tbo);
      const result = await fire({ url: `${tbo.url}${path}`, headers: AUTH, body, amount });
      out.push({ path: label, requests: result.requests, cpuUsPerRequest: ((await cpuOf(tbo)) - before) / result.requests, latency: summarize(result.latenciesMs), non2xx: result.non2xx });
    }
    return out;
  } finally {
    await stopPid(tbo.pid);
  }
}

async function laneBehaviour(logDir: string, maxConcurrent: number, upstreamLatencyMs: number, amount: number): Promise<LaneBehaviour> {
  const upstream = await spawnBenchServer('upstream-slow', 'slow-upstream-server.ts', { BENCH_UPSTREAM_LATENCY_MS: String(upstreamLatencyMs) });
  const env = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `${upstream.url}/v1`, TBO_API_KEYS: `bench:${KEY}`, API_RATE_LIMIT: '100000000', TBO_CONFIG_FILE: '', TBO_MAX_CONCURRENT_REQUESTS: String(maxConcurrent) };
  const tbo = await spawnTbo('tbo-optimizer-lanes', env, join(logDir, 'tbo-optimizer-lanes.log'));
  const connections = 2 * maxConcurrent;
  let n = 0;
  try {
    const result = await fire({
      url: `${tbo.url}/v1/chat/completions`,
      headers: AUTH,
      body: () => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `queue ${++n}` }] }),
      amount,
      connections,
    });
    const metrics = await scrapeMetrics(tbo.adminUrl);
    const toMs = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
    return {
      maxConcurrent,
      connections,
      upstreamLatencyMs,
      requests: result.requests,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      queuedRequests: metrics.get('tbo_queue_wait_seconds_count') ?? 0,
      queueWaitP50Ms: toMs(bucketQuantile(metrics, 'tbo_queue_wait_seconds', 0.5)),
      queueWaitP99Ms: toMs(bucketQuantile(metrics, 'tbo_queue_wait_seconds', 0.99)),
      clientLatency: summarize(result.latenciesMs),
      throughputRps: result.requests / (result.wallMs / 1000),
    };
  } finally {
    await stopPid(tbo.pid);
    await stopPid(upstream.pid);
  }
}

/** Runs both optimizer scenarios against a latency-controllable fake upstream. */
export async function runOptimizerBench(logDir: string, opts: { readonly amount: number } = { amount: 5000 }): Promise<OptimizerResults> {
  const upstream = await spawnBenchServer('upstream-optimizer', 'upstream-server.ts');
  let paths: PathCost[];
  try {
    paths = await pathCosts(upstream, logDir, opts.amount);
  } finally {
    await stopPid(upstream.pid);
  }
  const lanes = await laneBehaviour(logDir, 50, 200, 2000);
  return { paths, collaborateAddedMs: paths[1].latency.meanMs - paths[0].latency.meanMs, lanes };
}

export function optimizerTables(r: OptimizerResults): string {
  const paths = renderTable(
    ['path (1 connection, distinct requests)', 'requests', 'TBO CPU µs/req', 'mean ms', 'p50 ms', 'p99 ms', 'non-2xx'],
    r.paths.map((p) => [p.path, String(p.requests), fmt(p.cpuUsPerRequest, 1), fmt(p.latency.meanMs, 3), fmt(p.latency.p50Ms, 3), fmt(p.latency.p99Ms, 3), String(p.non2xx)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const l = r.lanes;
  const lanes = renderTable(
    ['max_concurrent', 'connections', 'upstream ms', 'requests', 'queued', 'queue wait p50 ms (bucket ≤)', 'p99 ms (bucket ≤)', 'client p50 ms', 'client p99 ms', 'req/s', 'non-2xx + errors'],
    [[String(l.maxConcurrent), String(l.connections), String(l.upstreamLatencyMs), String(l.requests), String(l.queuedRequests), fmt(l.queueWaitP50Ms, 0), fmt(l.queueWaitP99Ms, 0), fmt(l.clientLatency.p50Ms, 1), fmt(l.clientLatency.p99Ms, 1), fmt(l.throughputRps, 0), String(l.non2xx + l.errors)]],
  );
  return `Optimizer path vs proxy path (cache miss): /v1/collaborate adds ${fmt(r.collaborateAddedMs, 3)} ms mean\n${paths}\n\nPriority lanes at 2 × max_concurrent_requests\n${lanes}`;
}
