import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { ANTHROPIC_KEY, OPENAI_KEY, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

let fake: FakeUpstream;
let tbo: RunningTbo;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startTbo(upstreamEnv(fake.url));
  anthropic = new Anthropic({ apiKey: 'client-key-ignored-when-open', baseURL: tbo.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: 'client-key-ignored-when-open', baseURL: `${tbo.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await tbo.close();
  await fake.close();
});
beforeEach(() => fake.reset());

describe('Anthropic SDK through TBO', () => {
  it('answers non-streaming, then serves the same request from cache', async () => {
    const params = { model: 'claude-test', max_tokens: 50, messages: [{ role: 'user' as const, content: 'hello cache' }] };
    const first = await anthropic.messages.create(params).withResponse();
    expect(first.data.content[0]).toEqual({ type: 'text', text: 'echo: hello cache' });
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(Number(first.response.headers.get('x-tbo-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(first.response.headers.get('server-timing')).toMatch(/tbo;dur=[\d.]+, upstream;dur=[\d.]+/);

    const second = await anthropic.messages.create(params).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(fake.calls).toBe(1);
    expect(fake.requests[0].apiKey).toBe(ANTHROPIC_KEY);
  });

  it('streams, and replays a cached stream the SDK parses to the same message', async () => {
    const params = { model: 'claude-test', max_tokens: 50, messages: [{ role: 'user' as const, content: 'stream me' }] };
    const live = anthropic.messages.stream(params);
    const texts: string[] = [];
    live.on('text', (t) => texts.push(t));
    const liveMessage = await live.finalMessage();
    expect(texts.length).toBeGreaterThanOrEqual(3);
    expect(liveMessage.content).toEqual([{ type: 'text', text: 'echo: stream me' }]);
    expect(liveMessage.stop_reason).toBe('end_turn');

    const replay = anthropic.messages.stream(params);
    const replayed = await replay.finalMessage();
    expect(replayed.content).toEqual(liveMessage.content);
    expect(replayed.usage.output_tokens).toBe(liveMessage.usage.output_tokens);
    expect(fake.calls).toBe(1);

    // A non-streaming request for the same conversation is served from the assembled stream.
    const plain = await anthropic.messages.create(params).withResponse();
    expect(plain.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(plain.data.content).toEqual(liveMessage.content);
  });

  it('streams tool use with input JSON intact, live and from cache', async () => {
    const params = {
      model: 'claude-test',
      max_tokens: 50,
      tools: [{ name: 'lookup', description: 'find', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } } }],
      messages: [{ role: 'user' as const, content: 'please use tool' }],
    };
    const live = await anthropic.messages.stream(params).finalMessage();
    const block = live.content.find((b) => b.type === 'tool_use');
    expect(block).toBeDefined();
    const cached = await anthropic.messages.stream(params).finalMessage();
    expect(cached.content).toEqual(live.content);
    expect(fake.calls).toBe(1);
  });

  it('surfaces upstream errors as the SDK\'s typed errors and never caches them', async () => {
    const params = { model: 'claude-test', max_tokens: 50, messages: [{ role: 'user' as const, content: 'rate limited' }] };
    fake.failNext(1, { status: 429, retryAfter: 7 });
    const err = await anthropic.messages.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('7');
    fake.failNext(1, { status: 529 });
    await expect(anthropic.messages.create(params)).rejects.toBeInstanceOf(Anthropic.APIError);
    const ok = await anthropic.messages.create(params).withResponse();
    expect(ok.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(fake.calls).toBe(3);
  });

  it('never caches a truncated stream', async () => {
    const params = { model: 'claude-test', max_tokens: 50, messages: [{ role: 'user' as const, content: 'cut me off' }] };
    fake.truncateNextStream(1);
    await expect(anthropic.messages.stream(params).finalMessage()).rejects.toThrow();
    const again = await anthropic.messages.create(params).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(fake.calls).toBe(2);
  });
});

describe('OpenAI SDK through TBO', () => {
  it('answers non-streaming, then from cache', async () => {
    const params = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi openai' }] };
    const first = await openai.chat.completions.create(params).withResponse();
    expect(first.data.choices[0].message.content).toBe('echo: hi openai');
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    const second = await openai.chat.completions.create(params).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(fake.calls).toBe(1);
    expect(fake.requests[0].apiKey).toBe(OPENAI_KEY);
  });

  it('streams with and without include_usage, live and from cache', async () => {
    const messages = [{ role: 'user' as const, content: 'stream openai' }];
    const collect = async (includeUsage: boolean) => {
      const stream = await openai.chat.completions.create({ model: 'gpt-test', messages, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined | null;
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage, finish };
    };
    const live = await collect(false);
    expect(live).toEqual({ text: 'echo: stream openai', usage: undefined, finish: 'stop' });
    // TBO asked the upstream for usage so it can count tokens, but this client did not get it.
    expect(fake.requests[0].body.stream_options).toEqual({ include_usage: true });

    const cachedWithUsage = await collect(true);
    expect(cachedWithUsage.text).toBe('echo: stream openai');
    expect(cachedWithUsage.usage?.completion_tokens).toBeGreaterThan(0);
    expect(fake.calls).toBe(1);
  });

  it('returns TBO errors in the OpenAI shape for invalid requests', async () => {
    const err = await openai.chat.completions.create({ model: 'gpt-test', messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/messages/);
    expect(fake.calls).toBe(0);
  });
});

describe('metrics', () => {
  const count = async (result: string) => {
    const text = await (await fetch(`${tbo.adminUrl}/metrics`)).text();
    return Number(new RegExp(`^tbo_cache_requests_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };

  it('counts each request\'s cache outcome once, streamed or not', async () => {
    const [misses, hits] = [await count('miss'), await count('hit')];
    const params = { model: 'claude-test', max_tokens: 50, messages: [{ role: 'user' as const, content: 'count me once' }] };
    await anthropic.messages.stream(params).finalMessage(); // live stream: a miss
    await anthropic.messages.stream(params).finalMessage(); // replayed stream: a hit
    await anthropic.messages.create(params); // JSON: a hit
    expect(await count('miss')).toBe(misses + 1);
    expect(await count('hit')).toBe(hits + 2);
  });
});

describe('cache policy', () => {
  const body = (content: string) => JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content }] });
  const post = (content: string, headers: Record<string, string> = {}) =>
    fetch(`${tbo.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(content) });

  it('honours Cache-Control: no-store (no lookup, no store) and no-cache (no lookup, store)', async () => {
    expect((await post('policy', { 'cache-control': 'no-store' })).headers.get('x-tbo-cache')).toBe('bypass');
    expect((await post('policy')).headers.get('x-tbo-cache')).toBe('miss');
    expect((await post('policy', { 'cache-control': 'no-cache' })).headers.get('x-tbo-cache')).toBe('bypass');
    expect((await post('policy')).headers.get('x-tbo-cache')).toBe('hit');
    expect(fake.calls).toBe(3);
  });

  it('keys on every message, not just the last one', async () => {
    const a = { model: 'gpt-test', messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'same' }] };
    const b = { model: 'gpt-test', messages: [{ role: 'system', content: 'be verbose' }, { role: 'user', content: 'same' }] };
    for (const payload of [a, b]) {
      const res = await fetch(`${tbo.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      expect(res.headers.get('x-tbo-cache')).toBe('miss');
    }
  });

  it('names the env var to set when a provider key is missing', async () => {
    const bare = await startTbo(upstreamEnv(fake.url, { ANTHROPIC_API_KEY: '' }));
    try {
      const client = new Anthropic({ apiKey: 'x', baseURL: bare.url, maxRetries: 0 });
      const err = await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as Error).message).toMatch(/ANTHROPIC_API_KEY/);
    } finally {
      await bare.close();
    }
  });
});
