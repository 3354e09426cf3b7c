/**
 * Request coalescing: identical concurrent requests share one upstream call, streams included.
 *
 * Determinism: the fake upstream is slowed (`setLatency`, `setStreamChunkDelay`), and on top of that
 * the service's upstream is wrapped in a "valve" that can hold an upstream call (before it is sent,
 * or right after the first answer text of a stream) until every client of the test has reached the
 * service. So "all 100 arrive while the call runs" never depends on how fast a loaded machine is.
 * The valve only delays; every call still goes over HTTP to the fake upstream.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { HttpUpstream } from '../../service/src/adapters/upstream/http-upstream';
import type { Upstream, UpstreamRequest } from '../../service/src/adapters/upstream/types';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const N = 100;
const WAIT = { timeoutMs: 20_000 } as const;

/** Holds upstream calls until `open()`; counts the calls the service started. */
class Valve {
  sends = 0;
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  private holdStream = false;

  /** 'request': hold each call before it is sent. 'stream': let a 2xx stream through up to its first answer text, then hold. */
  hold(where: 'request' | 'stream'): void {
    this.gate = new Promise<void>((resolve) => (this.release = resolve));
    this.holdStream = where === 'stream';
  }

  open(): void {
    this.release();
  }

  reset(): void {
    this.open();
    this.gate = Promise.resolve();
    this.holdStream = false;
    this.sends = 0;
  }

  wrap(inner: Upstream): Upstream {
    return {
      send: async (req: UpstreamRequest) => {
        this.sends++;
        const gate = this.gate;
        if (!this.holdStream) {
          await untilOrAbort(gate, req.signal);
          return inner.send(req);
        }
        const res = await inner.send(req);
        if (res.status !== 200) return res;
        return { ...res, body: Readable.from(heldAfterFirstText(res.body, gate, req.signal)) };
      },
      close: () => inner.close(),
    };
  }
}

function untilOrAbort(gate: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    void gate.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

async function* heldAfterFirstText(body: Readable, gate: Promise<void>, signal: AbortSignal): AsyncGenerator<Buffer> {
  let seen = '';
  let held = false;
  for await (const chunk of body) {
    yield chunk as Buffer;
    if (held) continue;
    seen += (chunk as Buffer).toString('utf8');
    if (seen.includes('echo')) {
      held = true;
      await untilOrAbort(gate, signal);
    }
  }
}

/** Counts proxied (POST) requests as the service sees them. */
class Arrivals {
  /** Requests whose body the service has read completely (they join a flight right after, with no further I/O). */
  bodies = 0;
  /** Requests whose connection closed (finished or aborted). */
  closed = 0;

  constructor(server: Server) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'POST') return;
      req.once('end', () => this.bodies++);
      res.once('close', () => this.closed++);
    });
  }

  reset(): void {
    this.bodies = 0;
    this.closed = 0;
  }
}

interface Rig {
  readonly tbo: RunningTbo;
  readonly valve: Valve;
  readonly arrivals: Arrivals;
}

async function startRig(extra: Record<string, string> = {}): Promise<Rig> {
  const valve = new Valve();
  const opts = { headersTimeoutMs: 60_000, bodyTimeoutMs: 60_000 };
  // The valve makes upstream calls look slow to the service; keep that from tripping a circuit breaker.
  const tbo = await startTbo(upstreamEnv(fake.url, { TBO_CIRCUIT_BREAKER_THRESHOLD: '600', ...extra }), {
    upstreams: {
      anthropic: valve.wrap(new HttpUpstream(fake.url, opts)),
      openai: valve.wrap(new HttpUpstream(`${fake.url}/v1`, opts)),
    },
  });
  return { tbo, valve, arrivals: new Arrivals(tbo.service.server) };
}

interface Answer {
  readonly cache: string | null;
  readonly text: string;
  readonly id: string;
}

interface StreamCall {
  /** Resolves once this client has received answer text. */
  readonly firstText: Promise<void>;
  readonly result: Promise<Answer>;
}

interface Client {
  readonly name: 'anthropic' | 'openai';
  json(prompt: string): Promise<Answer>;
  stream(prompt: string): StreamCall;
}

function anthropicClient(url: string, apiKey = 'client-key-ignored-when-open'): Client {
  const client = new Anthropic({ apiKey, baseURL: url, maxRetries: 0 });
  const params = (prompt: string) => ({ model: 'claude-test', max_tokens: 64, messages: [{ role: 'user' as const, content: prompt }] });
  const textOf = (content: Anthropic.ContentBlock[]) => content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  return {
    name: 'anthropic',
    async json(prompt) {
      const { data, response } = await client.messages.create(params(prompt)).withResponse();
      return { cache: response.headers.get('x-tbo-cache'), text: textOf(data.content), id: data.id };
    },
    stream(prompt) {
      const stream = client.messages.stream(params(prompt));
      const firstText = new Promise<void>((resolve) => stream.once('text', () => resolve()));
      const result = (async () => {
        const { response } = await stream.withResponse();
        const message = await stream.finalMessage();
        return { cache: response.headers.get('x-tbo-cache'), text: textOf(message.content), id: message.id };
      })();
      return { firstText, result };
    },
  };
}

function openaiClient(url: string, apiKey = 'client-key-ignored-when-open'): Client {
  const client = new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
  const params = (prompt: string) => ({ model: 'gpt-test', messages: [{ role: 'user' as const, content: prompt }] });
  return {
    name: 'openai',
    async json(prompt) {
      const { data, response } = await client.chat.completions.create(params(prompt)).withResponse();
      return { cache: response.headers.get('x-tbo-cache'), text: data.choices[0].message.content ?? '', id: data.id };
    },
    stream(prompt) {
      let gotText!: () => void;
      const firstText = new Promise<void>((resolve) => (gotText = resolve));
      const result = (async () => {
        const { data, response } = await client.chat.completions.create({ ...params(prompt), stream: true }).withResponse();
        let text = '';
        let id = '';
        for await (const chunk of data) {
          id = chunk.id;
          const piece = chunk.choices[0]?.delta?.content ?? '';
          text += piece;
          if (piece) gotText();
        }
        return { cache: response.headers.get('x-tbo-cache'), text, id };
      })();
      return { firstText, result };
    },
  };
}

function tally(values: readonly (string | null)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  return counts;
}

/** Every client got the same upstream answer; one was the miss that made the call. */
function expectShared(answers: readonly Answer[], prompt: string, count = N): void {
  expect(answers).toHaveLength(count);
  expect(answers.filter((a) => a.text !== `echo: ${prompt}`)).toEqual([]);
  expect(tally(answers.map((a) => a.cache))).toEqual({ miss: 1, coalesced: count - 1 });
  expect(new Set(answers.map((a) => a.id)).size).toBe(1);
}

function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content }], ...extra });

let fake: FakeUpstream;
let rig: Rig;
let clients: Record<'anthropic' | 'openai', Client>;

beforeAll(async () => {
  fake = await startFakeUpstream();
  rig = await startRig();
  clients = { anthropic: anthropicClient(rig.tbo.url), openai: openaiClient(rig.tbo.url) };
});
afterAll(async () => {
  rig.valve.reset();
  await rig.tbo.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  rig.valve.reset();
  rig.arrivals.reset();
});

describe.each(['anthropic', 'openai'] as const)('%s: 100 identical concurrent requests', (provider) => {
  const client = () => clients[provider];

  it('non-streaming: one upstream call, 100 correct answers, one miss and 99 coalesced', async () => {
    const prompt = `coalesce json ${provider}`;
    fake.setLatency(300);
    rig.valve.hold('request');
    const calls = Array.from({ length: N }, () => client().json(prompt));
    await waitFor(() => rig.arrivals.bodies >= N, { ...WAIT, what: `${N} requests to reach TBO` });
    rig.valve.open();
    expectShared(await Promise.all(calls), prompt);
    expect(fake.calls).toBe(1);

    // The shared answer was cached once.
    expect((await client().json(prompt)).cache).toBe('hit');
    expect(fake.calls).toBe(1);
  });

  it('streaming: followers join mid-stream and all 100 streams parse to the full text', async () => {
    const prompt = `coalesce stream ${provider} with a longer answer`;
    fake.setStreamChunkDelay(50);
    rig.valve.hold('stream');
    const leader = client().stream(prompt);
    await leader.firstText; // the leader is mid-stream: it already has answer text
    const followers = Array.from({ length: N - 1 }, () => client().stream(prompt));
    await waitFor(() => rig.arrivals.bodies >= N, { ...WAIT, what: `${N} requests to reach TBO` });
    rig.valve.open();
    const answers = await Promise.all([leader.result, ...followers.map((f) => f.result)]);
    expectShared(answers, prompt);
    expect(answers[0].cache).toBe('miss');
    expect(fake.calls).toBe(1);
  });

  it('mixed: a streaming leader answers non-streaming followers', async () => {
    const prompt = `mixed stream leader ${provider}`;
    fake.setStreamChunkDelay(50);
    rig.valve.hold('stream');
    const leader = client().stream(prompt);
    await leader.firstText;
    const followers = Array.from({ length: N - 1 }, () => client().json(prompt));
    await waitFor(() => rig.arrivals.bodies >= N, { ...WAIT, what: `${N} requests to reach TBO` });
    rig.valve.open();
    const answers = await Promise.all([leader.result, ...followers]);
    expectShared(answers, prompt);
    expect(answers[0].cache).toBe('miss');
    expect(fake.calls).toBe(1);
    expect(fake.requests[0].body.stream).toBe(true);
  });

  it('mixed: streaming followers of a non-streaming leader share a streamed call of their own', async () => {
    // A non-streamed call has nothing to relay before the whole answer is done: streaming clients
    // do not wait on it. The first starts a streamed call, the others join that one.
    const prompt = `mixed json leader ${provider}`;
    fake.setLatency(300);
    rig.valve.hold('request');
    const leader = client().json(prompt);
    await waitFor(() => rig.valve.sends === 1, { ...WAIT, what: 'the leader\'s upstream call' });
    const followers = Array.from({ length: N - 1 }, () => client().stream(prompt).result);
    await waitFor(() => rig.arrivals.bodies >= N, { ...WAIT, what: `${N} requests to reach TBO` });
    rig.valve.open();
    const [json, ...streams] = await Promise.all([leader, ...followers]);
    expect(json).toMatchObject({ cache: 'miss', text: `echo: ${prompt}` });
    expectShared(streams, prompt, N - 1);
    expect(fake.calls).toBe(2);
    expect(fake.requests.map((r) => String(r.body.stream)).sort()).toEqual(['true', 'undefined']);
  });
});

describe('tenants', () => {
  it('never coalesce (or share cache entries) across tenants', async () => {
    const tenants = await startRig({ TBO_API_KEYS: 'a:key-aaaaaaaaaaaaaaaa,b:key-bbbbbbbbbbbbbbbb' });
    try {
      const a = openaiClient(tenants.tbo.url, 'key-aaaaaaaaaaaaaaaa');
      const b = openaiClient(tenants.tbo.url, 'key-bbbbbbbbbbbbbbbb');
      const prompt = 'same prompt, two tenants';
      fake.setLatency(300);
      tenants.valve.hold('request');
      const calls = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? a : b).json(prompt));
      await waitFor(() => tenants.arrivals.bodies >= N, { ...WAIT, what: `${N} requests to reach TBO` });
      tenants.valve.open();
      const answers = await Promise.all(calls);
      expectShared(answers.filter((_, i) => i % 2 === 0), prompt, N / 2);
      expectShared(answers.filter((_, i) => i % 2 === 1), prompt, N / 2);
      expect(answers[0].id).not.toBe(answers[1].id);
      expect(fake.calls).toBe(2);

      expect((await a.json(prompt)).id).toBe(answers[0].id);
      expect((await b.json(prompt)).id).toBe(answers[1].id);
      expect(fake.calls).toBe(2);
    } finally {
      tenants.valve.reset();
      await tenants.tbo.close();
    }
  });
});

describe('model "auto" routed by x-tbo-complexity', () => {
  // Same body, different complexity: TBO routes them to different models (fast vs strongest tier),
  // so they are different requests and must neither share an upstream call nor a cache entry.
  const auto = (prompt: string) => chat(prompt, { model: 'auto' });
  const modelOf = async (res: Response) => ((await res.json()) as OpenAI.ChatCompletion).model;

  it('requests routed to different models never coalesce', async () => {
    const prompt = 'routed concurrently';
    fake.setLatency(300);
    rig.valve.hold('request');
    const simple = post(rig.tbo.url, '/v1/chat/completions', auto(prompt), { 'x-tbo-complexity': '1' });
    await waitFor(() => rig.valve.sends === 1, { ...WAIT, what: 'the first upstream call' });
    const hard = post(rig.tbo.url, '/v1/chat/completions', auto(prompt), { 'x-tbo-complexity': '5' });
    await waitFor(() => rig.arrivals.bodies >= 2, { ...WAIT, what: '2 requests to reach TBO' });
    rig.valve.open();
    const [s, h] = await Promise.all([simple, hard]);
    expect([s.status, h.status]).toEqual([200, 200]);
    expect(fake.requests.map((r) => r.body.model).sort()).toEqual(['gpt-4.1', 'gpt-4o-mini']);
    expect([s.headers.get('x-tbo-cache'), h.headers.get('x-tbo-cache')]).toEqual(['miss', 'miss']);
    expect([await modelOf(s), await modelOf(h)]).toEqual(['gpt-4o-mini', 'gpt-4.1']);
  });

  it('requests routed to different models never share a cache entry', async () => {
    const prompt = 'routed one after the other';
    const simple = await post(rig.tbo.url, '/v1/chat/completions', auto(prompt), { 'x-tbo-complexity': '1' });
    expect([simple.status, simple.headers.get('x-tbo-cache'), await modelOf(simple)]).toEqual([200, 'miss', 'gpt-4o-mini']);
    const hard = await post(rig.tbo.url, '/v1/chat/completions', auto(prompt), { 'x-tbo-complexity': '5' });
    expect([hard.status, hard.headers.get('x-tbo-cache'), await modelOf(hard)]).toEqual([200, 'miss', 'gpt-4.1']);
    expect(fake.requests.map((r) => r.body.model)).toEqual(['gpt-4o-mini', 'gpt-4.1']);
  });
});

describe('upstream errors', () => {
  it('are delivered to every coalesced waiter, streaming or not, and not cached', async () => {
    // A final (non-retryable) upstream error, so the count of upstream calls is exact: one for the
    // JSON clients, one for the streaming clients (they never wait on a non-streamed call).
    const prompt = 'no such model for anyone';
    const client = clients.anthropic;
    fake.setLatency(300);
    fake.failNext(2, { status: 404 });
    rig.valve.hold('request');
    const leader = client.json(prompt).catch((e: unknown) => e);
    await waitFor(() => rig.valve.sends === 1, { ...WAIT, what: 'the leader\'s upstream call' });
    const followers = Array.from({ length: N - 1 }, (_, i) =>
      (i % 2 === 0 ? client.json(prompt) : client.stream(prompt).result).catch((e: unknown) => e),
    );
    await waitFor(() => rig.arrivals.bodies >= N, { ...WAIT, what: `${N} requests to reach TBO` });
    rig.valve.open();
    const outcomes = await Promise.all([leader, ...followers]);
    expect(fake.calls).toBe(2);
    const described = outcomes.map((o) => (o instanceof Anthropic.NotFoundError ? `${o.status} ${o.type ?? ''}` : `not a NotFoundError: ${String(o)}`));
    expect(tally(described)).toEqual({ '404 not_found_error': N });

    const retry = await client.json(prompt);
    expect(retry).toMatchObject({ cache: 'miss', text: `echo: ${prompt}` });
    expect(fake.calls).toBe(3);
  });

  it('a stream that breaks mid-way fails for every coalesced stream and is not cached', async () => {
    const prompt = 'this stream breaks for everyone with a long answer';
    const client = clients.anthropic;
    fake.setStreamChunkDelay(50);
    fake.truncateNextStream(1);
    rig.valve.hold('stream');
    const leader = client.stream(prompt);
    await leader.firstText;
    const followers = Array.from({ length: 9 }, () => client.stream(prompt).result);
    await waitFor(() => rig.arrivals.bodies >= 10, { ...WAIT, what: '10 requests to reach TBO' });
    rig.valve.open();
    const outcomes = await Promise.allSettled([leader.result, ...followers]);
    expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill('rejected'));
    expect(fake.calls).toBe(1);

    const retry = await client.json(prompt);
    expect(retry).toMatchObject({ cache: 'miss', text: `echo: ${prompt}` });
    expect(fake.calls).toBe(2);
  });
});

describe('client aborts', () => {
  it('cancels the upstream call once every waiting client has aborted', async () => {
    const prompt = 'everyone gives up';
    fake.stallNext(1);
    const controllers = Array.from({ length: 10 }, () => new AbortController());
    const pending = controllers.map((c) => post(rig.tbo.url, '/v1/chat/completions', chat(prompt), {}, c.signal).catch((e: unknown) => e));
    await waitFor(() => fake.calls === 1 && rig.arrivals.bodies >= 10, { ...WAIT, what: 'the upstream call and 10 waiting clients' });
    controllers.forEach((c) => c.abort());
    await Promise.all(pending);
    await waitFor(() => fake.aborted === 1, { ...WAIT, what: 'the fake upstream to see its request cancelled' });
    expect(fake.calls).toBe(1);
    await waitFor(() => rig.tbo.service.gateway.inFlight === 0, { ...WAIT, what: 'the abandoned flight to be forgotten' });

    // The abandoned call is neither joined nor cached: the next request makes a new one.
    const again = await post(rig.tbo.url, '/v1/chat/completions', chat(prompt));
    expect(again.status).toBe(200);
    expect(again.headers.get('x-tbo-cache')).toBe('miss');
    expect(((await again.json()) as OpenAI.ChatCompletion).choices[0].message.content).toBe(`echo: ${prompt}`);
    expect(fake.calls).toBe(2);
  });

  it('cancels a coalesced stream once every client has aborted mid-stream', async () => {
    const prompt = `everyone stops reading this long streamed answer ${'and it goes on '.repeat(12)}`;
    fake.setStreamChunkDelay(200);
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    rig.valve.hold('stream');
    const first = await post(rig.tbo.url, '/v1/chat/completions', chat(prompt, { stream: true }), {}, controllers[0].signal);
    const rest = controllers.slice(1).map((c) => post(rig.tbo.url, '/v1/chat/completions', chat(prompt, { stream: true }), {}, c.signal));
    await waitFor(() => rig.arrivals.bodies >= 5, { ...WAIT, what: '5 requests to reach TBO' });
    rig.valve.open();
    const responses = [first, ...(await Promise.all(rest))];
    expect(tally(responses.map((r) => r.headers.get('x-tbo-cache')))).toEqual({ miss: 1, coalesced: 4 });
    // Every client reads some of the stream, then leaves.
    for (const r of responses) {
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      expect((await reader.read()).done).toBe(false);
    }
    controllers.forEach((c) => c.abort());
    await waitFor(() => fake.aborted === 1, { ...WAIT, what: 'the fake upstream to see its stream cancelled' });
    expect(fake.calls).toBe(1);
  });

  it('keeps the upstream call while one client still waits', async () => {
    const prompt = 'one client stays';
    fake.setLatency(300);
    rig.valve.hold('request');
    const controllers = Array.from({ length: 10 }, () => new AbortController());
    const pending = controllers.map((c) => post(rig.tbo.url, '/v1/chat/completions', chat(prompt), {}, c.signal).catch((e: unknown) => e));
    await waitFor(() => rig.arrivals.bodies >= 10, { ...WAIT, what: '10 waiting clients' });
    controllers.slice(0, 9).forEach((c) => c.abort()); // the first (most likely the leader) leaves too
    await waitFor(() => rig.arrivals.closed >= 9, { ...WAIT, what: 'TBO to see 9 clients leave' });
    rig.valve.open();
    const last = (await pending[9]) as Response;
    expect(last.status).toBe(200);
    expect(((await last.json()) as OpenAI.ChatCompletion).choices[0].message.content).toBe(`echo: ${prompt}`);
    expect(fake.calls).toBe(1);
    expect(fake.aborted).toBe(0);
  });
});

describe('Cache-Control: no-cache', () => {
  it('does not join an in-flight call (it makes its own), while a default request does', async () => {
    const prompt = 'fresh answer please';
    fake.setLatency(300);
    rig.valve.hold('request');
    const leader = post(rig.tbo.url, '/v1/chat/completions', chat(prompt));
    await waitFor(() => rig.valve.sends === 1, { ...WAIT, what: 'the leader\'s upstream call' });
    const fresh = post(rig.tbo.url, '/v1/chat/completions', chat(prompt), { 'cache-control': 'no-cache' });
    const follower = post(rig.tbo.url, '/v1/chat/completions', chat(prompt));
    await waitFor(() => rig.arrivals.bodies >= 3, { ...WAIT, what: '3 requests to reach TBO' });
    expect(rig.valve.sends).toBe(2);
    rig.valve.open();
    const [l, n, f] = await Promise.all([leader, fresh, follower]);
    expect([l.status, n.status, f.status]).toEqual([200, 200, 200]);
    expect([l.headers.get('x-tbo-cache'), n.headers.get('x-tbo-cache'), f.headers.get('x-tbo-cache')]).toEqual(['miss', 'bypass', 'coalesced']);
    for (const r of [l, n, f]) expect(((await r.json()) as OpenAI.ChatCompletion).choices[0].message.content).toBe(`echo: ${prompt}`);
    expect(fake.calls).toBe(2);
  });
});
