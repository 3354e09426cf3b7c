import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';

let fake: FakeUpstream;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  anthropic = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: 'k', baseURL: `${fake.url}/v1`, maxRetries: 0 });
});
afterEach(() => fake.reset());
afterAll(async () => fake.close());

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
};

describe('fake upstream, Anthropic Messages via @anthropic-ai/sdk', () => {
  it('answers non-stream with an echo and records the forwarded key', async () => {
    const msg = await anthropic.messages.create({ model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
    expect(msg).toMatchObject({
      type: 'message', role: 'assistant', model: 'claude-x', stop_reason: 'end_turn', stop_sequence: null,
      content: [{ type: 'text', text: 'echo: hello' }],
    });
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    expect(fake.calls).toBe(1);
    expect(fake.requests[0]).toMatchObject({ provider: 'anthropic', path: '/v1/messages', apiKey: 'k', body: { model: 'claude-x' } });
    // @anthropic-ai/sdk 1.x sends `apiKey` as `Authorization: Bearer`, not `x-api-key`
    expect(fake.requests[0].headers.authorization).toBe('Bearer k');
  });

  it('also accepts and records a raw x-api-key header', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'raw-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(fake.requests[0].apiKey).toBe('raw-key');
  });

  it('echoes the last user message, including arrays of text blocks', async () => {
    const msg = await anthropic.messages.create({
      model: 'claude-x', max_tokens: 64,
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'echo: first' },
        { role: 'user', content: [{ type: 'text', text: 'second' }, { type: 'text', text: 'part' }] },
      ],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'echo: second part' }]);
  });

  it('streams text deltas that the SDK assembles into the same message', async () => {
    const deltas: string[] = [];
    const stream = anthropic.messages.stream({ model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: 'stream me please' }] });
    stream.on('text', (delta) => deltas.push(delta));
    const msg = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join('')).toBe('echo: stream me please');
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'echo: stream me please' })]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.output_tokens).toBeGreaterThan(1);
  });

  it('sends SSE frames with both event: and data: lines, and one ping', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = (await res.text()).trim().split('\n\n');
    const events = frames.map((f) => {
      const [eventLine, dataLine] = f.split('\n');
      expect(dataLine.startsWith('data: ')).toBe(true);
      const data = JSON.parse(dataLine.slice(6)) as { type: string };
      expect(eventLine).toBe(`event: ${data.type}`);
      return data.type;
    });
    expect(events[0]).toBe('message_start');
    expect(events.filter((e) => e === 'ping')).toHaveLength(1);
    expect(events.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('answers with a tool_use block, streamed as input_json_delta, when asked to "use tool"', async () => {
    const partials: string[] = [];
    const stream = anthropic.messages.stream({
      model: 'claude-x', max_tokens: 64, tools: [weatherTool],
      messages: [{ role: 'user', content: 'please use tool for Paris' }],
    });
    stream.on('inputJson', (partial) => partials.push(partial));
    const msg = await stream.finalMessage();
    expect(partials.filter((p) => p !== '').length).toBeGreaterThanOrEqual(3);
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([
      expect.objectContaining({ type: 'tool_use', name: 'get_weather', input: { city: 'please use tool for Paris', days: 42 } }),
    ]);
    const [block] = msg.content;
    expect(block.type === 'tool_use' && block.id.startsWith('toolu_')).toBe(true);
  });

  it('surfaces a scripted 429 as RateLimitError with retry-after', async () => {
    fake.failNext(1, { status: 429, retryAfter: 7 });
    const err: unknown = await anthropic.messages
      .create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const rate = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.headers.get('retry-after')).toBe('7');
    expect(rate.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(fake.calls).toBe(1);
    // the failure is used up: the next call succeeds
    await expect(anthropic.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })).resolves.toBeDefined();
  });

  it('maps 529 to OverloadedError and 401 to AuthenticationError', async () => {
    fake.failNext(1, { status: 529 });
    fake.failNext(1, { status: 401 });
    const body = { model: 'm', max_tokens: 8, messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(anthropic.messages.create(body)).rejects.toBeInstanceOf(Anthropic.OverloadedError);
    await expect(anthropic.messages.create(body)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('rejects a request without any key with authentication_error', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(fake.requests[0].apiKey).toBeUndefined();
  });

  it('delays the headers by the scripted latency', async () => {
    fake.setLatency(200);
    const started = Date.now();
    await anthropic.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('stalls until the client aborts, and counts the abort', async () => {
    fake.stallNext(1);
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0, timeout: 300 });
    await expect(client.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }))
      .rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    await waitFor(() => fake.aborted === 1, { what: 'the stalled request to count as aborted' });
    expect(fake.calls).toBe(1);
  });

  it('truncates a stream mid-way so the SDK fails, without counting a client abort', async () => {
    fake.truncateNextStream(1);
    const deltas: string[] = [];
    const stream = anthropic.messages.stream({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'a longer prompt to cut' }] });
    stream.on('text', (d) => deltas.push(d));
    await expect(stream.finalMessage()).rejects.toThrow();
    expect(deltas).toHaveLength(2);
    expect(fake.aborted).toBe(0);
  });
});

describe('fake upstream, OpenAI Chat Completions via openai', () => {
  it('answers non-stream with a chat.completion and records the Bearer key', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi there' }] });
    expect(res).toMatchObject({
      object: 'chat.completion', model: 'gpt-x',
      choices: [{ index: 0, message: { role: 'assistant', content: 'echo: hi there', refusal: null }, finish_reason: 'stop', logprobs: null }],
    });
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
    expect(fake.requests[0]).toMatchObject({ provider: 'openai', path: '/v1/chat/completions', apiKey: 'k' });
    expect(fake.requests[0].headers.authorization).toBe('Bearer k');
  });

  it('echoes arrays of text parts, so different prompts get different answers', async () => {
    const a = await openai.chat.completions.create({
      model: 'gpt-x', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: [{ type: 'text', text: 'one' }] }],
    });
    const b = await openai.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'two' }] });
    expect(a.choices[0].message.content).toBe('echo: one');
    expect(b.choices[0].message.content).toBe('echo: two');
  });

  it('streams chunks, a finish chunk, then a usage chunk with empty choices', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-x', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream it' }],
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    const pieces = chunks.slice(1).flatMap((c) => c.choices).map((c) => c.delta.content ?? '').filter((t) => t !== '');
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(pieces.join('')).toBe('echo: stream it');
    const finish = chunks.at(-2);
    expect(finish?.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('omits the usage chunk without include_usage and ends with [DONE]', async () => {
    const res = await fetch(`${fake.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-x', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const frames = (await res.text()).trim().split('\n\n');
    expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const last = JSON.parse(frames.at(-2)?.slice(6) ?? '{}') as { choices: { finish_reason: string }[] };
    expect(last.choices[0].finish_reason).toBe('stop');
  });

  it('surfaces a scripted 429 as RateLimitError in the OpenAI error shape', async () => {
    fake.failNext(1, { status: 429, retryAfter: 3 });
    const err: unknown = await openai.chat.completions
      .create({ model: 'gpt-x', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.code).toBe('rate_limit_exceeded');
    expect(rate.error).toMatchObject({ type: 'requests', param: null, code: 'rate_limit_exceeded' });
    expect(rate.headers.get('retry-after')).toBe('3');
  });

  it('spaces stream chunks by the scripted delay', async () => {
    fake.setStreamChunkDelay(40);
    const started = Date.now();
    const stream = await openai.chat.completions.create({ model: 'gpt-x', stream: true, messages: [{ role: 'user', content: 'abc' }] });
    let n = 0;
    for await (const _chunk of stream) n++;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40 * (n - 1) - 10);
  });

  it('rejects a request without a Bearer token in the OpenAI error shape', async () => {
    const res = await fetch(`${fake.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  });
});

describe('fake upstream, scripted answers for the security suite', () => {
  it('respondNext sends exactly the scripted status and body, then answers normally again', async () => {
    fake.respondNext(1, { status: 200, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const scripted = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(scripted.status).toBe(200);
    expect(await scripted.json()).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const msg = await anthropic.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'echo: hi' }]);
  });

  it('setReplyModel makes JSON answers and streams report another model', async () => {
    fake.setReplyModel('reported-model');
    const msg = await anthropic.messages.create({ model: 'asked-model', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.model).toBe('reported-model');
    const streamed = await anthropic.messages.stream({ model: 'asked-model', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(streamed.model).toBe('reported-model');
    fake.setReplyModel(undefined);
    const chat = await openai.chat.completions.create({ model: 'gpt-asked', messages: [{ role: 'user', content: 'x' }] });
    expect(chat.model).toBe('gpt-asked');
  });

  it('stallModel leaves that model\'s calls unanswered until the client aborts; other models answer', async () => {
    fake.stallModel('stuck', true);
    const controller = new AbortController();
    const stuck = fetch(`${fake.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': 'k', 'content-type': 'application/json' }, signal: controller.signal,
      body: JSON.stringify({ model: 'stuck', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    }).catch((e: unknown) => e);
    await waitFor(() => fake.calls === 1, { what: 'the stalled call to arrive' });
    const other = await anthropic.messages.create({ model: 'free', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    expect(other.model).toBe('free');
    controller.abort();
    expect(((await stuck) as { name?: string }).name).toBe('AbortError');
    await waitFor(() => fake.aborted === 1, { what: 'the abort to be seen' });
  });
});
