/**
 * Sampled answers and the cache: by default (TBO_CACHE_SAMPLED=bypass) a request whose answer is
 * sampled (temperature > 0, or unset where the API's default is 1) always gets a fresh answer,
 * and identical sampled requests are not coalesced; temperature 0 is cached. `variants:N` keeps N
 * answers per request and serves them round-robin; `cache` replays one. A request may choose its
 * own policy with `x-tbo-cache-policy`.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const KEY = 'sampling-key-0123456789abc';

let fake: FakeUpstream;
const running: RunningTbo[] = [];
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.close()));
});

/** A service with the deployment default for sampled answers (not the test env's `cache`). */
async function service(policy?: string): Promise<RunningTbo> {
  const env = upstreamEnv(fake.url, { TBO_API_KEYS: `team:${KEY}` });
  if (policy) env.TBO_CACHE_SAMPLED = policy;
  else delete env.TBO_CACHE_SAMPLED;
  const tbo = await startTbo(env);
  running.push(tbo);
  return tbo;
}

const claude = (tbo: RunningTbo, headers: Record<string, string> = {}) => new Anthropic({ apiKey: KEY, baseURL: tbo.url, maxRetries: 0, defaultHeaders: headers });
const gpt = (tbo: RunningTbo) => new OpenAI({ apiKey: KEY, baseURL: `${tbo.url}/v1`, maxRetries: 0 });
const ask = (content: string, temperature?: number) => ({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user' as const, content }], ...(temperature === undefined ? {} : { temperature }) });

async function ids(tbo: RunningTbo, n: number, temperature?: number, headers: Record<string, string> = {}): Promise<{ ids: string[]; cache: (string | null)[] }> {
  const out = { ids: [] as string[], cache: [] as (string | null)[] };
  for (let i = 0; i < n; i++) {
    const { data, response } = await claude(tbo, headers).messages.create(ask('regenerate me', temperature)).withResponse();
    out.ids.push(data.id);
    out.cache.push(response.headers.get('x-tbo-cache'));
  }
  return out;
}

describe('default policy: bypass', () => {
  it('a request without a temperature (the API samples at 1) or at temperature 1 gets a fresh answer every time', async () => {
    const tbo = await service();
    for (const temperature of [undefined, 1]) {
      fake.reset();
      const r = await ids(tbo, 3, temperature);
      expect(new Set(r.ids).size).toBe(3);
      expect(r.cache).toEqual(['bypass', 'bypass', 'bypass']);
      expect(fake.calls).toBe(3);
    }
  });

  it('temperature 0 is deterministic: cached as before', async () => {
    const tbo = await service();
    const r = await ids(tbo, 3, 0);
    expect(new Set(r.ids).size).toBe(1);
    expect(r.cache).toEqual(['miss', 'hit', 'hit']);
    const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'deterministic' }], temperature: 0 };
    await gpt(tbo).chat.completions.create(chat);
    const again = await gpt(tbo).chat.completions.create(chat).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('hit');
  });

  it('identical sampled requests in flight at once are not coalesced into one answer', async () => {
    const tbo = await service();
    fake.setLatency(150);
    const answers = await Promise.all([0, 1, 2].map(() => claude(tbo).messages.create(ask('at once'))));
    expect(new Set(answers.map((a) => a.id)).size).toBe(3);
    expect(fake.calls).toBe(3);
  });
});

describe('variants:N', () => {
  it('keeps N answers per request: the first N requests fill them, later ones get them round-robin', async () => {
    const tbo = await service('variants:3');
    const r = await ids(tbo, 7);
    expect(r.cache).toEqual(['miss', 'miss', 'miss', 'hit', 'hit', 'hit', 'hit']);
    expect(new Set(r.ids).size).toBe(3);
    expect(r.ids.slice(3, 6)).toEqual(r.ids.slice(0, 3));
    expect(r.ids[6]).toBe(r.ids[0]);
    expect(fake.calls).toBe(3);
  });
});

describe('per request: x-tbo-cache-policy', () => {
  it('overrides the deployment policy both ways, and a bad value is a 400 in the API\'s shape', async () => {
    const tbo = await service();
    const cached = await ids(tbo, 2, undefined, { 'x-tbo-cache-policy': 'cache' });
    expect(cached.cache).toEqual(['miss', 'hit']);
    const strict = await service('cache');
    const fresh = await ids(strict, 2, undefined, { 'x-tbo-cache-policy': 'bypass' });
    expect(fresh.cache).toEqual(['bypass', 'bypass']);
    const err = await claude(tbo, { 'x-tbo-cache-policy': 'sometimes' }).messages.create(ask('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toMatch(/x-tbo-cache-policy/);
  });
});
