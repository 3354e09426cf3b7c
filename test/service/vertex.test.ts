/**
 * Claude and Gemini on Google Vertex AI through TBO, with the workload's own identity: the official
 * SDKs (unmodified, no model API key anywhere) → TBO in-process → a fake Vertex AI that checks the
 * bearer token against a fake GCE metadata server, from which google-auth-library's Application
 * Default Credentials get short-lived tokens (GCE_METADATA_HOST), as on Cloud Run and GKE.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { gaxios } from '../../service/node_modules/google-auth-library';
import { startFakeMetadata, type FakeMetadata } from '../support/fake-gce-metadata';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startFakeVertex, type FakeVertex } from '../support/fake-vertex';
import { freePort, waitFor } from '../support/ports';
import { ANTHROPIC_KEY, OPENAI_KEY, startTbo, type RunningTbo } from '../support/tbo';

const REGION = 'us-east5';
const CONFIGURED_PROJECT = 'tbo-configured-project';
const SONNET = 'claude-sonnet-4-5@20250929';
const GEMINI = 'google/gemini-2.5-flash';
/** Process env google-auth-library and gcp-metadata read; each is set or removed for this file only. */
const ADC_ENV = ['GCE_METADATA_HOST', 'GCE_METADATA_IP', 'METADATA_SERVER_DETECTION', 'GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'GOOGLE_CLOUD_QUOTA_PROJECT', 'CLOUDSDK_CONFIG', 'K_SERVICE', 'CLOUD_RUN_JOB', 'FUNCTION_NAME', 'DEBUG_AUTH'] as const;

let metadata: FakeMetadata;
let vertex: FakeVertex; // expects the metadata server's project
let publicApi: FakeUpstream;
let emptyGcloudConfig: string;
const savedEnv: Partial<Record<string, string>> = {};
const started: RunningTbo[] = [];

/** A TBO whose routes are all on Vertex AI (no ANTHROPIC_API_KEY or OPENAI_API_KEY). */
function vertexEnv(endpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TBO_HOST: '127.0.0.1',
    TBO_PORT: '0',
    TBO_ADMIN_PORT: '0',
    TBO_LOG_LEVEL: 'silent',
    TBO_CONFIG_FILE: '',
    TBO_MAX_RETRIES: '0',
    TBO_CACHE_SAMPLED: 'cache',
    TBO_VERTEX_ENDPOINT: endpoint,
    TBO_VERTEX_REGION: REGION,
    TBO_MODELS_FAST: 'vertex-openai:gemini-2.5-flash,vertex:claude-haiku-4-5',
    TBO_MODELS_BALANCED: 'vertex:claude-sonnet-4-5',
    TBO_MODELS_STRONGEST: 'vertex:claude-opus-4-1',
    ...extra,
  };
}

async function tboWith(env: Record<string, string>): Promise<RunningTbo> {
  const tbo = await startTbo(env);
  started.push(tbo);
  return tbo;
}

const anthropicFor = (tbo: RunningTbo) => new Anthropic({ apiKey: 'client-key-unused', baseURL: tbo.url, maxRetries: 0 });
const openaiFor = (tbo: RunningTbo) => new OpenAI({ apiKey: 'client-key-unused', baseURL: `${tbo.url}/v1`, maxRetries: 0 });

/**
 * An answer without what differs between two calls of the same request: random ids, the model's
 * spelling, timestamps, and the SDK's own `parsed_output` (its stream helper adds it).
 */
function comparable(answer: unknown): unknown {
  const parsed = JSON.parse(JSON.stringify(answer).replace(/msg_vrtx_/g, 'msg_').replace(/[0-9a-f]{24}/g, '<id>')) as Record<string, unknown>;
  const { model: _model, created: _created, parsed_output: _parsed, ...rest } = parsed;
  return rest;
}

beforeAll(async () => {
  for (const name of ADC_ENV) savedEnv[name] = process.env[name];
  for (const name of ADC_ENV) delete process.env[name];
  // No credentials file, no gcloud ADC file (CLOUDSDK_CONFIG is where the library looks first):
  // only the metadata server.
  emptyGcloudConfig = mkdtempSync(join(tmpdir(), 'tbo-gcloud-'));
  // gaxios loads node-fetch with a dynamic import(), which jest's module sandbox cannot run without
  // --experimental-vm-modules: in this file the metadata calls use Node's own fetch instead (the
  // built service, where esbuild bundles node-fetch, is exercised by vertex-dist.test.ts).
  gaxios.instance.defaults.fetchImplementation = fetch;
  process.env.CLOUDSDK_CONFIG = emptyGcloudConfig;
  metadata = await startFakeMetadata({ project: 'tbo-metadata-project' });
  process.env.GCE_METADATA_HOST = metadata.host;
  vertex = await startFakeVertex({ project: metadata.project, location: REGION, isValidToken: (t) => metadata.isValid(t) });
  publicApi = await startFakeUpstream({ validKeys: [ANTHROPIC_KEY, OPENAI_KEY] });
});

afterAll(async () => {
  await Promise.all(started.map((t) => t.close()));
  await Promise.all([metadata.close(), vertex.close(), publicApi.close()]);
  rmSync(emptyGcloudConfig, { recursive: true, force: true });
  for (const name of ADC_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

beforeEach(() => {
  vertex.reset();
  publicApi.reset();
  metadata.setTokenLifetime(301);
});

/** The same request straight to the public-API fake: what the Anthropic API answers. */
const publicAnthropic = () => new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: publicApi.url, maxRetries: 0 });
const publicOpenAi = () => new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${publicApi.url}/v1`, maxRetries: 0 });

describe('Claude on Vertex AI (project from the metadata server)', () => {
  let tbo: RunningTbo;
  let client: Anthropic;
  beforeAll(async () => {
    tbo = await tboWith(vertexEnv(vertex.url));
    client = anthropicFor(tbo);
  });

  it('answers non-streamed as the public API does, over rawPredict with the workload token', async () => {
    const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hello vertex' }] };
    const { data, response, request_id } = await client.messages.create(params).withResponse();
    expect(data.content).toEqual([{ type: 'text', text: 'echo: hello vertex' }]);
    expect(comparable(data)).toEqual(comparable(await publicAnthropic().messages.create(params)));
    expect(data.id).toMatch(/^msg_vrtx_/);
    expect(response.headers.get('x-tbo-backend')).toBe('vertex');
    expect(response.headers.get('x-tbo-model')).toBe(SONNET);
    expect(response.headers.get('x-tbo-cache')).toBe('miss');
    expect(request_id).toMatch(/^req_vrtx_/);

    expect(vertex.requests).toHaveLength(1);
    const call = vertex.requests[0];
    expect(call.path).toBe(`/v1/projects/tbo-metadata-project/locations/${REGION}/publishers/anthropic/models/${SONNET}:rawPredict`);
    expect(call.body.anthropic_version).toBe('vertex-2023-10-16');
    expect(call.body).not.toHaveProperty('model');
    expect(call.body.messages).toEqual(params.messages);
    expect(call.headers['x-api-key']).toBeUndefined();
    expect(metadata.isValid(call.token ?? '')).toBe(true);
    // Tokens were asked for with the cloud-platform scope.
    expect(metadata.tokenRequests.at(-1)?.scopes).toBe('https://www.googleapis.com/auth/cloud-platform');
  });

  it('serves a second identical call from the cache', async () => {
    const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'cache me on vertex' }] };
    const first = await client.messages.create(params).withResponse();
    const second = await client.messages.create(params).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.response.headers.get('x-tbo-backend')).toBe('vertex');
    expect(second.data).toEqual(first.data);
    expect(vertex.calls).toBe(1);
  });

  it('streams text, tools, thinking and images as the public API does, over streamRawPredict', async () => {
    const tool = { name: 'lookup', description: 'find', input_schema: { type: 'object' as const, properties: { q: { type: 'string' }, n: { type: 'integer' } } } };
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const cases: Anthropic.MessageCreateParamsNonStreaming[] = [
      { model: 'claude-sonnet-4-5', max_tokens: 64, system: 'be brief', messages: [{ role: 'user', content: 'stream text please' }] },
      { model: 'claude-sonnet-4-5', max_tokens: 64, tools: [tool], messages: [{ role: 'user', content: 'please use tool now' }] },
      { model: 'claude-sonnet-4-5', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'think it over' }] },
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text: 'describe the picture' }] }],
      },
    ];
    for (const params of cases) {
      vertex.reset();
      const texts: string[] = [];
      const stream = client.messages.stream(params);
      stream.on('text', (t) => texts.push(t));
      const live = await stream.finalMessage();
      const expected = await publicAnthropic().messages.stream(params).finalMessage();
      expect(comparable(live)).toEqual(comparable(expected));
      expect(live.content.length).toBeGreaterThan(0);
      if (live.content.some((b) => b.type === 'text')) expect(texts.length).toBeGreaterThanOrEqual(2);

      expect(vertex.requests).toHaveLength(1);
      const call = vertex.requests[0];
      expect(call.method).toBe('streamRawPredict');
      expect(call.body.stream).toBe(true);
      expect(call.body.anthropic_version).toBe('vertex-2023-10-16');
      expect(call.body.messages).toEqual(params.messages);
      // The same request, not streamed, is the cache's replay of the assembled stream.
      const plain = await client.messages.create(params).withResponse();
      expect(plain.response.headers.get('x-tbo-cache')).toBe('hit');
      expect(comparable(plain.data)).toEqual(comparable(live));
    }
    const toolUse = (await client.messages.create(cases[1])).content.find((b) => b.type === 'tool_use');
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'lookup', input: { q: 'please use tool now', n: 42 } });
  });

  it('forwards anthropic-beta as a header and never an API key', async () => {
    await client.messages.create(
      { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'beta header' }] },
      { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } },
    );
    const call = vertex.requests[0];
    expect(call.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    expect(call.headers['x-api-key']).toBeUndefined();
    expect(call.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
  });

  it('answers a model that is not enabled with 404, and refuses an id that is no Vertex model id', async () => {
    const err = await client.messages.create({ model: 'claude-3-5-haiku', max_tokens: 64, messages: [{ role: 'user', content: 'not enabled' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const message = (err as InstanceType<typeof Anthropic.NotFoundError>).message;
    expect(message).toContain('claude-3-5-haiku@20241022');
    expect(message).toContain(REGION);
    expect(message).toContain('Model Garden');
    expect(vertex.calls).toBe(1);

    const bad = await client.messages.create({ model: 'claude-x/../../../projects/other', max_tokens: 64, messages: [{ role: 'user', content: 'path' }] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.NotFoundError);
    expect((bad as Error).message).toContain('not a Vertex AI Claude model id');
    expect(vertex.calls).toBe(1);
  });

  it('keeps an error Vertex passes in Anthropic\'s shape as it is', async () => {
    vertex.respondNext(1, { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'messages.0.content: unsupported block' } } });
    const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'anthropic shaped' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'messages.0.content: unsupported block' } });
  });

  it('answers a Google 400 as an invalid request in Anthropic\'s shape', async () => {
    vertex.failNext(1, { status: 400, array: true });
    const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'google 400' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (err as InstanceType<typeof Anthropic.BadRequestError>).error as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('Request contains an invalid argument');
  });
});

describe('Gemini on Vertex AI through the OpenAI SDK', () => {
  let tbo: RunningTbo;
  let client: OpenAI;
  beforeAll(async () => {
    tbo = await tboWith(vertexEnv(vertex.url));
    client = openaiFor(tbo);
  });

  it('answers non-streamed as the public API does, over the OpenAI-compatible endpoint', async () => {
    const messages = [{ role: 'user' as const, content: 'hello gemini' }];
    const { data, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages }).withResponse();
    expect(data.choices[0].message.content).toBe('echo: hello gemini');
    expect(data.model).toBe(GEMINI);
    expect(comparable(data)).toEqual(comparable(await publicOpenAi().chat.completions.create({ model: GEMINI, messages })));
    expect(response.headers.get('x-tbo-backend')).toBe('vertex-openai');
    expect(response.headers.get('x-tbo-model')).toBe(GEMINI);

    const call = vertex.requests[0];
    expect(call.path).toBe(`/v1/projects/tbo-metadata-project/locations/${REGION}/endpoints/openapi/chat/completions`);
    expect(call.body.model).toBe(GEMINI);
    expect(call.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(metadata.isValid(call.token ?? '')).toBe(true);
  });

  it('streams with include_usage as the public API does, and replays it from the cache', async () => {
    const messages = [{ role: 'user' as const, content: 'stream gemini' }];
    const collect = async (openai: OpenAI, model: string) => {
      const stream = await openai.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage, chunks };
    };
    const live = await collect(client, 'gemini-2.5-flash');
    expect(live.text).toBe('echo: stream gemini');
    expect(live).toEqual(await collect(publicOpenAi(), GEMINI));
    expect(vertex.requests[0].body.stream).toBe(true);
    expect(vertex.requests[0].body.stream_options).toEqual({ include_usage: true });

    // A replay is re-chunked from the stored answer: the same text and usage.
    const replay = await collect(client, 'gemini-2.5-flash');
    expect({ text: replay.text, usage: replay.usage }).toEqual({ text: live.text, usage: live.usage });
    expect(vertex.calls).toBe(1);
  });

  it('passes a 429 on as the SDK\'s RateLimitError with a retry-after', async () => {
    vertex.failNext(1, { status: 429, array: true });
    const err = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'gemini 429' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimited = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimited.headers.get('retry-after')).toBe('1');
    expect(rateLimited.error).toMatchObject({ code: 'rate_limit_exceeded' });
    expect(rateLimited.message).toContain('Resource exhausted');
  });
});

describe('Vertex AI errors in the client\'s shape', () => {
  let tbo: RunningTbo;
  let client: Anthropic;
  beforeAll(async () => {
    // A TBO of its own: a 429 makes the breaker back off from the model for retry-after.
    tbo = await tboWith(vertexEnv(vertex.url));
    client = anthropicFor(tbo);
  });

  it('answers RESOURCE_EXHAUSTED with the SDK\'s RateLimitError and a retry-after', async () => {
    vertex.failNext(1, { status: 429, retryAfter: 2 });
    const err = await client.messages.create({ model: 'claude-opus-4-1', max_tokens: 64, messages: [{ role: 'user', content: 'rate limited' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimited = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimited.headers?.get('retry-after')).toBe('2');
    expect(rateLimited.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(rateLimited.message).toContain('claude-opus-4-1@20250805');
  });

  it('answers a 429 without retry-after with the documented default of 1 s', async () => {
    vertex.failNext(1, { status: 429, array: true });
    const err = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'rate limited, no advice' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('1');
  });

  it('answers PERMISSION_DENIED with the SDK\'s PermissionDeniedError naming the permission, role, identity and Model Garden', async () => {
    vertex.failNext(1, { status: 403 });
    const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'denied' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    const message = (err as Error).message;
    expect(message).toContain('aiplatform.endpoints.predict');
    expect(message).toContain('roles/aiplatform.user');
    expect(message).toContain('Model Garden');
    expect(message).toContain(metadata.serviceAccount);
    expect(message).toContain(SONNET);
    expect((err as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
  });

  it('says when the Vertex AI API is not enabled, or the model not enabled in Model Garden', async () => {
    const disabled = 'Vertex AI API has not been used in project 123456 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=123456 then retry.';
    vertex.respondNext(1, { status: 403, body: { error: { code: 403, message: disabled, status: 'PERMISSION_DENIED', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com' }] } } });
    const off = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'api disabled' }] }).catch((e: unknown) => e);
    expect(off).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((off as Error).message).toContain('Vertex AI API (aiplatform.googleapis.com) is not enabled in project tbo-metadata-project');

    vertex.respondNext(1, { status: 400, body: [{ error: { code: 400, message: `Project \`123456\` is not allowed to use Publisher Model \`projects/123456/locations/${REGION}/publishers/anthropic/models/${SONNET}\``, status: 'FAILED_PRECONDITION' } }] });
    const garden = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'model not enabled' }] }).catch((e: unknown) => e);
    expect(garden).toBeInstanceOf(Anthropic.BadRequestError);
    expect((garden as Error).message).toContain('must be enabled for the project in Vertex AI Model Garden');
  });

  it('answers a Vertex 5xx with the same status', async () => {
    vertex.failNext(1, { status: 503 });
    const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'unavailable' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect((err as Error).message).toContain('Vertex AI answered 503');
  });
});

describe('access tokens from the metadata server', () => {
  it('caches a token, refreshes it before it expires, and never sends an expired one', async () => {
    const tbo = await tboWith(vertexEnv(vertex.url));
    const client = anthropicFor(tbo);
    metadata.setTokenLifetime(302); // cached for ~2 s: the library refreshes with 5 min left
    const issuedBefore = metadata.tokensIssued;
    const ask = (text: string) => client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: text }] });
    await ask('token one');
    await ask('token two');
    expect(metadata.tokensIssued - issuedBefore).toBe(1);
    const [first, second] = vertex.requests.map((r) => r.token ?? '');
    expect(second).toBe(first);

    // Once the token is within the library's refresh margin, the next call gets a new one.
    const expiry = metadata.expiryOf(first) ?? 0;
    await waitFor(() => Date.now() > expiry - 300_000, { what: 'the token to reach the refresh margin', timeoutMs: 5000 });
    await ask('token three');
    expect(metadata.tokensIssued - issuedBefore).toBe(2);
    const third = vertex.requests[2].token ?? '';
    expect(third).not.toBe(first);
    expect(vertex.unauthenticated).toBe(0); // every call carried a token valid when it arrived
  });

  it('answers a revoked token\'s 401 as an authentication error naming the credentials', async () => {
    const tbo = await tboWith(vertexEnv(vertex.url));
    const client = anthropicFor(tbo);
    metadata.setTokenLifetime(3600);
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'before revocation' }] });
    metadata.revokeAll();
    const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'after revocation' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as Error).message).toContain('Application Default Credentials');
    expect(vertex.unauthenticated).toBe(1);
  });

  it('refuses a token issued with only seconds left instead of sending it', async () => {
    const tbo = await tboWith(vertexEnv(vertex.url));
    metadata.setTokenLifetime(2);
    const err = await anthropicFor(tbo).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'nearly expired' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toContain('Application Default Credentials issued an access token that expires in');
    expect(vertex.calls).toBe(0);
  });
});

describe('TBO_VERTEX_PROJECT', () => {
  it('calls the configured project and does not ask the metadata server for one', async () => {
    const configured = await startFakeVertex({ project: CONFIGURED_PROJECT, location: REGION, isValidToken: (t) => metadata.isValid(t) });
    try {
      const tbo = await tboWith(vertexEnv(configured.url, { TBO_VERTEX_PROJECT: CONFIGURED_PROJECT }));
      metadata.reset();
      const message = await anthropicFor(tbo).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'configured project' }] });
      expect(message.content).toEqual([{ type: 'text', text: 'echo: configured project' }]);
      expect(configured.requests[0].path).toBe(`/v1/projects/${CONFIGURED_PROJECT}/locations/${REGION}/publishers/anthropic/models/${SONNET}:rawPredict`);
      expect(metadata.paths).not.toContain('/computeMetadata/v1/project/project-id');
      expect(metadata.tokensIssued).toBe(1);
      const gemini = await openaiFor(tbo).chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'same token' }] });
      expect(gemini.choices[0].message.content).toBe('echo: same token');
      // Both Vertex backends share one identity and its cached token.
      expect(configured.requests[1].token).toBe(configured.requests[0].token);
      expect(metadata.tokensIssued).toBe(1);
    } finally {
      await configured.close();
    }
  });
});

describe('metadata server unreachable', () => {
  it('answers with a clear 5xx in each API\'s shape naming Application Default Credentials', async () => {
    const tbo = await tboWith(vertexEnv(vertex.url));
    process.env.GCE_METADATA_HOST = `127.0.0.1:${await freePort()}`; // nothing listens there
    try {
      const claude = await anthropicFor(tbo).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'no metadata' }] }).catch((e: unknown) => e);
      expect(claude).toBeInstanceOf(Anthropic.InternalServerError);
      expect((claude as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
      expect((claude as Error).message).toContain('Application Default Credentials');
      expect((claude as Error).message).toContain('ECONNREFUSED');
      expect((claude as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'api_error' } });

      const gemini = await openaiFor(tbo).chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'no metadata' }] }).catch((e: unknown) => e);
      expect(gemini).toBeInstanceOf(OpenAI.InternalServerError);
      expect((gemini as Error).message).toContain('Application Default Credentials');

      // With the project configured, it is the token that cannot be had.
      const configured = anthropicFor(await tboWith(vertexEnv(vertex.url, { TBO_VERTEX_PROJECT: CONFIGURED_PROJECT })));
      const token = await configured.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'no token' }] }).catch((e: unknown) => e);
      expect(token).toBeInstanceOf(Anthropic.InternalServerError);
      expect((token as Error).message).toMatch(/Vertex AI: Application Default Credentials (could not get an access token|found no usable credentials)/);
      expect(vertex.calls).toBe(0);
    } finally {
      process.env.GCE_METADATA_HOST = metadata.host;
    }
    // Back again: the next call finds the credentials (a failed discovery is not kept).
    const after = await anthropicFor(tbo).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'metadata is back' }] });
    expect(after.content).toEqual([{ type: 'text', text: 'echo: metadata is back' }]);
  }, 30_000);
});

describe('Vertex AI next to the public API', () => {
  it('falls back from Vertex to the Anthropic API when Vertex fails', async () => {
    const tbo = await tboWith(vertexEnv(vertex.url, {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: publicApi.url,
      TBO_MODELS_FAST: 'anthropic:claude-haiku-4-5',
      TBO_MODELS_BALANCED: 'vertex:claude-sonnet-4-5,anthropic:claude-sonnet-4-5',
      TBO_MODELS_STRONGEST: 'anthropic:claude-opus-4-1',
    }));
    vertex.failAlways({ status: 500 });
    const { data, response } = await anthropicFor(tbo).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'fall back' }] }).withResponse();
    expect(data.content).toEqual([{ type: 'text', text: 'echo: fall back' }]);
    expect(response.headers.get('x-tbo-backend')).toBe('anthropic');
    expect(response.headers.get('x-tbo-model')).toBe('claude-sonnet-4-5');
    expect(response.headers.get('x-tbo-fallback')).toBe('vertex:claude-sonnet-4-5->anthropic:claude-sonnet-4-5');
    expect(vertex.calls).toBe(1);
    expect(vertex.requests[0].headers['x-api-key']).toBeUndefined();
    expect(publicApi.calls).toBe(1);
    expect(publicApi.requests[0].apiKey).toBe(ANTHROPIC_KEY);
    expect(publicApi.requests[0].body.model).toBe('claude-sonnet-4-5');
  });

  it('caches a Vertex answer and a public-API answer of the same request under different keys', async () => {
    const tbo = await tboWith(vertexEnv(vertex.url, {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: publicApi.url,
      TBO_MODELS_FAST: 'anthropic:claude-sonnet-4-5',
      TBO_MODELS_BALANCED: 'vertex:claude-sonnet-4-5',
      TBO_MODELS_STRONGEST: 'anthropic:claude-opus-4-1',
    }));
    const client = anthropicFor(tbo);
    // The same request ("auto"); its complexity picks the tier: 3 → Vertex, 1 → the public API.
    const ask = (complexity: number) => client.messages.create({ model: 'auto', max_tokens: 64, messages: [{ role: 'user', content: 'same question' }] }, { headers: { 'x-tbo-complexity': String(complexity) } }).withResponse();
    const viaVertex = await ask(3);
    expect([viaVertex.response.headers.get('x-tbo-backend'), viaVertex.response.headers.get('x-tbo-cache')]).toEqual(['vertex', 'miss']);
    const viaPublic = await ask(1);
    expect([viaPublic.response.headers.get('x-tbo-backend'), viaPublic.response.headers.get('x-tbo-cache')]).toEqual(['anthropic', 'miss']);
    const vertexAgain = await ask(3);
    expect([vertexAgain.response.headers.get('x-tbo-backend'), vertexAgain.response.headers.get('x-tbo-cache')]).toEqual(['vertex', 'hit']);
    expect(vertexAgain.data).toEqual(viaVertex.data);
    const publicAgain = await ask(1);
    expect([publicAgain.response.headers.get('x-tbo-backend'), publicAgain.response.headers.get('x-tbo-cache')]).toEqual(['anthropic', 'hit']);
    expect(publicAgain.data).toEqual(viaPublic.data);
    expect([vertex.calls, publicApi.calls]).toEqual([1, 1]);
  });
});
