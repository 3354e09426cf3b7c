import { FakeClock } from '../support/fake-clock';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startRedis, type RedisHandle } from '../support/redis';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const ROUTING = {
  TBO_MODELS_FAST: 'anthropic:fast-a,openai:fast-o',
  TBO_MODELS_BALANCED: 'openai:balanced-o',
  TBO_MODELS_STRONGEST: 'anthropic:strong-a',
  TBO_MODEL_PRICES: JSON.stringify({ 'fast-a': { input: 1, output: 2 }, 'balanced-o': { input: 0.5, output: 1 } }),
};

interface CollaborateBody {
  content: string;
  model: string;
  provider: string;
  response_time: number;
  cache_hit: boolean;
  optimization_applied: string[];
  bandwidth_metrics: { turns_per_second: number; efficiency_ratio: number; bandwidth_degradation: number; predicted_degradation: number; turns: number };
  routing_decision: { model: string; reason: string; predicted_latency: number };
  usage: { input_tokens: number; output_tokens: number; cost_usd: number | null };
}

async function post(t: RunningTbo, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/v1/collaborate`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { res, body: (await res.json()) as CollaborateBody & { error?: { message: string; type: string } } };
}

const turn = (session: string, content: string, complexity = 1) => ({ messages: [{ role: 'user', content }], context: { session_id: session, complexity } });

describe('POST /v1/collaborate', () => {
  let tbo: RunningTbo;
  beforeAll(async () => {
    tbo = await startTbo(upstreamEnv(fake.url, ROUTING));
  });
  afterAll(() => tbo.close());

  it('routes by complexity and answers in the guide\'s shape, with usage and cost', async () => {
    const { res, body } = await post(tbo, turn('shape', 'route me', 1));
    expect(res.status).toBe(200);
    expect(body).toMatchObject({
      content: 'echo: route me',
      model: 'fast-a',
      provider: 'anthropic',
      cache_hit: false,
      optimization_applied: ['routed'],
      routing_decision: { model: 'fast-a', reason: 'complexity 1 → fast tier' },
    });
    expect(body.response_time).toBeGreaterThan(0);
    expect(Object.keys(body.bandwidth_metrics).sort()).toEqual(['bandwidth_degradation', 'efficiency_ratio', 'predicted_degradation', 'seconds_per_turn', 'turns', 'turns_per_second']);
    const { input_tokens, output_tokens, cost_usd } = body.usage;
    expect(input_tokens).toBeGreaterThan(0);
    expect(cost_usd).toBeCloseTo((input_tokens * 1 + output_tokens * 2) / 1000, 8);
    expect(fake.requests[0]).toMatchObject({ provider: 'anthropic', body: { model: 'fast-a', max_tokens: 1000 } });

    const balanced = await post(tbo, turn('shape', 'route me', 3));
    expect(balanced.body).toMatchObject({ model: 'balanced-o', provider: 'openai', routing_decision: { reason: 'complexity 3 → balanced tier' } });
  });

  it('serves a repeat from cache, counting the saved cost', async () => {
    await post(tbo, turn('cache', 'same question'));
    const again = await post(tbo, turn('cache', 'same question'));
    expect(again.body.cache_hit).toBe(true);
    expect(again.body.optimization_applied).toEqual(['cache_hit', 'routed']);
    expect(again.res.headers.get('x-tbo-cache')).toBe('hit');
    expect(fake.calls).toBe(1);
    const metrics = await (await fetch(`${tbo.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^tbo_cost_saved_usd_total\{provider="anthropic",model="fast-a"\} [0-9.e-]+$/m);
    expect(metrics).toMatch(/^tbo_cost_usd_total\{provider="anthropic",model="fast-a"\} [0-9.e-]+$/m);
  });

  it('streams text deltas and ends with the complete response', async () => {
    const res = await fetch(`${tbo.url}/v1/collaborate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...turn('stream', 'stream this'), stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text();
    const events = text.trim().split('\n\n').map((f) => ({ event: /^event: (.*)$/m.exec(f)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(f)?.[1] ?? 'null') as Record<string, unknown> }));
    const deltas = events.filter((e) => e.event === 'content_delta');
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.map((d) => d.data.text).join('')).toBe('echo: stream this');
    expect(events.at(-1)).toMatchObject({ event: 'message_complete', data: { content: 'echo: stream this', model: 'fast-a' } });
  });

  it('rejects bad context with the field named', async () => {
    const noSession = await post(tbo, { messages: [{ role: 'user', content: 'x' }], context: {} });
    expect(noSession.res.status).toBe(400);
    expect(noSession.body.error?.message).toMatch(/^context\.session_id/);
    const badComplexity = await post(tbo, { messages: [{ role: 'user', content: 'x' }], context: { session_id: 's', complexity: 9 } });
    expect(badComplexity.body.error?.message).toMatch(/^context\.complexity/);
    const unknownModel = await post(tbo, { ...turn('s', 'x'), model: 'mystery-model' });
    expect(unknownModel.res.status).toBe(400);
    expect(unknownModel.body.error?.message).toMatch(/model: cannot tell which provider/);
  });

  it('takes session and priority from headers on the provider endpoints, and validates them', async () => {
    const send = (headers: Record<string, string>) =>
      fetch(`${tbo.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'hdr' }] }) });
    const ok = await send({ 'x-tbo-session-id': 'hdr-session', 'x-tbo-priority': '2' });
    expect(ok.status).toBe(200);
    // model "auto" on the OpenAI endpoint routes within OpenAI models only.
    expect(fake.requests.at(-1)?.body.model).toBe('fast-o');
    const bad = await send({ 'x-tbo-priority': '11' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('x-tbo-priority');
  });

  it('reports performance in the guide\'s shape', async () => {
    const report = (await (await fetch(`${tbo.url}/v1/performance`)).json()) as Record<string, Record<string, unknown>>;
    expect(Object.keys(report.engine_performance.cache_performance as object).sort()).toEqual(['capacity', 'coalesced', 'hit_rate', 'hits', 'misses', 'size']);
    expect(Object.keys(report.engine_performance.latency as object).sort()).toEqual(['mean', 'p50', 'p95', 'samples', 'target_achievement', 'target_latency']);
    expect(Object.keys(report.bandwidth_metrics).sort()).toEqual(['active_sessions', 'bandwidth_degradation', 'circuit_breaker_triggered', 'turns_per_second']);
    expect(report.bandwidth_metrics.active_sessions).toBeGreaterThanOrEqual(3);
    expect(report.upstreams).toEqual(expect.arrayContaining([expect.objectContaining({ provider: 'anthropic', model: 'fast-a', breaker_state: 'closed' })]));
  });
});

describe('bandwidth across instances', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop('SIGKILL'));

  it('continues a session\'s turns on another instance through Redis', async () => {
    const env = upstreamEnv(fake.url, { ...ROUTING, REDIS_URL: redis.url });
    const [a, b] = [await startTbo(env), await startTbo(env)];
    try {
      const counts: number[] = [];
      for (const [i, instance] of [a, b, a, b].entries()) {
        const r = await post(instance, turn('shared-session', `turn ${i}`));
        counts.push(r.body.bandwidth_metrics.turns);
      }
      expect(counts).toEqual([1, 2, 3, 4]);
      const last = await post(b, turn('shared-session', 'turn 4'));
      expect(last.body.bandwidth_metrics.turns).toBe(5);
      expect(last.body.bandwidth_metrics.turns_per_second).toBeGreaterThan(0);
      const report = (await (await fetch(`${a.url}/v1/performance`)).json()) as { bandwidth_metrics: { active_sessions: number } };
      expect(report.bandwidth_metrics.active_sessions).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('GET /health/details', () => {
  it('checks the upstream at most once per interval and aggregates the checks', async () => {
    const clock = new FakeClock();
    const tbo = await startTbo(upstreamEnv(fake.url, { ...ROUTING, TBO_HEALTH_CHECK_INTERVAL: '30' }), { clock });
    try {
      const details = async () => {
        const res = await fetch(`${tbo.adminUrl}/health/details`);
        return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { status: string; note?: string; max_tokens?: number }> } };
      };
      const first = await details();
      expect(first.status).toBe(200);
      expect(first.body.status).toBe('healthy');
      expect(first.body.checks.api_connectivity.status).toBe('healthy');
      expect(first.body.checks.cache_performance).toMatchObject({ status: 'healthy', note: 'insufficient data' });
      expect(fake.calls).toBe(1);
      expect(fake.requests[0].body.max_tokens).toBe(10);
      await details();
      expect(fake.calls).toBe(1); // cached within the interval: scrapes cost no tokens

      fake.failModel('fast-a', { status: 500 });
      clock.advance(30_000);
      const down = await details();
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('unhealthy');
      expect(down.body.checks.api_connectivity.status).toBe('unhealthy');
    } finally {
      await tbo.close();
    }
  });
});

describe('priority lanes', () => {
  it('queues beyond max_concurrent_requests and turns overflow away with 503 in the caller\'s shape', async () => {
    const tbo = await startTbo(upstreamEnv(fake.url, { ...ROUTING, TBO_MAX_CONCURRENT_REQUESTS: '1', TBO_QUEUE_MAX: '1' }));
    fake.setLatency(300);
    try {
      const send = (content: string, priority: string) =>
        fetch(`${tbo.url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-tbo-priority': priority },
          body: JSON.stringify({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content }] }),
        });
      const { lanes } = tbo.service;
      const first = send('one', '5');
      await waitFor(() => lanes.inFlight === 1, { what: 'the first request to hold the only slot' });
      const queued = send('two', '5');
      await waitFor(() => lanes.queued === 1, { what: 'the second request to queue' });
      const overflow = await send('three', '5');
      expect(overflow.status).toBe(503);
      expect(overflow.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await overflow.json()) as { type: string; error: { type: string } }).error.type).toBe('overloaded_error');
      // Asking for priority 1 does not bypass the full house: the tenant's ceiling is 5.
      const urgent = await send('urgent', '1');
      expect(urgent.status).toBe(503);
      expect((await first).status).toBe(200);
      expect((await queued).status).toBe(200);
      const metrics = await (await fetch(`${tbo.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^tbo_queue_wait_seconds_count 1$/m);
    } finally {
      await tbo.close();
    }
  });
});
