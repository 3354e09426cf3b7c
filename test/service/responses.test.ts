/**
 * OpenAI's Responses API through the gateway, each through the official SDK method
 * (`responses.create()` streamed and not, `responses.stream()`, `responses.retrieve/delete/cancel`,
 * `responses.inputItems.list`): answered like chat completions (upstream headers, the 429 rule,
 * streams relayed as typed events), cached like them per tenant only when the request keeps no
 * upstream state (`store: false`, no `previous_response_id`), replayed as JSON or as the typed event
 * stream; a stored response belongs to the tenant that created it (ownership in Redis as
 * `<prefix>:response:<id>` when configured, else in memory).
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { redisCli, startRedis, stopAll, type RedisHandle } from '../support/redis';
import { OPENAI_KEY, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const ALPHA_KEY = 'alpha-key-0123456789abcdef';
const BETA_KEY = 'beta-key-0123456789abcdef';
const TENANTS = { TBO_API_KEYS: `alpha:${ALPHA_KEY},beta:${BETA_KEY}` };
const RESPONSE_TTL_SECONDS = 30 * 86_400;
const MODEL = 'gpt-test';

let fake: FakeUpstream;
let tbo: RunningTbo;
const extra: RunningTbo[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startTbo(upstreamEnv(fake.url, TENANTS));
});
afterAll(async () => {
  await tbo?.close();
  await fake?.close();
  await stopAll();
});
beforeEach(() => fake.reset());
afterEach(async () => {
  await Promise.all(extra.splice(0).map((t) => t.close()));
});

async function ownTbo(env: Record<string, string>): Promise<RunningTbo> {
  const started = await startTbo(upstreamEnv(fake.url, { ...TENANTS, ...env }));
  extra.push(started);
  return started;
}

const gpt = (url = tbo.url, key = ALPHA_KEY) => new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
const createCalls = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/responses').length;
/** A request that keeps no upstream state and is not sampled: the cacheable kind. */
const cacheable = (input: string, more: { readonly tools?: OpenAI.Responses.Tool[]; readonly max_output_tokens?: number } = {}) => ({ model: MODEL, input, store: false, temperature: 0, ...more });

async function events(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const out: ResponseStreamEvent[] = [];
  for await (const event of stream) out.push(event);
  return out;
}

/** The final response of a stream: the `response` of its last event. */
function finalOf(stream: readonly ResponseStreamEvent[]): OpenAI.Responses.Response {
  const last = stream[stream.length - 1];
  if (last.type !== 'response.completed' && last.type !== 'response.incomplete') throw new Error(`stream ended with ${last.type}`);
  return last.response;
}

/** Event types in order, a run of deltas of one kind counted once (a replay sends each text whole). */
function shape(stream: readonly ResponseStreamEvent[]): string[] {
  return stream.map((e) => e.type).filter((type, i, all) => !(type.endsWith('.delta') && all[i - 1] === type));
}

function expectNumbered(stream: readonly ResponseStreamEvent[]): void {
  expect(stream.map((e) => e.sequence_number)).toEqual(stream.map((_, i) => i));
}

async function expectNotFound(call: Promise<unknown>): Promise<void> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ message: expect.stringContaining('No response found'), type: 'invalid_request_error' });
}

describe('POST /v1/responses, stored (the API\'s default)', () => {
  it('is a live call every time: never served from cache nor shared, each its own stored response', async () => {
    const client = gpt();
    const first = await client.responses.create({ model: MODEL, input: 'remember me', temperature: 0 }).withResponse();
    const second = await client.responses.create({ model: MODEL, input: 'remember me', temperature: 0 }).withResponse();
    expect(first.data).toMatchObject({ object: 'response', status: 'completed', store: true, output_text: 'echo: remember me' });
    expect(first.response.headers.get('x-tbo-cache')).toBe('bypass');
    expect(second.response.headers.get('x-tbo-cache')).toBe('bypass');
    expect(second.data.id).not.toBe(first.data.id);
    expect(first.request_id).toMatch(/^req_/); // the upstream's request id
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
    expect(createCalls()).toBe(2);
    expect(fake.requests[0]).toMatchObject({ apiKey: OPENAI_KEY, body: { model: MODEL, input: 'remember me', temperature: 0 } });

    // store: true said explicitly is the same.
    const explicit = await client.responses.create({ model: MODEL, input: 'remember me', temperature: 0, store: true }).withResponse();
    expect(explicit.response.headers.get('x-tbo-cache')).toBe('bypass');
    expect(createCalls()).toBe(3);
  });

  it('retrieve and delete: the creator\'s own, another tenant gets 404 in OpenAI\'s shape without an upstream call', async () => {
    const alpha = gpt();
    const beta = gpt(tbo.url, BETA_KEY);
    const created = await alpha.responses.create({ model: MODEL, input: 'keep this' });

    const retrieved = await alpha.responses.retrieve(created.id).withResponse();
    expect(retrieved.data).toMatchObject({ id: created.id, output_text: 'echo: keep this' });
    expect(retrieved.request_id).toMatch(/^req_/);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/responses/${created.id}`, apiKey: OPENAI_KEY });

    const calls = fake.calls;
    for (const id of [created.id, 'resp_never_created_0000', 'bad id!']) {
      await expectNotFound(beta.responses.retrieve(id));
      await expectNotFound(beta.responses.delete(id));
      await expectNotFound(beta.responses.cancel(id));
      await expectNotFound(beta.responses.inputItems.list(id));
    }
    expect(fake.calls).toBe(calls);

    const items = await alpha.responses.inputItems.list(created.id);
    expect(items.data).toMatchObject([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'keep this' }] }]);
    // Cancel is for background responses: the upstream's 400 passes through to the owner.
    await expect(alpha.responses.cancel(created.id)).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    await alpha.responses.delete(created.id);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/v1/responses/${created.id}` });
    const before = fake.calls;
    await expectNotFound(alpha.responses.retrieve(created.id));
    expect(fake.calls).toBe(before); // forgotten with the response
  });

  it('previous_response_id: the tenant\'s own response continues (never from cache); another\'s is refused as the API refuses an unknown one', async () => {
    const alpha = gpt();
    const beta = gpt(tbo.url, BETA_KEY);
    const first = await alpha.responses.create({ model: MODEL, input: 'turn one' });
    const next = () => alpha.responses.create({ model: MODEL, input: 'turn two', previous_response_id: first.id, store: false, temperature: 0 }).withResponse();
    const a = await next();
    const b = await next();
    expect(a.data.previous_response_id).toBe(first.id);
    expect([a.response.headers.get('x-tbo-cache'), b.response.headers.get('x-tbo-cache')]).toEqual(['bypass', 'bypass']);
    expect(createCalls()).toBe(3);

    const calls = fake.calls;
    const refused = await beta.responses.create({ model: MODEL, input: 'steal', previous_response_id: first.id }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
    expect(fake.calls).toBe(calls);
    // The upstream's own answer for an id it does not hold, passed through, looks the same.
    const unknown = await fetch(`${fake.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPENAI_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, input: 'x', previous_response_id: 'resp_unknown' }),
    });
    expect(unknown.status).toBe((refused as InstanceType<typeof OpenAI.BadRequestError>).status);
    expect(((await unknown.json()) as { error: unknown }).error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
  });

  it('a streamed stored response is its creator\'s from its first event on', async () => {
    const stream = await gpt().responses.create({ model: MODEL, input: 'stream and keep', stream: true });
    const seen = await events(stream);
    expect(seen[0].type).toBe('response.created');
    const id = finalOf(seen).id;
    expect((await gpt().responses.retrieve(id)).output_text).toBe('echo: stream and keep');
    await expectNotFound(gpt(tbo.url, BETA_KEY).responses.retrieve(id));
  });

  it('refuses conversation (not served here) in OpenAI\'s shape, without an upstream call', async () => {
    const err = await gpt().responses.create({ model: MODEL, input: 'x', conversation: 'conv_123' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'conversation', type: 'invalid_request_error' });
    expect(fake.calls).toBe(0);
  });
});

describe('POST /v1/responses with store: false: cached like chat', () => {
  it('miss, then hit with the same response and request id; per tenant', async () => {
    const first = await gpt().responses.create(cacheable('cache me')).withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    const second = await gpt().responses.create(cacheable('cache me')).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(second.request_id).toBe(first.request_id); // the original upstream request id
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBeNull(); // no live rate-limit state on a hit
    const other = await gpt(tbo.url, BETA_KEY).responses.create(cacheable('cache me')).withResponse();
    expect(other.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(createCalls()).toBe(2);
    // Not stored upstream, so nobody's to retrieve.
    await expectNotFound(gpt().responses.retrieve(first.data.id));
  });

  it('streamed: live typed events relayed; the repeat is a hit replayed as the same typed events, numbered from 0', async () => {
    const live = await events(await gpt().responses.create({ ...cacheable('stream me please, it is long enough to split'), stream: true }));
    expect(live[0].type).toBe('response.created');
    expect(live.filter((e) => e.type === 'response.output_text.delta').length).toBeGreaterThan(1);
    expectNumbered(live);
    expect(fake.requests[0].body.stream).toBe(true);

    const replay = await gpt().responses.create({ ...cacheable('stream me please, it is long enough to split'), stream: true }).withResponse();
    expect(replay.response.headers.get('x-tbo-cache')).toBe('hit');
    const replayed = await events(replay.data);
    expect(shape(replayed)).toEqual(shape(live));
    expectNumbered(replayed);
    expect(finalOf(replayed)).toEqual(finalOf(live));
    const text = replayed.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('echo: stream me please, it is long enough to split');

    // And as JSON: the final response of the stream.
    const json = await gpt().responses.create(cacheable('stream me please, it is long enough to split')).withResponse();
    expect(json.response.headers.get('x-tbo-cache')).toBe('hit');
    expect({ ...json.data, output_text: undefined }).toEqual({ ...finalOf(live), output_text: undefined });
    expect(createCalls()).toBe(1);
  });

  it('a JSON answer replays as a stream the SDK\'s responses.stream() assembles', async () => {
    const stored = await gpt().responses.create(cacheable('json first'));
    const stream = gpt().responses.stream(cacheable('json first'));
    const final = await stream.finalResponse();
    expect(final.id).toBe(stored.id);
    expect(final.output_text).toBe('echo: json first');
    expect(final.output).toMatchObject(stored.output); // the helper adds `parsed` to each part
    expect(createCalls()).toBe(1);
  });

  it('function calls and incomplete answers replay with their own events', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} }, strict: false }];
    const call = cacheable('please use tool now', { tools });
    const live = await events(await gpt().responses.create({ ...call, stream: true }));
    expect(live.map((e) => e.type)).toContain('response.function_call_arguments.delta');
    const replayed = await events(await gpt().responses.create({ ...call, stream: true }));
    expect(shape(replayed)).toEqual(shape(live));
    expect(finalOf(replayed)).toEqual(finalOf(live));
    expect(finalOf(replayed).output[0]).toMatchObject({ type: 'function_call', name: 'lookup', arguments: JSON.stringify({ text: 'please use tool now' }) });

    const cut = cacheable('a fairly long question that the token limit will cut short', { max_output_tokens: 3 });
    const first = await gpt().responses.create(cut);
    expect(first).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    const again = await events(await gpt().responses.create({ ...cut, stream: true }));
    expect(again.at(-1)?.type).toBe('response.incomplete');
    expect({ ...finalOf(again), output_text: undefined }).toEqual({ ...first, output_text: undefined });
    expect(createCalls()).toBe(2);
  });

  it('replays every output kind it holds: reasoning summaries, annotations and logprobs, refusals', async () => {
    const rich = {
      id: 'resp_rich_0001', object: 'response', created_at: 1_700_000_000, status: 'completed', model: MODEL, error: null, incomplete_details: null,
      output: [
        { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking about it' }] },
        {
          id: 'msg_1', type: 'message', status: 'completed', role: 'assistant',
          content: [
            { type: 'output_text', text: 'see the docs', annotations: [{ type: 'url_citation', url: 'https://example.com', title: 'docs', start_index: 4, end_index: 12 }], logprobs: [{ token: 'see', logprob: -0.1, bytes: [115, 101, 101], top_logprobs: [] }] },
            { type: 'refusal', refusal: 'but not that' },
          ],
        },
      ],
      usage: { input_tokens: 3, output_tokens: 7, total_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 2 } },
      store: false, temperature: 0, tools: [], parallel_tool_calls: true, tool_choice: 'auto', top_p: 1, metadata: {},
    };
    fake.respondNext(1, { body: rich });
    expect((await gpt().responses.create(cacheable('rich'))).id).toBe('resp_rich_0001');
    const replayed = await events(await gpt().responses.create({ ...cacheable('rich'), stream: true }));
    expectNumbered(replayed);
    expect(replayed.map((e) => e.type)).toEqual(expect.arrayContaining([
      'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.reasoning_summary_text.done',
      'response.output_text.annotation.added', 'response.refusal.delta', 'response.refusal.done',
    ]));
    const delta = replayed.find((e) => e.type === 'response.output_text.delta');
    expect(delta).toMatchObject({ delta: 'see the docs', logprobs: rich.output[1].content?.[0].logprobs });
    expect(finalOf(replayed)).toEqual(rich);
    const assembled = await gpt().responses.stream(cacheable('rich')).finalResponse();
    expect(assembled.output).toMatchObject(rich.output);
    expect(createCalls()).toBe(1);
  });

  it('follows the sampling policy: no temperature (the API samples at 1) is not served from cache by default', async () => {
    const own = await ownTbo({ TBO_CACHE_SAMPLED: 'bypass' });
    const ask = (temperature?: number) => gpt(own.url).responses.create({ model: MODEL, input: 'sampled?', store: false, ...(temperature === undefined ? {} : { temperature }) }).withResponse();
    const sampled = [await ask(), await ask()];
    expect(sampled.map((r) => r.response.headers.get('x-tbo-cache'))).toEqual(['bypass', 'bypass']);
    expect(sampled[0].data.id).not.toBe(sampled[1].data.id);
    const exact = [await ask(0), await ask(0)];
    expect(exact.map((r) => r.response.headers.get('x-tbo-cache'))).toEqual(['miss', 'hit']);
    expect(createCalls()).toBe(3);
  });

  it('a stream cut upstream fails in the SDK as an API error and is not cached', async () => {
    fake.truncateNextStream(1);
    const failed = await events(await gpt().responses.create({ ...cacheable('cut me off somewhere in the middle'), stream: true })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const again = await gpt().responses.create(cacheable('cut me off somewhere in the middle')).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('miss');
  });

  it('an upstream 429 comes back at once with its retry-after and request id (one call)', async () => {
    fake.failNext(1, { status: 429, retryAfter: 3 });
    const err = await gpt().responses.create(cacheable('limited')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited.headers?.get('retry-after')).toBe('3');
    expect(limited.requestID).toMatch(/^req_/);
    expect(fake.calls).toBe(1);
  });
});

describe('where response ownership is kept', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  beforeEach(async () => {
    await redisCli(redis.port, 'FLUSHALL');
  });

  async function redisTbo(prefix: string): Promise<RunningTbo> {
    const started = await ownTbo({ REDIS_URL: redis.url, TBO_REDIS_KEY_PREFIX: prefix });
    await waitFor(() => started.service.redis?.clients.every((c) => c.status === 'ready') ?? false, { what: 'TBO to connect to Redis' });
    return started;
  }

  it('Redis: <prefix>:response:<id> holds the tenant for 30 days; recorded before the stream\'s first event reaches the client', async () => {
    const a = await redisTbo('responses-test');
    const b = await redisTbo('responses-test');
    fake.setStreamChunkDelay(20);
    const stream = await gpt(a.url).responses.create({ model: MODEL, input: 'shared across instances', stream: true });
    let retrievedMidStream: OpenAI.Responses.Response | undefined;
    const seen: ResponseStreamEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      // Another instance knows the owner as soon as the client knows the id.
      if (event.type === 'response.created') retrievedMidStream = await gpt(b.url).responses.retrieve(event.response.id);
    }
    const id = finalOf(seen).id;
    expect(retrievedMidStream?.id).toBe(id);

    expect((await redisCli(redis.port, 'GET', `responses-test:response:${id}`)).trim()).toBe('alpha');
    const ttl = Number(await redisCli(redis.port, 'TTL', `responses-test:response:${id}`));
    expect(ttl).toBeGreaterThan(RESPONSE_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(RESPONSE_TTL_SECONDS);
    await expectNotFound(gpt(b.url, BETA_KEY).responses.retrieve(id));
    // A continuation on the other instance is the owner's too.
    const next = await gpt(b.url).responses.create({ model: MODEL, input: 'and on', previous_response_id: id });
    expect(next.previous_response_id).toBe(id);

    await gpt(b.url).responses.delete(id);
    expect((await redisCli(redis.port, 'EXISTS', `responses-test:response:${id}`)).trim()).toBe('0');
    await expectNotFound(gpt(a.url).responses.retrieve(id));
  });

  it('a store: false response is recorded nowhere (the upstream keeps nothing to retrieve)', async () => {
    const a = await redisTbo('responses-test');
    await gpt(a.url).responses.create(cacheable('ephemeral'));
    expect((await redisCli(redis.port, '--scan', '--pattern', 'responses-test:response:*')).trim()).toBe('');
  });

  it('memory: without Redis an instance scopes the responses created through it', async () => {
    const a = await ownTbo({});
    const created = await gpt(a.url).responses.create({ model: MODEL, input: 'local only' });
    expect((await gpt(a.url).responses.retrieve(created.id)).id).toBe(created.id);
    await expectNotFound(gpt(a.url, BETA_KEY).responses.retrieve(created.id));
    const b = await ownTbo({});
    await expectNotFound(gpt(b.url).responses.retrieve(created.id));
  });
});
