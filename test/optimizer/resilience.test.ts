import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const ROUTING = {
  TBO_MODELS_FAST: 'anthropic:fast-a',
  TBO_MODELS_BALANCED: 'openai:balanced-o',
  TBO_MODELS_STRONGEST: 'anthropic:strong-a',
};

/** A service with retries on, and injected sleep and jitter: backoff is recorded, not waited. */
async function tbo(extra: Record<string, string> = {}) {
  const delays: number[] = [];
  const running = await startTbo(upstreamEnv(fake.url, { TBO_MAX_RETRIES: '2', ...ROUTING, ...extra }), {
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
  });
  return { running, delays };
}

async function collaborate(t: RunningTbo, body: Record<string, unknown>) {
  const res = await fetch(`${t.url}/v1/collaborate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { optimization_applied: string[]; provider: string; model: string } };
}

const ask = (content: string, complexity = 1) => ({ messages: [{ role: 'user', content }], context: { session_id: 's1', complexity } });

describe('retries', () => {
  it('does not retry a 429 into the limit: backs the upstream off for its Retry-After and answers 429 with it', async () => {
    const { running, delays } = await tbo();
    try {
      fake.failNext(2, { status: 429, retryAfter: 3 });
      const r = await collaborate(running, ask('retry after'));
      expect(r.status).toBe(429);
      expect(fake.calls).toBe(1);
      expect(delays).toEqual([]);
      // Within the window nobody calls the rate-limited upstream; callers are told how long to wait.
      const again = await fetch(`${running.url}/v1/collaborate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask('retry after, again')) });
      expect(again.status).toBe(429);
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(3);
      expect(fake.calls).toBe(1);
    } finally {
      await running.close();
    }
  });

  it('backs off exponentially with full jitter on 5xx and 529', async () => {
    const { running, delays } = await tbo();
    try {
      fake.failNext(1, { status: 500 });
      fake.failNext(1, { status: 529 });
      expect((await collaborate(running, ask('jitter'))).status).toBe(200);
      // random() = 0.5 of min(cap, 250 ms · 2^attempt)
      expect(delays).toEqual([125, 250]);
    } finally {
      await running.close();
    }
  });

  it('never retries other 4xx', async () => {
    const { running, delays } = await tbo();
    try {
      fake.failNext(1, { status: 401 });
      const res = await fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'bad key upstream' }] }),
      });
      expect(res.status).toBe(401);
      expect(fake.calls).toBe(1);
      expect(delays).toEqual([]);
    } finally {
      await running.close();
    }
  });

  it('does not retry past the request deadline', async () => {
    const { running, delays } = await tbo({ TBO_UPSTREAM_TIMEOUT: '10' });
    try {
      fake.failNext(1, { status: 429, retryAfter: 60 });
      const res = await fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'deadline' }] }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(fake.calls).toBe(1);
      expect(delays).toEqual([]);
    } finally {
      await running.close();
    }
  });
});

describe('failover and circuit breakers', () => {
  it('falls back along the chain (strongest → balanced, across providers) when retries are exhausted', async () => {
    const { running } = await tbo();
    try {
      fake.failNext(3, { status: 529 });
      const r = await collaborate(running, ask('fail over', 5));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ provider: 'openai', model: 'balanced-o' });
      expect(r.body.optimization_applied).toEqual(expect.arrayContaining(['routed', 'retried', 'fallback']));
      expect(fake.requests.map((q) => q.body.model)).toEqual(['strong-a', 'strong-a', 'strong-a', 'balanced-o']);
    } finally {
      await running.close();
    }
  });

  it('opens a breaker after a window of failures, skips that upstream, and reports it', async () => {
    const { running } = await tbo({ TBO_MAX_RETRIES: '0' });
    try {
      fake.failModel('strong-a', { status: 500 });
      for (let i = 0; i < 20; i++) expect((await collaborate(running, ask(`warm ${i}`, 5))).body.model).toBe('balanced-o');
      fake.reset();
      const r = await collaborate(running, ask('after open', 5));
      expect(r.body.model).toBe('balanced-o');
      expect(fake.requests.map((q) => q.body.model)).toEqual(['balanced-o']);

      const perf = (await (await fetch(`${running.url}/v1/performance`)).json()) as { upstreams: { model: string; breaker_state: string; error_rate: number }[]; bandwidth_metrics: { circuit_breaker_triggered: boolean } };
      expect(perf.upstreams.find((u) => u.model === 'strong-a')).toMatchObject({ breaker_state: 'open', error_rate: 1 });
      expect(perf.bandwidth_metrics.circuit_breaker_triggered).toBe(true);
      const metrics = await (await fetch(`${running.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^tbo_circuit_breaker_active 1$/m);
    } finally {
      await running.close();
    }
  });
});

describe('timeouts cancel the upstream call', () => {
  it('a stream that does not start within the TTFT timeout is aborted and retried', async () => {
    const { running } = await tbo({ TBO_TTFT_TIMEOUT: '0.3', TBO_MAX_RETRIES: '1' });
    try {
      fake.stallNext(1);
      const res = await fetch(`${running.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-x', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'stall once' }] }),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('message_stop');
      await waitFor(() => fake.aborted === 1, { what: 'the stalled upstream request to be aborted' });
      expect(fake.calls).toBe(2);
    } finally {
      await running.close();
    }
  });

  it('the total timeout answers 504 and aborts the upstream request', async () => {
    const { running } = await tbo({ TBO_UPSTREAM_TIMEOUT: '0.3', TBO_MAX_RETRIES: '0' });
    try {
      fake.stallNext(1);
      const res = await fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'stall' }] }),
      });
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('timeout');
      await waitFor(() => fake.aborted === 1, { what: 'the upstream request to be aborted' });
    } finally {
      await running.close();
    }
  });
});
