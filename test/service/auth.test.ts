/**
 * Client authentication as SDK users see it: TBO API keys and HS256 JWTs in the places the official
 * SDKs put their key, the tenant they resolve to (cache isolation, rate limits), and the service's
 * own upstream keys never showing up in anything a client receives.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { ANTHROPIC_KEY, OPENAI_KEY, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const ACME_KEY = 'acme-key-0123456789abcdef';
const GLOBEX_KEY = 'globex-key-0123456789abcdef';
const API_KEYS = `acme:${ACME_KEY},globex:${GLOBEX_KEY}`;
const JWT_SECRET = 'tbo-test-jwt-secret-0123456789-abcdefghijkl';

let fake: FakeUpstream;
let tbo: RunningTbo;
let limited: RunningTbo;

beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startTbo(upstreamEnv(fake.url, { TBO_API_KEYS: API_KEYS, JWT_SECRET_KEY: JWT_SECRET }));
  limited = await startTbo(upstreamEnv(fake.url, { TBO_API_KEYS: API_KEYS, API_RATE_LIMIT: '5' }));
});
afterAll(async () => {
  await tbo?.close();
  await limited?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

// ---------------------------------------------------------------------------------------------
// Clients and tokens.

/** The Anthropic SDK as configured by the README: `apiKey` (which 1.14 sends as Authorization: Bearer). */
const anthropicSdk = (baseURL: string, apiKey: string) => new Anthropic({ apiKey, baseURL, maxRetries: 0 });
/** The Anthropic SDK sending the key in `x-api-key`, as the public API expects it. */
const anthropicSdkXApiKey = (baseURL: string, key: string) =>
  new Anthropic({ apiKey: null, authToken: null, baseURL, maxRetries: 0, defaultHeaders: { 'x-api-key': key } });
const openaiSdk = (baseURL: string, apiKey: string) => new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 });

const ask = (content: string) => ({ model: 'claude-test', max_tokens: 32, messages: [{ role: 'user' as const, content }] });
const chat = (content: string) => ({ model: 'gpt-test', messages: [{ role: 'user' as const, content }] });

interface RawReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
  /** Status line, every header and the body, for leak checks. */
  readonly everything: string;
}

async function post(baseUrl: string, path: '/v1/messages' | '/v1/chat/completions', headers: Record<string, string>, body: unknown): Promise<RawReply> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(text) as Record<string, unknown>,
    everything: `${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`,
  };
}

function errorOf(reply: RawReply): Record<string, unknown> {
  const error = reply.body.error;
  if (typeof error !== 'object' || error === null) throw new Error(`no error object in ${reply.everything}`);
  return error as Record<string, unknown>;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A compact JWS. HS* signs with HMAC over `secret`; `none` has an empty signature. */
function jwt(payload: Record<string, unknown>, opts: { alg?: string; secret?: string } = {}): string {
  const alg = opts.alg ?? 'HS256';
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  if (alg === 'none') return `${input}.`;
  const hash = alg === 'HS512' ? 'sha512' : 'sha256';
  return `${input}.${createHmac(hash, opts.secret ?? JWT_SECRET).update(input).digest('base64url')}`;
}

function rs256(payload: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
}

const validFor = (claims: Record<string, unknown>) => ({ exp: nowSeconds() + 300, iat: nowSeconds(), ...claims });

// ---------------------------------------------------------------------------------------------

describe('TBO API keys', () => {
  it('accept the key wherever the SDKs put it: x-api-key, Authorization: Bearer (any case)', async () => {
    const viaBearer = await anthropicSdk(tbo.url, ACME_KEY).messages.create(ask('key via bearer'));
    expect(viaBearer.content).toEqual([{ type: 'text', text: 'echo: key via bearer' }]);

    const viaHeader = await anthropicSdkXApiKey(tbo.url, ACME_KEY).messages.create(ask('key via x-api-key sdk'));
    expect(viaHeader.content).toEqual([{ type: 'text', text: 'echo: key via x-api-key sdk' }]);

    const raw = await post(tbo.url, '/v1/messages', { 'x-api-key': ACME_KEY, 'anthropic-version': '2023-06-01' }, ask('key via raw x-api-key'));
    expect(raw.status).toBe(200);

    const completion = await openaiSdk(tbo.url, GLOBEX_KEY).chat.completions.create(chat('key via openai'));
    expect(completion.choices[0].message.content).toBe('echo: key via openai');

    // RFC 7235: the auth scheme is case-insensitive.
    const lower = await post(tbo.url, '/v1/chat/completions', { authorization: `bearer ${GLOBEX_KEY}` }, chat('lower-case scheme'));
    expect(lower.status).toBe(200);

    // The client's TBO key is never forwarded: the upstream sees only the service's own keys.
    expect(fake.calls).toBe(5);
    for (const request of fake.requests) {
      expect(request.apiKey).toBe(request.provider === 'anthropic' ? ANTHROPIC_KEY : OPENAI_KEY);
      const headers = JSON.stringify(request.headers);
      expect(headers).not.toContain(ACME_KEY);
      expect(headers).not.toContain(GLOBEX_KEY);
    }
  });

  it('reject a wrong key as the SDKs\' AuthenticationError, in each API\'s shape, without calling upstream', async () => {
    const wrong = 'wrong-key-0123456789abcdef';
    await expect(anthropicSdk(tbo.url, wrong).messages.create(ask('x'))).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(anthropicSdkXApiKey(tbo.url, wrong).messages.create(ask('x'))).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(openaiSdk(tbo.url, wrong).chat.completions.create(chat('x'))).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const anthropicReply = await post(tbo.url, '/v1/messages', { 'x-api-key': wrong }, ask('x'));
    expect(anthropicReply.status).toBe(401);
    expect(anthropicReply.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const openaiReply = await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${wrong}` }, chat('x'));
    expect(openaiReply.status).toBe(401);
    expect(openaiReply.body).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect(fake.calls).toBe(0);
  });
});

describe('JWTs (HS256, JWT_SECRET_KEY)', () => {
  it('accept a valid token with a tenant claim, in Authorization: Bearer and in x-api-key', async () => {
    const token = jwt(validFor({ tenant: 'jwt-tenant' }));
    const completion = await openaiSdk(tbo.url, token).chat.completions.create(chat('jwt tenant claim'));
    expect(completion.choices[0].message.content).toBe('echo: jwt tenant claim');
    const message = await anthropicSdk(tbo.url, token).messages.create(ask('jwt via bearer'));
    expect(message.content).toEqual([{ type: 'text', text: 'echo: jwt via bearer' }]);
    const raw = await post(tbo.url, '/v1/messages', { 'x-api-key': token }, ask('jwt via x-api-key'));
    expect(raw.status).toBe(200);
    expect(fake.requests.map((r) => r.apiKey)).toEqual([OPENAI_KEY, ANTHROPIC_KEY, ANTHROPIC_KEY]);
  });

  it('accept a valid token with a user_id claim beside its tenant (the end user within the tenant)', async () => {
    const token = jwt(validFor({ tenant: 'jwt-tenant', user_id: 'user-42' }));
    const completion = await openaiSdk(tbo.url, token).chat.completions.create(chat('jwt user_id claim'));
    expect(completion.choices[0].message.content).toBe('echo: jwt user_id claim');
  });

  const rejected: readonly (readonly [string, () => string, RegExp])[] = [
    ['an expired token', () => jwt({ tenant: 'acme', iat: nowSeconds() - 120, exp: nowSeconds() - 60 }), /expired/],
    ['a token without exp', () => jwt({ tenant: 'acme', iat: nowSeconds() }), /invalid token/],
    ['an alg: none token', () => jwt(validFor({ tenant: 'acme' }), { alg: 'none' }), /invalid token/],
    ['a token signed with another secret', () => jwt(validFor({ tenant: 'acme' }), { secret: 'some-other-secret-0123456789-abcdefghijkl' }), /invalid token/],
    ['an RS256-labelled token with an HMAC signature', () => jwt(validFor({ tenant: 'acme' }), { alg: 'RS256' }), /invalid token/],
    ['an RS256 token signed with an RSA key', () => rs256(validFor({ tenant: 'acme' })), /invalid token/],
    ['an HS512 token signed with the right secret', () => jwt(validFor({ tenant: 'acme' }), { alg: 'HS512' }), /invalid token/],
    ['a token not valid before next hour', () => jwt(validFor({ tenant: 'acme', nbf: nowSeconds() + 3600 })), /invalid token/],
    ['a token with neither tenant nor user_id', () => jwt(validFor({ sub: 'acme' })), /tenant/],
    ['a token with a user_id but no tenant (a user is not a tenant)', () => jwt(validFor({ user_id: 'acme' })), /tenant/],
    ['a token whose tenant has unsafe characters', () => jwt(validFor({ tenant: 'acme\nadmin' })), /tenant/],
    ['a valid token with its payload swapped', () => {
      const [header, , signature] = jwt(validFor({ tenant: 'acme' })).split('.');
      return `${header}.${b64url(JSON.stringify(validFor({ tenant: 'globex' })))}.${signature}`;
    }, /invalid token/],
  ];

  it.each(rejected)('reject %s with 401 (SDK AuthenticationError, both shapes)', async (_what, make, why) => {
    const token = make();
    const err = await openaiSdk(tbo.url, token).chat.completions.create(chat('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toMatch(why);

    const reply = await post(tbo.url, '/v1/messages', { 'x-api-key': token }, ask('x'));
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(String(errorOf(reply).message)).toMatch(why);
    expect(fake.calls).toBe(0);
  });
});

describe('tenant isolation', () => {
  const status = (r: { response: Response }) => r.response.headers.get('x-tbo-cache');

  it('a cached answer of one tenant is a miss for another; the tenant comes from the key or the token claims', async () => {
    const acme = anthropicSdk(tbo.url, ACME_KEY);
    const globex = anthropicSdk(tbo.url, GLOBEX_KEY);
    const params = ask('tenant isolation');

    expect(status(await acme.messages.create(params).withResponse())).toBe('miss');
    expect(status(await globex.messages.create(params).withResponse())).toBe('miss');
    expect(status(await globex.messages.create(params).withResponse())).toBe('hit');
    expect(status(await acme.messages.create(params).withResponse())).toBe('hit');
    expect(fake.calls).toBe(2);

    // JWT tenants live in their own namespace: a token whose claim names an API-key tenant is not
    // that tenant; tokens of one JWT tenant share their cache.
    const asAcme = anthropicSdk(tbo.url, jwt(validFor({ tenant: 'acme' })));
    const asAcmeAgain = anthropicSdk(tbo.url, jwt(validFor({ tenant: 'acme', user_id: 'someone-else' })));
    expect(status(await asAcme.messages.create(params).withResponse())).toBe('miss');
    expect(status(await asAcmeAgain.messages.create(params).withResponse())).toBe('hit');
    expect(fake.calls).toBe(3);
  });

  it('isolates tenants on Chat Completions too, streams included', async () => {
    const params = chat('tenant isolation openai');
    const first = await openaiSdk(tbo.url, ACME_KEY).chat.completions.create(params).withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    const other = await openaiSdk(tbo.url, GLOBEX_KEY).chat.completions.create({ ...params, stream: true }).withResponse();
    expect(other.response.headers.get('x-tbo-cache')).toBe('miss');
    let text = '';
    for await (const chunk of other.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('echo: tenant isolation openai');
    expect(fake.calls).toBe(2);
  });
});

describe('per-tenant rate limit (API_RATE_LIMIT=5)', () => {
  it('answers the 6th request of a tenant with 429 and Retry-After in the caller\'s shape, other tenants unaffected', async () => {
    const acme = anthropicSdk(limited.url, ACME_KEY);
    for (let i = 0; i < 5; i++) await acme.messages.create(ask('within the limit'));

    const err = await acme.messages.create(ask('over the limit')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const retryAfter = (err as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);

    const anthropicReply = await post(limited.url, '/v1/messages', { 'x-api-key': ACME_KEY }, ask('over the limit'));
    expect(anthropicReply.status).toBe(429);
    expect(anthropicReply.body).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringMatching(/rate limit/) }, request_id: anthropicReply.headers.get('x-request-id') });
    expect(Number(anthropicReply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const openaiErr = await openaiSdk(limited.url, ACME_KEY).chat.completions.create(chat('over the limit')).catch((e: unknown) => e);
    expect(openaiErr).toBeInstanceOf(OpenAI.RateLimitError);
    const openaiReply = await post(limited.url, '/v1/chat/completions', { authorization: `Bearer ${ACME_KEY}` }, chat('over the limit'));
    expect(openaiReply.status).toBe(429);
    expect(openaiReply.body).toEqual({ error: { message: expect.stringMatching(/rate limit/), type: 'requests', param: null, code: 'rate_limit_exceeded' } });
    expect(openaiReply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);

    // Only the first acme request reached the upstream; the other four were cache hits.
    expect(fake.calls).toBe(1);

    // Globex has its own budget.
    const globex = anthropicSdk(limited.url, GLOBEX_KEY);
    for (let i = 0; i < 5; i++) await expect(globex.messages.create(ask('globex within its limit'))).resolves.toBeDefined();
    await expect(globex.messages.create(ask('globex over'))).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });
});

describe('the service\'s upstream keys', () => {
  const sentinels = [ANTHROPIC_KEY, OPENAI_KEY, 'SENTINEL'];
  const expectNoKeys = (text: string) => {
    for (const secret of sentinels) expect(text).not.toContain(secret);
  };

  it('never appear in a response: success, stream, TBO errors, upstream errors', async () => {
    const replies: RawReply[] = [];
    replies.push(await post(tbo.url, '/v1/messages', { 'x-api-key': ACME_KEY }, ask('leak check')));
    replies.push(await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${ACME_KEY}` }, chat('leak check')));
    replies.push(await post(tbo.url, '/v1/messages', { 'x-api-key': 'wrong-key-0123456789abcdef' }, ask('leak check')));
    replies.push(await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${ACME_KEY}` }, { model: 'gpt-test', messages: [] }));
    fake.failNext(1, { status: 429, retryAfter: 3 });
    replies.push(await post(tbo.url, '/v1/messages', { 'x-api-key': ACME_KEY }, ask('leak check 429')));
    fake.failNext(1, { status: 500 });
    replies.push(await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${ACME_KEY}` }, chat('leak check 500')));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 401, 400, 429, 500]);
    for (const reply of replies) expectNoKeys(reply.everything);

    const stream = await fetch(`${tbo.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ACME_KEY },
      body: JSON.stringify({ ...ask('leak check stream'), stream: true }),
    });
    expect(stream.status).toBe(200);
    expectNoKeys(`${[...stream.headers].join('\n')}\n${await stream.text()}`);
  });

  it('are named, not shown, when the upstream rejects them (401)', async () => {
    fake.failNext(1, { status: 401 });
    const err = await anthropicSdk(tbo.url, ACME_KEY).messages.create(ask('upstream 401')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as Error).message).toMatch(/ANTHROPIC_API_KEY/);
    expectNoKeys(`${(err as Error).message}\n${JSON.stringify((err as InstanceType<typeof Anthropic.APIError>).error)}`);

    fake.failNext(1, { status: 401 });
    const openaiErr = await openaiSdk(tbo.url, ACME_KEY).chat.completions.create(chat('upstream 401')).catch((e: unknown) => e);
    expect(openaiErr).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((openaiErr as Error).message).toMatch(/OPENAI_API_KEY/);

    fake.failNext(1, { status: 401 });
    const raw = await post(tbo.url, '/v1/messages', { 'x-api-key': ACME_KEY }, ask('upstream 401 raw'));
    expect(raw.status).toBe(401);
    expect(String(errorOf(raw).message)).toMatch(/ANTHROPIC_API_KEY/);
    expectNoKeys(raw.everything);

    fake.failNext(1, { status: 401 });
    const rawOpenAi = await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${ACME_KEY}` }, chat('upstream 401 raw'));
    expect(rawOpenAi.status).toBe(401);
    expect(String(errorOf(rawOpenAi).message)).toMatch(/OPENAI_API_KEY/);
    expectNoKeys(rawOpenAi.everything);

    fake.failNext(1, { status: 401 });
    const streamErr = await anthropicSdk(tbo.url, ACME_KEY).messages.stream(ask('upstream 401 stream')).finalMessage().catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((streamErr as Error).message).toMatch(/ANTHROPIC_API_KEY/);
    expectNoKeys((streamErr as Error).message);
    expect(fake.calls).toBe(5);
  });
});
