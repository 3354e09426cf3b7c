/**
 * Replay fidelity (issue 11): an answer served from the cache is the answer the live call gave —
 * every field and event, for each protocol, streamed and not, with tools, thinking, server tools
 * and citations (Anthropic), logprobs, service tier and annotations (OpenAI).
 *
 * "The answer" is what the official SDK makes of it: `stream.finalMessage()` (Anthropic), the SDK's
 * own accumulation of the chunks (`ChatCompletionStream`, OpenAI), the parsed JSON otherwise; and
 * for the wire itself, the SSE events (Anthropic, incl. `ping` and `message_delta`) and the chunks
 * (OpenAI, incl. per-token logprobs and `service_tier`).
 *
 * Live and replay of one upstream answer are compared whole (same ids). Only where a JSON answer
 * assembled from a stream is compared with a JSON answer of another, uncached upstream call
 * (`Cache-Control: no-store`) do ids differ, because they are two generations: see `GENERATION_IDS`.
 *
 * And a streaming client never waits on a non-streamed call for the same request: its first byte
 * arrives while that call is still running.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

type Json = Record<string, unknown>;

/**
 * Fields that differ between two upstream generations of the same request (never between a live
 * answer and its replay): message / completion / tool call ids, the creation second, and the fake's
 * random opaque strings (thinking signature, encrypted search content).
 */
const GENERATION_IDS = new Set(['id', 'tool_use_id', 'created', 'signature', 'encrypted_content', 'encrypted_index']);

/** The JSON a value would be sent as: drops undefined fields and non-enumerable SDK helpers. */
function plain<T>(value: T): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function withoutGenerationIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutGenerationIds);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, GENERATION_IDS.has(k) ? '<generation id>' : withoutGenerationIds(v)]));
}

/** The SSE frames of a response body, parsed: event name (if any) and JSON data. */
async function sseEvents(res: Response): Promise<{ event: string | undefined; data: Json | '[DONE]' }[]> {
  const text = await res.text();
  return text.split(/\n\n/).filter((block) => block.trim() !== '').map((block) => {
    const lines = block.split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    return { event, data: data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Json) };
  });
}

/** Consecutive repeats collapsed: the live stream sends a block's text in several deltas, the replay in one. */
function collapsed(names: readonly (string | undefined)[]): (string | undefined)[] {
  return names.filter((n, i) => i === 0 || n !== names[i - 1]);
}

let fake: FakeUpstream;
let tbo: RunningTbo;
let anthropic: Anthropic;
let openai: OpenAI;
let n = 0;
/** A prompt no other request of this file used: every comparison starts with a miss. */
const fresh = (what: string) => `${what} #${++n}`;

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

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${tbo.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify(body) });
}

describe('Anthropic Messages', () => {
  const weatherTool = {
    name: 'get_weather',
    description: 'Weather for a city',
    input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  };
  // A cached system prompt: the fake then answers with today's full usage (cache tokens, cache_creation, service_tier).
  const system = [{ type: 'text' as const, text: 'You are terse.', cache_control: { type: 'ephemeral' as const } }];
  const scenarios: [string, (prompt: string) => Anthropic.MessageCreateParamsNonStreaming][] = [
    ['tool use, full usage', (p) => ({ model: 'claude-test', max_tokens: 256, system, tools: [weatherTool], messages: [{ role: 'user', content: `please use tool: ${p}` }] })],
    ['thinking', (p) => ({ model: 'claude-test', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: p }] })],
    ['thinking, then tool use', (p) => ({ model: 'claude-test', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [weatherTool], messages: [{ role: 'user', content: `use tool: ${p}` }] })],
    ['web search: server tool use, citations, server_tool_use usage', (p) => ({ model: 'claude-test', max_tokens: 256, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }], messages: [{ role: 'user', content: p }] })],
  ];

  /** `finalMessage()`, without the `parsed_output: null` the SDK adds (its structured-output helper; no wire field). */
  async function streamed(params: Anthropic.MessageCreateParamsNonStreaming): Promise<{ cache: string | null; message: Json }> {
    const stream = anthropic.messages.stream(params);
    const { response } = await stream.withResponse();
    const { parsed_output: _parsed, ...message } = plain(await stream.finalMessage());
    return { cache: response.headers.get('x-tbo-cache'), message };
  }

  async function json(params: Anthropic.MessageCreateParamsNonStreaming, headers: Record<string, string> = {}): Promise<{ cache: string | null; message: Json }> {
    const { data, response } = await anthropic.messages.create(params, { headers }).withResponse();
    return { cache: response.headers.get('x-tbo-cache'), message: plain(data) };
  }

  describe.each(scenarios)('%s', (_name, paramsFor) => {
    it('a live stream, its replay and the JSON answer from it are the same message', async () => {
      const params = paramsFor(fresh('stream first'));
      const live = await streamed(params);
      const replay = await streamed(params);
      const asJson = await json(params);
      expect([live.cache, replay.cache, asJson.cache]).toEqual(['miss', 'hit', 'hit']);
      expect(replay.message).toEqual(live.message);
      expect(asJson.message).toEqual(live.message);
      expect(fake.calls).toBe(1);

      // The JSON answer assembled from the stream has the fields a live JSON answer has (another
      // generation: only its ids differ).
      const uncached = await json(params, { 'cache-control': 'no-store' });
      expect(uncached.cache).toBe('bypass');
      expect(withoutGenerationIds(asJson.message)).toEqual(withoutGenerationIds(uncached.message));
      expect(fake.calls).toBe(2);
    });

    it('a live JSON answer, its replay and the stream replayed from it are the same message', async () => {
      const params = paramsFor(fresh('json first'));
      const live = await json(params);
      const replay = await json(params);
      const asStream = await streamed(params);
      expect([live.cache, replay.cache, asStream.cache]).toEqual(['miss', 'hit', 'hit']);
      expect(replay.message).toEqual(live.message);
      expect(asStream.message).toEqual(live.message);
      expect(fake.calls).toBe(1);
    });

    it('the replayed stream sends the live stream\'s events: ping, the same delta types, the whole message_delta', async () => {
      const body = { ...paramsFor(fresh('raw events')), stream: true };
      const liveRes = await post('/v1/messages', body);
      const replayRes = await post('/v1/messages', body);
      expect([liveRes.headers.get('x-tbo-cache'), replayRes.headers.get('x-tbo-cache')]).toEqual(['miss', 'hit']);
      const live = await sseEvents(liveRes);
      const replay = await sseEvents(replayRes);
      expect(collapsed(replay.map((e) => e.event))).toEqual(collapsed(live.map((e) => e.event)));
      expect(replay.filter((e) => e.event === 'ping')).toHaveLength(1);
      const deltaTypes = (events: typeof live) => [...new Set(events.filter((e) => e.event === 'content_block_delta').map((e) => String(((e.data as Json).delta as Json).type)))];
      expect(deltaTypes(replay)).toEqual(deltaTypes(live));
      const messageDelta = (events: typeof live) => events.find((e) => e.event === 'message_delta')?.data;
      expect(messageDelta(replay)).toEqual(messageDelta(live));
      const started = (events: typeof live) => ((events[0].data as Json).message as Json);
      const { usage: liveUsage, ...liveStart } = started(live);
      const { usage: replayUsage, ...replayStart } = started(replay);
      expect(replayStart).toEqual(liveStart);
      // message_start's usage: every field the live one has, same values, but the output tokens so far
      // (the live stream counted 1, the replay 0); the replay may already hold final counters (server_tool_use).
      expect({ ...(replayUsage as Json), output_tokens: 1 }).toEqual(expect.objectContaining({ ...(liveUsage as Json) }));
      expect(fake.calls).toBe(1);
    });
  });

  it('the fake streams what the scenarios claim (so the comparisons above are not vacuous)', async () => {
    const web = await streamed(scenarios[3][1](fresh('claims')));
    expect((web.message.content as Json[]).map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'text']);
    expect((web.message.content as Json[])[2].citations).toHaveLength(1);
    expect(web.message.usage).toEqual(expect.objectContaining({ server_tool_use: { web_search_requests: 1 }, service_tier: 'standard', cache_read_input_tokens: 0 }));
    const thought = await streamed(scenarios[2][1](fresh('claims')));
    expect((thought.message.content as Json[]).map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect((thought.message.content as Json[])[0].signature).toEqual(expect.stringMatching(/^EqQB/));
    const cached = await streamed(scenarios[0][1](fresh('claims')));
    expect((cached.message.usage as Json).cache_read_input_tokens).toBeGreaterThan(0);
  });
});

describe('OpenAI Chat Completions', () => {
  const tools: OpenAI.ChatCompletionTool[] = [{
    type: 'function',
    function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } },
  }];
  type Params = OpenAI.ChatCompletionCreateParamsNonStreaming;
  // `perToken`: the live stream sends one token per chunk with its logprobs, and so does the replay: the chunks themselves are equal.
  const scenarios: [string, (prompt: string) => Params, boolean][] = [
    ['logprobs (top 2), service tier', (p) => ({ model: 'gpt-test', logprobs: true, top_logprobs: 2, service_tier: 'auto', messages: [{ role: 'user', content: p }] }), true],
    ['annotations (web search), logprobs', (p) => ({ model: 'gpt-test', logprobs: true, web_search_options: {}, messages: [{ role: 'user', content: p }] }), true],
    ['tool calls, service tier, usage details', (p) => ({ model: 'gpt-test', tools, service_tier: 'flex', messages: [{ role: 'user', content: `please use tool: ${p}` }] }), false],
  ];

  interface Streamed {
    readonly cache: string | null;
    readonly chunks: Json[];
    /** What the SDK's ChatCompletionStream accumulates from the chunks. */
    readonly completion: Json;
  }

  async function streamed(params: Params, includeUsage: boolean): Promise<Streamed> {
    const { data, response } = await openai.chat.completions
      .create({ ...params, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) })
      .withResponse();
    const [raw, forSdk] = data.tee();
    const chunks: Json[] = [];
    for await (const chunk of raw) chunks.push(plain(chunk));
    const completion = plain(await ChatCompletionStream.fromReadableStream(forSdk.toReadableStream()).finalChatCompletion());
    return { cache: response.headers.get('x-tbo-cache'), chunks, completion };
  }

  async function json(params: Params, headers: Record<string, string> = {}): Promise<{ cache: string | null; completion: Json }> {
    const { data, response } = await openai.chat.completions.create(params, { headers }).withResponse();
    return { cache: response.headers.get('x-tbo-cache'), completion: plain(data) };
  }

  /** The SDK's accumulation adds `message.parsed: null` (its structured-output helper); a JSON answer has no such field. */
  function asJson(completion: Json): Json {
    const choices = (completion.choices as Json[]).map((c) => {
      const { parsed: _parsed, ...message } = c.message as Json;
      return { ...c, message };
    });
    return { ...completion, choices };
  }

  describe.each(scenarios)('%s', (_name, paramsFor, perToken) => {
    it.each([true, false])('a live stream and its replay are the same chunks and completion (include_usage %s)', async (includeUsage) => {
      const params = paramsFor(fresh('stream'));
      const live = await streamed(params, includeUsage);
      const replay = await streamed(params, includeUsage);
      expect([live.cache, replay.cache]).toEqual(['miss', 'hit']);
      expect(replay.completion).toEqual(live.completion);
      if (perToken) expect(replay.chunks).toEqual(live.chunks);
      // Every chunk carries the top-level fields, as live; the usage chunk only when asked for. (Without
      // per-token logprobs the replay sends a text or a tool call's arguments in one chunk, not in pieces.)
      const tops = (chunks: Json[]) => [...new Set(chunks.map((c) => JSON.stringify([c.service_tier, c.system_fingerprint, c.usage === null ? null : 'usage'])))];
      expect(tops(replay.chunks)).toEqual(tops(live.chunks));
      expect(live.chunks.some((c) => c.usage)).toBe(includeUsage);
      expect(fake.calls).toBe(1);
    });

    it('a JSON answer from a stream is the streamed completion, with a live JSON answer\'s fields', async () => {
      const params = paramsFor(fresh('stream then json'));
      const live = await streamed(params, true);
      const fromCache = await json(params);
      expect([live.cache, fromCache.cache]).toEqual(['miss', 'hit']);
      expect(fromCache.completion).toEqual(asJson(live.completion));
      const uncached = await json(params, { 'cache-control': 'no-store' });
      expect(withoutGenerationIds(fromCache.completion)).toEqual(withoutGenerationIds(uncached.completion));
      expect(fake.calls).toBe(2);
    });

    it('a live JSON answer, its replay and the stream replayed from it are the same completion', async () => {
      const params = paramsFor(fresh('json first'));
      const live = await json(params);
      const replay = await json(params);
      const asStream = await streamed(params, true);
      expect([live.cache, replay.cache, asStream.cache]).toEqual(['miss', 'hit', 'hit']);
      expect(replay.completion).toEqual(live.completion);
      expect(asJson(asStream.completion)).toEqual(live.completion);
      expect(asStream.chunks.at(-1)?.usage).toEqual(live.completion.usage);
      expect(fake.calls).toBe(1);
    });
  });

  it('the fake streams what the scenarios claim (so the comparisons above are not vacuous)', async () => {
    const withLogprobs = await streamed(scenarios[1][1](fresh('claims')), true);
    const choice = (withLogprobs.completion.choices as Json[])[0];
    expect(((choice.logprobs as Json).content as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect((choice.message as Json).annotations).toEqual([expect.objectContaining({ type: 'url_citation' })]);
    expect(withLogprobs.chunks.filter((c) => ((c.choices as Json[])[0]?.logprobs as Json | null)?.content).length).toBeGreaterThanOrEqual(3);
    const tiered = await streamed(scenarios[2][1](fresh('claims')), true);
    expect(tiered.completion).toEqual(expect.objectContaining({ service_tier: 'flex', system_fingerprint: 'fp_fake0001' }));
    expect(((tiered.completion.choices as Json[])[0].message as Json).tool_calls).toEqual([expect.objectContaining({ type: 'function', function: { name: 'get_weather', arguments: expect.stringContaining('"days":42') } })]);
    expect(tiered.completion.usage).toEqual(expect.objectContaining({ completion_tokens_details: expect.objectContaining({ reasoning_tokens: 0 }) }));
  });
});

describe('a streaming client while a non-streamed call for the same request runs', () => {
  const JSON_MS = 2000;
  const requests = {
    anthropic: { path: '/v1/messages', body: (p: string, stream: boolean) => ({ model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: p }], ...(stream ? { stream } : {}) }) },
    openai: { path: '/v1/chat/completions', body: (p: string, stream: boolean) => ({ model: 'gpt-test', messages: [{ role: 'user', content: p }], ...(stream ? { stream } : {}) }) },
  } as const;

  it.each(['anthropic', 'openai'] as const)('%s: gets its first byte before that call finishes, from a streamed call later streams share', async (provider) => {
    const { path, body } = requests[provider];
    const prompt = fresh(`join ${provider} with a longer answer to stream`);
    fake.setJsonLatency(JSON_MS); // a JSON answer arrives once the whole generation is done
    fake.setStreamChunkDelay(100);
    let jsonDone = false;
    const leader = post(path, body(prompt, false)).then(async (r) => {
      const text = await r.text();
      jsonDone = true;
      return { cache: r.headers.get('x-tbo-cache'), text };
    });
    await waitFor(() => fake.calls === 1, { what: 'the non-streamed upstream call' });

    const began = performance.now();
    const streamRes = await post(path, body(prompt, true));
    const reader = (streamRes.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const firstByteMs = performance.now() - began;
    expect(first.done).toBe(false);
    expect(jsonDone).toBe(false);
    expect(firstByteMs).toBeLessThan(JSON_MS);
    expect(streamRes.headers.get('x-tbo-cache')).toBe('miss');

    // A second streaming client joins the streamed call, not the JSON one.
    const follower = await post(path, body(prompt, true));
    expect(follower.headers.get('x-tbo-cache')).toBe('coalesced');
    const followerText = await follower.text();
    const decoder = new TextDecoder();
    let streamText = decoder.decode(first.value, { stream: true });
    for (let r = await reader.read(); !r.done; r = await reader.read()) streamText += decoder.decode(r.value, { stream: true });
    for (const text of [streamText, followerText]) expect(text).toContain(provider === 'anthropic' ? 'event: message_stop' : 'data: [DONE]');

    const json = await leader;
    expect(json.cache).toBe('miss');
    expect(json.text).toContain('echo: join');
    expect(fake.calls).toBe(2);
    expect(fake.requests.map((r) => r.body.stream)).toEqual([undefined, true]);
  });
});
