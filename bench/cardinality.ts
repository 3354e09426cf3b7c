/**
 * Bounded state (issue 10): does TBO's memory or its `/metrics` grow with strings clients choose?
 * One fresh TBO (started with `--inspect=127.0.0.1:0` for forced full GCs; no inspector session is
 * attached while load runs) gets, through its public port and against the bench's fake upstream:
 *
 * 1. a warm-up that fills the response cache to capacity with one known model and runs every path
 *    below a few hundred times (so the baseline already holds a full cache and warm code);
 * 2. N requests, each naming a different model (unknown to TBO: forwarded, answered by the fake
 *    upstream, stored; every one a miss);
 * 3. N requests with a different `x-tbo-session-id` each (one fixed body: cache hits);
 * 4. N requests with a different `x-request-id` each (same fixed body: cache hits).
 *
 * After each step: two full GCs through the inspector, then V8 heap used and VmRSS; VmRSS before
 * the GC too; the number of series (sample lines) on `/metrics` (admin listener), the distinct
 * `model` label values there, and the size of `GET /v1/performance` as an admin (global view) and
 * as the tenant.
 */
import { procStatusBytes } from './cpu';
import { Inspector } from './inspector';
import { fire } from './load';
import { labelValues, metricsText, parseMetrics } from './metrics';
import type { BenchServer, TboProcess } from './processes';
import { CHAT_PATH, chatBody, smallPrompt, type Tags } from './requests';

export interface CardinalitySnapshot {
  /** VmRSS when the step ended, before the forced GC. */
  readonly rssBytes: number;
  /** VmRSS and V8 heap used after two forced full GCs. */
  readonly rssAfterGcBytes: number;
  readonly heapUsedAfterGcBytes: number;
  readonly vmHwmBytes: number;
  /** Sample lines on /metrics (one per series), and the exposition's size. */
  readonly series: number;
  readonly metricsBytes: number;
  /** Distinct values of the `model` label over all series. */
  readonly modelLabels: readonly string[];
  /** Bytes of `GET /v1/performance` with an admin key (scope "global") and as the tenant. */
  readonly performanceGlobalBytes: number;
  readonly performanceTenantBytes: number;
  /** Entries in the response cache (from /ready). */
  readonly cacheEntries: number;
}

export interface CardinalityStep {
  readonly id: 'start' | 'baseline' | 'models' | 'sessions' | 'request-ids';
  readonly label: string;
  /** Distinct client-chosen strings this step sent (0 for start and baseline). */
  readonly distinct: number;
  readonly requests: number;
  readonly wallMs: number;
  /** Upstream calls the step caused (fake upstream's own count) and the cache outcomes TBO counted. */
  readonly upstreamCalls: number;
  readonly misses: number;
  readonly hits: number;
  readonly failures: number;
  readonly after: CardinalitySnapshot;
}

export interface CardinalityResult {
  readonly distinct: number;
  readonly connections: number;
  readonly warmup: { readonly cacheFill: number; readonly perPath: number };
  readonly steps: readonly CardinalityStep[];
  readonly problems: readonly string[];
}

export interface CardinalityOptions {
  readonly tbo: TboProcess;
  /** The inspector URL of `tbo` (started with --inspect=127.0.0.1:0). */
  readonly inspector: string;
  readonly upstream: BenchServer;
  /** The tenant's API key (one of TBO_API_KEYS). */
  readonly tenantKey: string;
  /** One of the process's TBO_ADMIN_KEYS. */
  readonly adminKey: string;
  readonly tags: Tags;
  /** Distinct model names, session ids and request ids, each. */
  readonly distinct: number;
  readonly connections: number;
  readonly log: (line: string) => void;
}

/** Distinct model names, session ids and request ids in `npm run bench` (each), and the client's connections. */
export const CARDINALITY_DISTINCT = 50_000;
export const CARDINALITY_CONNECTIONS = 8;

const TENANT_KEY = 'tbo-bench-cardinality-tenant-key-0123';
const ADMIN_KEY = 'tbo-bench-cardinality-admin-key-0123';

/**
 * The TBO environment of this measurement: the service's defaults (empty config file), the fake
 * upstream for both providers, one tenant key, one admin key (for the global /v1/performance view),
 * and a rate limit the load never reaches.
 */
export function cardinalityEnv(upstreamUrl: string, configFile: string): { env: Record<string, string>; tenantKey: string; adminKey: string } {
  return {
    env: {
      TBO_CONFIG_FILE: configFile,
      OPENAI_API_KEY: 'sk-openai-bench-0123456789',
      OPENAI_BASE_URL: `${upstreamUrl}/v1`,
      ANTHROPIC_API_KEY: 'sk-ant-bench-0123456789',
      ANTHROPIC_BASE_URL: upstreamUrl,
      TBO_API_KEYS: `bench:${TENANT_KEY}`,
      TBO_ADMIN_KEYS: ADMIN_KEY,
      API_RATE_LIMIT: '100000000',
      // The steps count misses and hits of sampled requests (temperature 0.2): replay them, as the
      // other bench processes do (tbo-env.ts), rather than the default bypass.
      TBO_CACHE_SAMPLED: 'cache',
    },
    tenantKey: TENANT_KEY,
    adminKey: ADMIN_KEY,
  };
}

/** Distinct requests beyond the cache's capacity in the warm-up, and requests per path. */
const WARM_EXTRA = 1000;
const WARM_PER_PATH = 500;

async function readiness(url: string): Promise<{ entries: number; capacity: number }> {
  const body = (await (await fetch(`${url}/ready`)).json()) as { cache?: { memory?: { entries?: number; capacity?: number } } };
  return { entries: body.cache?.memory?.entries ?? -1, capacity: body.cache?.memory?.capacity ?? -1 };
}

export async function measureCardinality(o: CardinalityOptions): Promise<CardinalityResult> {
  const { tbo, upstream, tags } = o;
  const problems: string[] = [];
  const url = `${tbo.url}${CHAT_PATH}`;
  const headers = { authorization: `Bearer ${o.tenantKey}` };
  const hitBody = chatBody(smallPrompt(`CARDINALITY-HIT-${tags.next()}`));

  const performanceBytes = async (key: string, scope: 'global' | 'tenant') => {
    const res = await fetch(`${tbo.url}/v1/performance`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    if (!res.ok) throw new Error(`/v1/performance (${scope}) answered ${res.status}: ${text.slice(0, 200)}`);
    const got = (JSON.parse(text) as { scope?: string }).scope;
    if (got !== scope) problems.push(`/v1/performance: expected scope "${scope}", got "${got}"`);
    return Buffer.byteLength(text);
  };
  const snapshot = async (): Promise<CardinalitySnapshot> => {
    const rss = procStatusBytes(tbo.pid, 'VmRSS');
    const session = await Inspector.connect(o.inspector);
    let heap: number;
    try {
      heap = await session.heapUsedAfterGc();
    } finally {
      session.close();
    }
    const rssAfterGc = procStatusBytes(tbo.pid, 'VmRSS');
    const hwm = procStatusBytes(tbo.pid, 'VmHWM');
    const text = await metricsText(tbo.adminUrl);
    const samples = parseMetrics(text);
    return {
      rssBytes: rss,
      rssAfterGcBytes: rssAfterGc,
      heapUsedAfterGcBytes: heap,
      vmHwmBytes: hwm,
      series: samples.size,
      metricsBytes: Buffer.byteLength(text),
      modelLabels: [...labelValues(samples, 'model')].sort(),
      performanceGlobalBytes: await performanceBytes(o.adminKey, 'global'),
      performanceTenantBytes: await performanceBytes(o.tenantKey, 'tenant'),
      cacheEntries: (await readiness(tbo.url)).entries,
    };
  };
  const counters = async () => {
    const m = parseMetrics(await metricsText(tbo.adminUrl));
    return { calls: (await upstream.stats()).counters.calls ?? 0, miss: m.get('tbo_cache_requests_total{result="miss"}') ?? 0, hit: m.get('tbo_cache_requests_total{result="hit"}') ?? 0 };
  };

  const steps: CardinalityStep[] = [];
  const step = async (
    id: CardinalityStep['id'],
    label: string,
    load: { readonly amount: number; readonly body: string | (() => string); readonly extra?: () => Record<string, string>; readonly expect: 'miss' | 'hit' } | undefined,
  ) => {
    // A cache-hit step's body may have been evicted by an earlier step: store it again first.
    if (load?.expect === 'hit' && typeof load.body === 'string') {
      const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: load.body });
      await res.arrayBuffer();
    }
    const before = await counters();
    const r = load ? await fire({ url, headers, body: load.body, headersPerRequest: load.extra, amount: load.amount, connections: o.connections }) : undefined;
    const after = await counters();
    const s: CardinalityStep = {
      id,
      label,
      distinct: load?.amount ?? 0,
      requests: r?.requests ?? 0,
      wallMs: r?.wallMs ?? 0,
      upstreamCalls: after.calls - before.calls,
      misses: after.miss - before.miss,
      hits: after.hit - before.hit,
      failures: r ? r.errors + r.non2xx + r.timeouts : 0,
      after: await snapshot(),
    };
    if (load) {
      if (s.failures > 0) problems.push(`${id}: ${r?.errors} errors, ${r?.non2xx} non-2xx, ${r?.timeouts} timeouts`);
      const calls = load.expect === 'miss' ? load.amount : 0;
      if (s.upstreamCalls !== calls) problems.push(`${id}: the upstream got ${s.upstreamCalls} calls, expected ${calls}`);
      if ((load.expect === 'miss' ? s.misses : s.hits) !== load.amount) problems.push(`${id}: TBO counted ${s.misses} misses and ${s.hits} hits for ${load.amount} requests that should all be ${load.expect}es`);
    }
    steps.push(s);
    o.log(`cardinality: ${label}: ${s.after.series} series, VmRSS after GC ${(s.after.rssAfterGcBytes / 2 ** 20).toFixed(1)} MiB${r ? ` (${Math.round((r.requests * 1000) / r.wallMs)} req/s)` : ''}`);
  };

  await step('start', 'fresh process', undefined);

  // Warm-up: a full cache (one known model, distinct prompts), then every path below with its own strings.
  const { capacity } = await readiness(tbo.url);
  const cacheFill = Math.max(0, capacity) + WARM_EXTRA;
  const warm = async (what: string, amount: number, body: string | (() => string), extra?: () => Record<string, string>) => {
    const r = await fire({ url, headers, body, headersPerRequest: extra, amount, connections: o.connections });
    if (r.errors + r.non2xx + r.timeouts > 0) problems.push(`warm-up (${what}): ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts`);
  };
  await warm('cache fill', cacheFill, () => chatBody(smallPrompt(tags.next())));
  await warm('models', WARM_PER_PATH, () => chatBody(smallPrompt(tags.next()), `ft:gpt-4o-mini:warm:${tags.next()}`));
  await warm('sessions', WARM_PER_PATH, hitBody, () => ({ 'x-tbo-session-id': `warm-${tags.next()}` }));
  await warm('request ids', WARM_PER_PATH, hitBody, () => ({ 'x-request-id': `warm-${tags.next()}` }));
  await step('baseline', `baseline (cache full: ${capacity} entries; warm-up done)`, undefined);

  const n = o.distinct;
  // Model names shaped like fine-tune ids; the prompt differs too, as a real client's would.
  await step('models', `after ${n} distinct model names`, { amount: n, body: () => chatBody(smallPrompt(tags.next()), `ft:gpt-4o-mini:acme:${tags.next()}`), expect: 'miss' });
  await step('sessions', `after ${n} distinct session ids`, { amount: n, body: hitBody, extra: () => ({ 'x-tbo-session-id': `session-${tags.next()}` }), expect: 'hit' });
  await step('request-ids', `after ${n} distinct request ids`, { amount: n, body: hitBody, extra: () => ({ 'x-request-id': `req-${tags.next()}` }), expect: 'hit' });

  return { distinct: n, connections: o.connections, warmup: { cacheFill, perPath: WARM_PER_PATH }, steps, problems };
}
