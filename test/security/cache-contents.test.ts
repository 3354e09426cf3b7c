/**
 * What may come out of, and go into, the cache.
 *
 * Out: an entry in Redis that does not decode, or whose HMAC does not verify (forged, altered, or
 * copied from another deployment), is a miss: never served (JSON or stream), deleted, never
 * refreshed, counted in tbo_cache_rejected_total; a forged usage line cannot inflate
 * tbo_cost_saved_usd_total.
 *
 * In: a fallback model's answer is never stored for the requested model; headers that change the
 * answer are part of the key; a 200 whose body is an error (or not the success shape) is not stored.
 */
import { randomBytes } from 'node:crypto';
import { waitFor } from '../support/ports';
import { redisCli } from '../support/redis';
import {
  ALPHA_KEY, TWO_TENANTS, anthropicSdk, ask, chat, metric, openaiSdk, post, secEnv, startSecured, streamedText, securityFixtures, type SecuredTbo } from './support';

const PREFIX = 'sec';
/** Priced, so a cached answer's usage turns into tbo_cost_saved_usd_total on a hit (USD per 1k tokens). */
const MODEL = 'claude-priced';
const PRICES = JSON.stringify({ [MODEL]: { input: 1, output: 1 }, 'model-sonnet': { input: 1, output: 1 }, 'model-haiku': { input: 0.1, output: 0.1 } });

const fx = securityFixtures({ redis: true });

async function instance(extra: Record<string, string> = {}): Promise<SecuredTbo> {
  const tbo = await startSecured(secEnv(fx.fake.url, { TBO_API_KEYS: TWO_TENANTS, TBO_MODEL_PRICES: PRICES, API_RATE_LIMIT: '0', ...extra }));
  fx.running.push(tbo);
  if (tbo.service.redis) {
    await waitFor(() => tbo.service.redis?.clients.every((c) => c.status === 'ready') ?? false, { timeoutMs: 20_000, what: 'TBO to connect to Redis' });
  }
  return tbo;
}

/** An instance of the deployment under test (shared Redis, prefix `sec`); each new one has an empty memory tier. */
const deployed = (extra: Record<string, string> = {}) => instance({ REDIS_URL: fx.redis.url, TBO_REDIS_KEY_PREFIX: PREFIX, ...extra });

const asAlpha = { 'x-api-key': ALPHA_KEY };
const askAlpha = (tbo: SecuredTbo, prompt: string, stream = false) => post(tbo.url, '/v1/messages', asAlpha, ask(prompt, MODEL, stream));

async function cacheKeys(pattern = '*cache*'): Promise<string[]> {
  return (await redisCli(fx.redis.port, '--scan', '--pattern', pattern)).split('\n').filter(Boolean);
}

/** The one cache key in Redis (after the service stored its answer). */
async function theCacheKey(pattern?: string): Promise<string> {
  let keys: string[] = [];
  await waitFor(async () => (keys = await cacheKeys(pattern)).length === 1, { what: `one cache key (${pattern ?? '*cache*'}) in Redis` });
  return keys[0];
}

const rawGet = async (key: string) => (await redisCli(fx.redis.port, 'GET', key)).replace(/\n$/, '');
const ttl = async (key: string) => Number((await redisCli(fx.redis.port, 'TTL', key)).trim());
const exists = async (key: string) => Number((await redisCli(fx.redis.port, 'EXISTS', key)).trim()) === 1;

/**
 * A forgery of a stored entry: the answer's text replaced and every usage number inflated, signed
 * (when the entry is signed at all) with a MAC the forger made up.
 */
function forge(stored: string, prompt: string): string {
  const lines = stored.split('\n');
  const signed = lines[0].startsWith('tbo1.');
  const facts = signed ? lines[1] : lines[0];
  const answer = (signed ? lines.slice(2) : lines.slice(1)).join('\n');
  const inflated = facts.replace(/(^|[\t:,= ])(\d+)(?=$|[\t,} ])/g, (_m, lead: string) => `${lead}90000000`);
  const body = `${inflated}\n${answer.replace(`echo: ${prompt}`, 'echo: FORGED ANSWER')}`;
  return signed ? `tbo1.${randomBytes(32).toString('hex')}\n${body}` : body;
}

const rejected = (tbo: SecuredTbo, reason: string) => metric(tbo, 'tbo_cache_rejected_total', { reason });
const saved = (tbo: SecuredTbo) => metric(tbo, 'tbo_cost_saved_usd_total');

describe('entries in Redis that do not verify', () => {
  it('garbage under a real key is not served: fresh answers (JSON and stream), the entry deleted and counted (decode)', async () => {
    const a = await deployed();
    expect((await askAlpha(a, 'garbage')).status).toBe(200);
    const key = await theCacheKey();
    await redisCli(fx.redis.port, 'SET', key, 'this is not a cache entry', 'EX', '100');

    const b = await deployed();
    fx.fake.failNext(1, { status: 500 }); // so the fresh call stores nothing: the key's fate is the lookup's
    const failed = await askAlpha(b, 'garbage');
    expect(failed.status).toBe(500); // not the garbage as a 200
    expect(await exists(key)).toBe(false);
    expect(await rejected(b, 'decode')).toBe(1);

    await redisCli(fx.redis.port, 'SET', key, 'this is not a cache entry', 'EX', '100');
    const c = await deployed();
    const json = await askAlpha(c, 'garbage');
    expect(json.status).toBe(200);
    expect(json.headers.get('x-tbo-cache')).toBe('miss');
    expect(json.body).toMatchObject({ content: [{ type: 'text', text: 'echo: garbage' }] });

    await redisCli(fx.redis.port, 'SET', key, 'this is not a cache entry either', 'EX', '100');
    const d = await deployed();
    const streamed = await askAlpha(d, 'garbage', true);
    expect(streamed.status).toBe(200);
    expect(streamedText(streamed.text)).toBe('echo: garbage');
    expect(await rejected(d, 'decode')).toBe(1);
    expect(fx.fake.calls).toBe(4);
  });

  it('a forged entry (made-up MAC, altered answer, inflated usage) is not served, not refreshed, deleted, counted (signature), and saves no cost', async () => {
    const a = await deployed();
    expect((await askAlpha(a, 'forge me')).status).toBe(200);
    const key = await theCacheKey();
    const genuine = await rawGet(key);
    await redisCli(fx.redis.port, 'SET', key, forge(genuine, 'forge me'), 'EX', '100');

    const b = await deployed();
    const savedBefore = await saved(b);
    fx.fake.failNext(1, { status: 500 });
    expect((await askAlpha(b, 'forge me')).status).toBe(500);
    const left = await ttl(key);
    expect(left).toBeLessThanOrEqual(100); // never refreshed (and in fact deleted: -2)
    expect(await exists(key)).toBe(false);
    expect(await rejected(b, 'signature')).toBe(1);

    await redisCli(fx.redis.port, 'SET', key, forge(genuine, 'forge me'), 'EX', '100');
    for (const stream of [false, true]) {
      const c = await deployed();
      const reply = await askAlpha(c, 'forge me', stream);
      expect(reply.status).toBe(200);
      expect(reply.text).not.toContain('FORGED');
      expect(stream ? streamedText(reply.text) : (reply.body.content as { text: string }[])[0].text).toBe('echo: forge me');
      expect(await saved(c)).toBe(savedBefore);
      await redisCli(fx.redis.port, 'SET', key, forge(genuine, 'forge me'), 'EX', '100');
    }
    // The genuine entry still verifies (the check is not just "refuse everything").
    await redisCli(fx.redis.port, 'SET', key, genuine, 'EX', '100');
    const e = await deployed();
    const hit = await askAlpha(e, 'forge me');
    expect(hit.headers.get('x-tbo-cache')).toBe('hit');
    expect(await saved(e)).toBeGreaterThan(0);
    expect(await saved(e)).toBeLessThan(1); // a few tokens at 1 USD per 1k, not 90 million
  });

  it('a forged usage line in the old layout cannot inflate tbo_cost_saved_usd_total', async () => {
    const a = await deployed();
    await askAlpha(a, 'cost attack');
    const key = await theCacheKey();
    const answer = JSON.stringify({ id: 'msg_forged', type: 'message', role: 'assistant', model: MODEL, content: [{ type: 'text', text: 'echo: FORGED ANSWER' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } });
    await redisCli(fx.redis.port, 'SET', key, `anthropic\t${MODEL}\t90000000\t90000000\n${answer}`, 'EX', '100');

    const b = await deployed();
    const before = await saved(b);
    const reply = await askAlpha(b, 'cost attack');
    expect(reply.text).not.toContain('FORGED');
    expect(await saved(b)).toBe(before);
    expect(await rejected(b, 'decode') + (await rejected(b, 'signature'))).toBe(1);
  });

  it('a value copied from another deployment (another signing key) is rejected', async () => {
    const other = await instance({ REDIS_URL: fx.redis.url, TBO_REDIS_KEY_PREFIX: 'other', TBO_CACHE_SIGNING_KEY: 'other-deployment-signing-key-0123456789' });
    const ours = { TBO_CACHE_SIGNING_KEY: 'our-deployment-signing-key-0123456789abc' };
    expect((await askAlpha(other, 'copied')).status).toBe(200);
    const theirKey = await theCacheKey();
    const theirs = await rawGet(theirKey);

    const a = await deployed(ours);
    expect((await askAlpha(a, 'copied')).headers.get('x-tbo-cache')).toBe('miss'); // not theirs
    let key = '';
    await waitFor(async () => (key = (await cacheKeys()).find((k) => k !== theirKey) ?? '') !== '', { what: 'our own cache key' });
    expect(key.startsWith(`${PREFIX}:cache:`)).toBe(true);
    await redisCli(fx.redis.port, 'SET', key, theirs, 'EX', '100');

    const b = await deployed(ours);
    const reply = await askAlpha(b, 'copied');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-tbo-cache')).toBe('miss');
    expect(await rejected(b, 'signature')).toBe(1);
    expect(fx.fake.calls).toBe(3);
  });
});

describe('what goes into the cache', () => {
  it('a fallback answer (haiku while sonnet is down) is not served for a later sonnet request once sonnet recovers', async () => {
    const tbo = await instance({ TBO_MODELS_FAST: 'anthropic:model-haiku', TBO_MODELS_BALANCED: 'anthropic:model-sonnet', TBO_MODELS_STRONGEST: 'anthropic:model-sonnet', TBO_FALLBACK_NAMED: 'true' });
    const sdk = anthropicSdk(tbo.url, ALPHA_KEY);
    fx.fake.failModel('model-sonnet', { status: 529 });
    const during = await sdk.messages.create({ ...ask('while sonnet is down', 'model-sonnet'), stream: false }).withResponse();
    expect(during.data.model).toBe('model-haiku'); // served by the fallback, and the answer says so
    expect(during.response.headers.get('x-tbo-fallback')).toBe('model-sonnet->model-haiku');
    fx.fake.failModel('model-sonnet', undefined);

    for (const stream of [false, true]) {
      const res = await post(tbo.url, '/v1/messages', asAlpha, ask('while sonnet is down', 'model-sonnet', stream));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-tbo-cache')).toBe(stream ? 'hit' : 'miss'); // the second one is sonnet's own, now cached
      if (!stream) expect(res.body.model).toBe('model-sonnet');
      else expect(res.text).toContain('"model":"model-sonnet"');
    }
    expect(fx.fake.requests.map((r) => r.body.model)).toEqual(['model-sonnet', 'model-haiku', 'model-sonnet']);
  });

  it('requests differing only in anthropic-beta, anthropic-version or openai-beta do not share a cache entry (and the headers are forwarded)', async () => {
    const tbo = await instance();
    const cacheOf = (r: { response: Response }) => r.response.headers.get('x-tbo-cache');
    const params = ask('same body, other headers', MODEL);
    const plain = anthropicSdk(tbo.url, ALPHA_KEY);
    const beta = anthropicSdk(tbo.url, ALPHA_KEY, { 'anthropic-beta': 'prompt-caching-2024-07-31' });
    const otherBeta = anthropicSdk(tbo.url, ALPHA_KEY, { 'anthropic-beta': 'output-128k-2025-02-19' });
    const version = anthropicSdk(tbo.url, ALPHA_KEY, { 'anthropic-version': '2099-01-01' });
    expect(cacheOf(await plain.messages.create(params).withResponse())).toBe('miss');
    expect(cacheOf(await beta.messages.create(params).withResponse())).toBe('miss');
    expect(cacheOf(await otherBeta.messages.create(params).withResponse())).toBe('miss');
    expect(cacheOf(await version.messages.create(params).withResponse())).toBe('miss');
    expect(cacheOf(await beta.messages.create(params).withResponse())).toBe('hit'); // same headers: same entry
    const sdkVersion = fx.fake.requests[0].headers['anthropic-version']; // what the SDK sends by default
    expect(fx.fake.requests.map((r) => [r.headers['anthropic-beta'], r.headers['anthropic-version']])).toEqual([
      [undefined, sdkVersion],
      ['prompt-caching-2024-07-31', sdkVersion],
      ['output-128k-2025-02-19', sdkVersion],
      [undefined, '2099-01-01'],
    ]);

    const openaiParams = chat('same body, other openai-beta');
    const o1 = openaiSdk(tbo.url, ALPHA_KEY);
    const o2 = openaiSdk(tbo.url, ALPHA_KEY, { 'OpenAI-Beta': 'assistants=v2' });
    expect(cacheOf(await o1.chat.completions.create(openaiParams).withResponse())).toBe('miss');
    expect(cacheOf(await o2.chat.completions.create(openaiParams).withResponse())).toBe('miss');
    expect(cacheOf(await o2.chat.completions.create(openaiParams).withResponse())).toBe('hit');
    expect(fx.fake.requests.slice(4).map((r) => r.headers['openai-beta'])).toEqual([undefined, 'assistants=v2']);
  });

  it('a 200 whose body is an error object, or not the success shape, is not cached', async () => {
    const tbo = await instance();
    const cases: readonly [string, '/v1/messages' | '/v1/chat/completions', Record<string, unknown>][] = [
      ['anthropic error object', '/v1/messages', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ['anthropic without content array', '/v1/messages', { id: 'msg_1', type: 'message', role: 'assistant', model: MODEL, content: 'not an array' }],
      ['anthropic of another type', '/v1/messages', { type: 'completion', completion: 'hi' }],
      ['openai error object', '/v1/chat/completions', { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } }],
      ['openai without choices', '/v1/chat/completions', { id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-test' }],
    ];
    for (const [what, path, body] of cases) {
      fx.fake.reset();
      const prompt = `200 with ${what}`;
      const request = path === '/v1/messages' ? ask(prompt, MODEL) : chat(prompt);
      const headers = path === '/v1/messages' ? asAlpha : { authorization: `Bearer ${ALPHA_KEY}` };
      fx.fake.respondNext(1, { status: 200, body });
      await post(tbo.url, path, headers, request);
      const second = await post(tbo.url, path, headers, request);
      expect([what, fx.fake.calls, second.status, second.headers.get('x-tbo-cache')]).toEqual([what, 2, 200, 'miss']);
      expect(second.text).toContain(`echo: ${prompt}`);
    }
  });
});
