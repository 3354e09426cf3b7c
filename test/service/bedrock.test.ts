/**
 * Claude on Amazon Bedrock through TBO, end to end and offline: the official Anthropic SDK
 * (unmodified) → TBO in-process with routes on `bedrock:` → a fake Bedrock Runtime that verifies
 * every SigV4 signature, signed with credentials the AWS SDK's standard chain fetched from a fake
 * ECS container-credentials endpoint. Answers are compared with what the same requests get from
 * the public-API fake.
 */
import Anthropic from '@anthropic-ai/sdk';
import { startFakeAwsCredentials, useOnlyContainerCredentials, type FakeAwsCredentials } from '../support/fake-aws-credentials';
import { signedInvoke, startFakeBedrock, type FakeBedrock } from '../support/fake-bedrock';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { ANTHROPIC_KEY, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const HAIKU_3_5 = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const CONTAINER_TOKEN = 'pod-identity-token-0123456789';
/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** Routes for a service with no public-API key: every tier on Bedrock. */
function bedrockEnv(bedrockUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TBO_HOST: '127.0.0.1',
    TBO_PORT: '0',
    TBO_ADMIN_PORT: '0',
    TBO_LOG_LEVEL: 'silent',
    TBO_CONFIG_FILE: '',
    TBO_MAX_RETRIES: '0',
    TBO_CACHE_SAMPLED: 'cache',
    TBO_BEDROCK_ENDPOINT: bedrockUrl,
    TBO_BEDROCK_REGION: 'us-east-1',
    TBO_MODELS_FAST: 'bedrock:claude-haiku-4-5',
    TBO_MODELS_BALANCED: 'bedrock:claude-sonnet-4-5',
    TBO_MODELS_STRONGEST: 'bedrock:claude-opus-4-1',
    ...extra,
  };
}

/** The official SDK pointed at TBO: no retries (calls are counted), no model-deprecation warnings. */
function sdk(tbo: RunningTbo): Anthropic {
  return new Anthropic({ apiKey: 'client-key', baseURL: tbo.url, maxRetries: 0, logLevel: 'error' });
}

let creds: FakeAwsCredentials;
let bedrock: FakeBedrock;
let publicFake: FakeUpstream;
let restoreEnv: () => void;
let viaBedrock: RunningTbo;
let viaPublic: RunningTbo;
let client: Anthropic;
let publicClient: Anthropic;

beforeAll(async () => {
  creds = await startFakeAwsCredentials({ authorizationToken: CONTAINER_TOKEN });
  restoreEnv = useOnlyContainerCredentials(creds, CONTAINER_TOKEN);
  bedrock = await startFakeBedrock({ credentials: (id) => creds.status(id) });
  publicFake = await startFakeUpstream();
  viaBedrock = await startTbo(bedrockEnv(bedrock.url));
  viaPublic = await startTbo(upstreamEnv(publicFake.url, {
    TBO_MODELS_FAST: 'anthropic:claude-haiku-4-5',
    TBO_MODELS_BALANCED: 'anthropic:claude-sonnet-4-5',
    TBO_MODELS_STRONGEST: 'anthropic:claude-opus-4-1',
  }));
  client = sdk(viaBedrock);
  publicClient = sdk(viaPublic);
});
afterAll(async () => {
  await viaBedrock?.close();
  await viaPublic?.close();
  await bedrock?.close();
  await publicFake?.close();
  await creds?.close();
  restoreEnv?.();
});
beforeEach(() => {
  bedrock.reset();
  publicFake.reset();
});

/** Ids (messages, tool calls, thinking signatures) are random and the model is named by each platform its own way. */
function normalized(value: unknown): unknown {
  if (typeof value === 'string') return /^(msg_(bdrk_)?|toolu_|EqQBCkYIBxgCKkA)[0-9a-f]{24}$/.test(value) ? '<id>' : value;
  if (Array.isArray(value)) return value.map(normalized);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'model' ? '<model>' : normalized(v)]));
}

async function streamed(anthropic: Anthropic, params: Anthropic.MessageCreateParamsNonStreaming) {
  const stream = anthropic.messages.stream(params);
  const events: Anthropic.MessageStreamEvent[] = [];
  stream.on('streamEvent', (event) => events.push(event));
  const message = await stream.finalMessage();
  return { message, events, requestId: stream.request_id };
}

const TOOL = { name: 'lookup', description: 'find things', input_schema: { type: 'object' as const, properties: { q: { type: 'string' }, n: { type: 'integer' } } } };

/** One request per feature the brief names: text, tools, thinking, an image. */
const CASES: readonly [string, (tag: string) => Anthropic.MessageCreateParamsNonStreaming][] = [
  ['text with a system prompt', (tag) => ({ model: 'claude-haiku-4-5', max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: `hello ${tag}` }] })],
  ['a tool call', (tag) => ({ model: 'claude-haiku-4-5', max_tokens: 100, tools: [TOOL], messages: [{ role: 'user', content: `please use tool ${tag}` }] })],
  ['thinking', (tag) => ({ model: 'claude-haiku-4-5', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: `think ${tag}` }] })],
  ['an image', (tag) => ({
    model: 'claude-haiku-4-5',
    max_tokens: 100,
    metadata: { user_id: 'user-1' },
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: `describe ${tag}` }] }],
  })],
];

describe('Anthropic SDK → TBO → Bedrock InvokeModel', () => {
  it.each(CASES)('answers %s as the public API does, through the inference profile', async (_name, make) => {
    const params = make('json');
    const { data, response, request_id: requestId } = await client.messages.create(params).withResponse();
    const reference = await publicClient.messages.create(params);
    expect(normalized(data)).toEqual(normalized(reference));
    expect(data.id).toMatch(/^msg_bdrk_/);

    expect(response.headers.get('x-tbo-backend')).toBe('bedrock');
    expect(response.headers.get('x-tbo-model')).toBe(HAIKU);
    expect(bedrock.requests).toHaveLength(1);
    const sent = bedrock.requests[0];
    expect(requestId).toBe(sent.requestId);
    expect(sent).toMatchObject({ operation: 'InvokeModel', modelId: HAIKU, path: `/model/${encodeURIComponent(HAIKU)}/invoke` });
    // The client's body, minus model and stream, plus Bedrock's API version; nothing else changed.
    const { model: _model, ...rest } = params;
    expect(sent.body).toEqual({ anthropic_version: 'bedrock-2023-05-31', ...rest });
    // Signed by the workload's role; neither the client's key nor the (empty) service key goes out.
    expect(sent.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA[0-9A-F]+\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
    expect(sent.accessKeyId).toBe(creds.current.accessKeyId);
    expect(sent.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain('client-key');
  });

  it('passes anthropic-beta as anthropic_beta and fetches credentials with the container token', async () => {
    const params = { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: 'beta please' }] };
    await client.messages.create(params, { headers: { 'anthropic-beta': 'token-efficient-tools-2025-02-19, interleaved-thinking-2025-05-14' } });
    expect(bedrock.requests[0].body.anthropic_beta).toEqual(['token-efficient-tools-2025-02-19', 'interleaved-thinking-2025-05-14']);
    expect(bedrock.requests[0].headers['anthropic-beta']).toBeUndefined();
    expect(creds.fetches).toBeGreaterThanOrEqual(1);
    expect(creds.refused).toBe(0);
  });

  it('serves the second identical call from the cache', async () => {
    const params = { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: 'cache me on bedrock' }] };
    const first = await client.messages.create(params).withResponse();
    const second = await client.messages.create(params).withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(second.response.headers.get('x-tbo-model')).toBe(HAIKU);
    expect(bedrock.requests).toHaveLength(1);
  });

  it('names an unrouted Claude model by its Bedrock id', async () => {
    const { response } = await client.messages.create({ model: 'claude-3-5-haiku-20241022', max_tokens: 20, messages: [{ role: 'user', content: 'old model' }] }).withResponse();
    expect(response.headers.get('x-tbo-model')).toBe(HAIKU_3_5);
    expect(bedrock.requests[0].modelId).toBe(HAIKU_3_5);
  });
});

describe('Anthropic SDK → TBO → Bedrock InvokeModelWithResponseStream', () => {
  it.each(CASES)('streams %s as the public API does: same events, same final message', async (_name, make) => {
    const params = make('stream');
    const live = await streamed(client, params);
    const reference = await streamed(publicClient, params);
    expect(live.events.map((e) => e.type)).toEqual(reference.events.map((e) => e.type));
    expect(normalized(live.events)).toEqual(normalized(reference.events));
    expect(normalized(live.message)).toEqual(normalized(reference.message));
    expect(bedrock.requests).toHaveLength(1);
    expect(bedrock.requests[0]).toMatchObject({ operation: 'InvokeModelWithResponseStream', modelId: HAIKU });
    expect(bedrock.requests[0].body).not.toHaveProperty('stream');
    expect(live.requestId).toBe(bedrock.requests[0].requestId);
  });

  it('sends the Anthropic SSE wire format, without Bedrock\'s invocation metrics', async () => {
    const res = await fetch(`${viaBedrock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'raw sse' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-tbo-backend')).toBe('bedrock');
    const text = await res.text();
    const frames = text.trim().split('\n\n');
    for (const frame of frames) expect(frame).toMatch(/^event: [a-z_]+\ndata: \{.*\}$/);
    expect(frames[0]).toMatch(/^event: message_start\n/);
    expect(frames.at(-1)).toBe('event: message_stop\ndata: {"type":"message_stop"}');
    expect(text).not.toContain('amazon-bedrock');
  });

  it('replays a cached stream, and serves a JSON request for it', async () => {
    const params = { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: 'stream then replay' }] };
    const live = await streamed(client, params);
    const replay = await streamed(client, params);
    expect(replay.message.content).toEqual(live.message.content);
    const plain = await client.messages.create(params).withResponse();
    expect(plain.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(bedrock.requests).toHaveLength(1);
  });
});

describe('Bedrock errors in the Anthropic SDK\'s terms', () => {
  const ask = (content: string, model = 'claude-3-5-haiku') => ({ model, max_tokens: 50, messages: [{ role: 'user' as const, content }] });

  it('ThrottlingException → RateLimitError (429) with retry-after, not cached', async () => {
    bedrock.failNext(1, { code: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' });
    const err = await client.messages.create(ask('throttled')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const rate = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.headers?.get('retry-after')).toBe('1');
    expect(rate.headers?.get('request-id')).toBe(bedrock.requests[0].requestId);
    expect(rate.message).toMatch(/throttling us\.anthropic\.claude-3-5-haiku-20241022-v1:0 in us-east-1 \(ThrottlingException\): Too many requests/);
    const ok = await client.messages.create(ask('throttled')).withResponse();
    expect(ok.response.headers.get('x-tbo-cache')).toBe('miss');
  });

  it('ServiceQuotaExceededException → RateLimitError too', async () => {
    bedrock.failNext(1, { code: 'ServiceQuotaExceededException' });
    await expect(client.messages.create(ask('over quota'))).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('ValidationException → BadRequestError with Bedrock\'s message', async () => {
    bedrock.failNext(1, { code: 'ValidationException', message: 'messages.0.content: text content blocks must be non-empty' });
    const err = await client.messages.create(ask('invalid')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain('messages.0.content: text content blocks must be non-empty');
    expect(JSON.stringify((err as InstanceType<typeof Anthropic.BadRequestError>).error)).toContain('invalid_request_error');
  });

  it('AccessDeniedException → PermissionDeniedError naming the IAM action, the model and what to do', async () => {
    bedrock.denyModel(HAIKU_3_5, true);
    const json = await client.messages.create(ask('denied')).catch((e: unknown) => e);
    expect(json).toBeInstanceOf(Anthropic.PermissionDeniedError);
    const message = (json as Error).message;
    expect(message).toContain(`Amazon Bedrock denied bedrock:InvokeModel on ${HAIKU_3_5} in us-east-1`);
    expect(message).toMatch(/modelAccess/);
    expect(message).toMatch(/Model access/);
    // The role's ARN and the account id stay out of what tenants see.
    expect(message).not.toContain('123456789012');
    expect(message).not.toContain('tbo-task-role');

    const streamedErr = await client.messages.stream(ask('denied stream')).finalMessage().catch((e: unknown) => e);
    expect(streamedErr).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((streamedErr as Error).message).toContain(`denied bedrock:InvokeModelWithResponseStream on ${HAIKU_3_5}`);
  });

  it('ResourceNotFoundException → NotFoundError, ModelNotReady → overloaded (529), ModelTimeout → 504', async () => {
    bedrock.failNext(1, { code: 'ResourceNotFoundException', message: 'This model version has reached the end of its life.' });
    await expect(client.messages.create(ask('gone'))).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    bedrock.failNext(1, { code: 'ModelNotReadyException' });
    const notReady = await client.messages.create(ask('not ready')).catch((e: unknown) => e);
    expect(notReady).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } });
    bedrock.failNext(1, { code: 'ModelTimeoutException' });
    const timeout = await client.messages.create(ask('slow')).catch((e: unknown) => e);
    expect(timeout).toMatchObject({ status: 504, error: { error: { type: 'timeout_error' } } });
    bedrock.failNext(1, { code: 'InternalServerException' });
    await expect(client.messages.create(ask('broken'))).rejects.toBeInstanceOf(Anthropic.InternalServerError);
  });

  it('an exception mid-stream makes the SDK\'s stream raise, and is never cached', async () => {
    bedrock.failNextStream(1, { type: 'modelStreamErrorException', afterChunks: 3, message: 'The model stream failed.' });
    const stream = client.messages.stream(ask('midstream'));
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as Error).message).toMatch(/ModelStreamErrorException\): The model stream failed/);
    const again = await client.messages.create(ask('midstream')).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(bedrock.requests).toHaveLength(2);
  });

  it('an exception before the first chunk is an HTTP error (throttling → 429)', async () => {
    bedrock.failNextStream(1, { type: 'throttlingException', afterChunks: 0 });
    const err = await client.messages.stream(ask('throttled at start')).finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('Bedrock\'s own checks hold: an unknown model is a 400 with Bedrock\'s message', async () => {
    const err = await client.messages.create(ask('nope', 'claude-nonexistent-9')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain('The provided model identifier is invalid.');
    // Unknown names go to Bedrock as they are, through the region's inference profile (TBO_BEDROCK_CROSS_REGION=geo).
    expect(bedrock.requests[0].modelId).toBe('us.claude-nonexistent-9');
  });
});

describe('the cache key holds the backend', () => {
  let mixed: RunningTbo;
  let mixedClient: Anthropic;
  beforeAll(async () => {
    // The same model name on both backends: "auto" picks the tier by complexity.
    mixed = await startTbo(bedrockEnv(bedrock.url, {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: publicFake.url,
      TBO_MODELS_FAST: 'anthropic:claude-haiku-4-5',
      TBO_MODELS_BALANCED: 'bedrock:claude-haiku-4-5',
    }));
    mixedClient = sdk(mixed);
  });
  afterAll(() => mixed.close());

  it('never serves a Bedrock answer to the same request routed to the public API, or the other way', async () => {
    const params = { model: 'auto', max_tokens: 50, messages: [{ role: 'user' as const, content: 'which backend?' }] };
    const onPublic = await mixedClient.messages.create(params, { headers: { 'x-tbo-complexity': '1' } }).withResponse();
    expect(onPublic.response.headers.get('x-tbo-backend')).toBe('anthropic');
    const onBedrock = await mixedClient.messages.create(params, { headers: { 'x-tbo-complexity': '3' } }).withResponse();
    expect(onBedrock.response.headers.get('x-tbo-backend')).toBe('bedrock');
    expect(onBedrock.response.headers.get('x-tbo-cache')).toBe('miss');
    const again = await mixedClient.messages.create(params, { headers: { 'x-tbo-complexity': '3' } }).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(again.data.id).toBe(onBedrock.data.id);
    expect(publicFake.calls).toBe(1);
    expect(bedrock.requests).toHaveLength(1);
  });
});

describe('fallback from Bedrock to the public API', () => {
  let both: RunningTbo;
  let bothClient: Anthropic;
  beforeAll(async () => {
    both = await startTbo(bedrockEnv(bedrock.url, {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: publicFake.url,
      TBO_MODELS_FAST: 'bedrock:claude-haiku-4-5,anthropic:claude-haiku-4-5',
    }));
    bothClient = sdk(both);
  });
  afterAll(() => both.close());

  it('answers from the public API when Bedrock fails with a 5xx, and says so', async () => {
    bedrock.failModel(HAIKU, { code: 'ServiceUnavailableException', message: 'Bedrock is unavailable.' });
    const params = { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: 'fall back' }] };
    const { data, response } = await bothClient.messages.create(params).withResponse();
    expect(data.content).toEqual([{ type: 'text', text: 'echo: fall back' }]);
    expect(response.headers.get('x-tbo-backend')).toBe('anthropic');
    expect(response.headers.get('x-tbo-model')).toBe('claude-haiku-4-5');
    expect(response.headers.get('x-tbo-fallback')).toBe('bedrock:claude-haiku-4-5->anthropic:claude-haiku-4-5');
    expect(bedrock.requests).toHaveLength(1);
    expect(publicFake.calls).toBe(1);
    expect(publicFake.requests[0].apiKey).toBe(ANTHROPIC_KEY);
    bedrock.failModel(HAIKU, undefined);
  });
});

describe('TBO_MODEL_PRICES keyed by the Bedrock model id', () => {
  let priced: RunningTbo;
  beforeAll(async () => {
    priced = await startTbo(bedrockEnv(bedrock.url, {
      TBO_MODEL_PRICES: JSON.stringify({ [HAIKU]: { input: 1, output: 2 }, 'claude-haiku-4-5': { input: 100, output: 100 } }),
    }));
  });
  afterAll(() => priced.close());

  it('prices a Bedrock answer at its model id\'s price', async () => {
    const res = await fetch(`${priced.url}/v1/collaborate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'what does it cost' }], context: { session_id: 'cost', complexity: 1 } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-tbo-model')).toBe(HAIKU);
    const body = (await res.json()) as { usage: { input_tokens: number; output_tokens: number; cost_usd: number } };
    const { input_tokens: input, output_tokens: output, cost_usd: cost } = body.usage;
    expect(input).toBeGreaterThan(0);
    expect(cost).toBeCloseTo((input * 1 + output * 2) / 1000, 10);
    const metrics = await (await fetch(`${priced.adminUrl}/metrics`)).text();
    const spent = /^tbo_cost_usd_total\{provider="bedrock",model="claude-haiku-4-5"\} ([0-9.e-]+)$/m.exec(metrics);
    expect(Number(spent?.[1])).toBeCloseTo(cost, 10);
  });
});

describe('the fake Bedrock verifies signatures', () => {
  const own = () => ({ accessKeyId: creds.current.accessKeyId, secretAccessKey: creds.current.secretAccessKey, sessionToken: creds.current.sessionToken });

  it('accepts a correct signature (the control)', async () => {
    const ok = await signedInvoke(bedrock, HAIKU, own());
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'echo: signed' }] });
  });

  it('rejects a wrong secret, an unknown key, another region or service, and a tampered body', async () => {
    expect(await signedInvoke(bedrock, HAIKU, { ...own(), secretAccessKey: 'not-the-secret' })).toMatchObject({ status: 403, code: 'InvalidSignatureException' });
    expect(await signedInvoke(bedrock, HAIKU, { ...own(), accessKeyId: 'ASIAUNKNOWN000000000' })).toMatchObject({ status: 403, code: 'UnrecognizedClientException' });
    expect(await signedInvoke(bedrock, HAIKU, { ...own(), sessionToken: 'another-session' })).toMatchObject({ status: 403, code: 'UnrecognizedClientException' });
    expect(await signedInvoke(bedrock, HAIKU, own(), { region: 'eu-west-1' })).toMatchObject({ status: 403, code: 'InvalidSignatureException' });
    expect(await signedInvoke(bedrock, HAIKU, own(), { service: 'bedrock-runtime' })).toMatchObject({ status: 403, code: 'InvalidSignatureException' });
    expect(await signedInvoke(bedrock, HAIKU, own(), { tamper: true })).toMatchObject({ status: 403, code: 'InvalidSignatureException' });
    expect(bedrock.rejections).toHaveLength(6);
    expect(bedrock.requests).toHaveLength(0);
  });
});
