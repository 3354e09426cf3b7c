/**
 * The endpoints real applications call besides messages and chat completions, each through the
 * official SDK method: the model lists of both SDKs (fetched from the caller's provider, kept
 * 60 s and shared by tenants, filtered by the allow-list, paginated for Anthropic), Anthropic token
 * counting, OpenAI embeddings (base64 by default, decoded by the SDK) and moderations, cached and
 * coalesced per tenant like chat answers; anything else under /v1/ is a 404 in the API's shape.
 */
import type { IncomingMessage } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { HttpUpstream } from '../../service/src/adapters/upstream/http-upstream';
import type { Upstream, UpstreamRequest } from '../../service/src/adapters/upstream/types';
import { FakeClock } from '../support/fake-clock';
import { DEFAULT_FAKE_MODELS, FAKE_EMBEDDING_DIMENSIONS, fakeEmbedding } from '../support/fake-endpoints';
import { promptTokens } from '../support/fake-text';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { ANTHROPIC_KEY, OPENAI_KEY, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const ALPHA_KEY = 'alpha-key-0123456789abcdef';
const BETA_KEY = 'beta-key-0123456789abcdef';
const TENANTS = { TBO_API_KEYS: `alpha:${ALPHA_KEY},beta:${BETA_KEY}` };

let fake: FakeUpstream;
let tbo: RunningTbo;
/** Services a test started for itself; closed after it. */
const extra: RunningTbo[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startTbo(upstreamEnv(fake.url, TENANTS));
});
afterAll(async () => {
  await tbo?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());
afterEach(async () => {
  await Promise.all(extra.splice(0).map((t) => t.close()));
});

/** A service of this test's own (model lists are kept per service for 60 s). */
async function ownTbo(env: Record<string, string> = {}, deps: Parameters<typeof startTbo>[1] = {}): Promise<RunningTbo> {
  const started = await startTbo(upstreamEnv(fake.url, { ...TENANTS, ...env }), deps);
  extra.push(started);
  return started;
}

const claude = (url = tbo.url, key = ALPHA_KEY) => new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0 });
const gpt = (url = tbo.url, key = ALPHA_KEY) => new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
const upstreamCalls = (path: string) => fake.requests.filter((r) => r.path === path);

async function allIds(pages: AsyncIterable<{ id: string }>): Promise<string[]> {
  const ids: string[] = [];
  for await (const model of pages) ids.push(model.id);
  return ids;
}

describe('GET /v1/models (Anthropic SDK)', () => {
  it('lists the upstream models, fetched once with the service key and shared by tenants', async () => {
    const own = await ownTbo();
    const first = await claude(own.url).models.list().withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(first.data.data.map((m) => m.id)).toEqual(DEFAULT_FAKE_MODELS.anthropic);
    expect(first.data.data[0]).toMatchObject({ type: 'model', id: 'claude-opus-4-1-20250805', display_name: expect.any(String) });

    const other = await claude(own.url, BETA_KEY).models.list().withResponse();
    expect(other.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(other.data.data).toEqual(first.data.data);

    const calls = upstreamCalls('/v1/models');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'anthropic', method: 'GET', apiKey: ANTHROPIC_KEY });
    expect(calls[0].headers['anthropic-version']).toBeDefined();
  });

  it('paginates as the API does: limit, after_id (the SDK\'s auto-pagination), before_id, lifecycle', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `claude-page-${String(i).padStart(2, '0')}`);
    fake.setModels('anthropic', ids);
    const own = await ownTbo();
    const client = claude(own.url);

    const page = await client.models.list({ limit: 10 });
    expect(page.data.map((m) => m.id)).toEqual(ids.slice(0, 10));
    expect(page.has_more).toBe(true);
    expect(page.last_id).toBe(ids[9]);
    expect(await allIds(client.models.list({ limit: 10 }))).toEqual(ids);

    const back = await client.models.list({ before_id: ids[12], limit: 5 });
    expect(back.data.map((m) => m.id)).toEqual(ids.slice(7, 12));
    expect(back.has_more).toBe(true);
    expect((await client.models.list({ after_id: ids[22], limit: 5 })).data.map((m) => m.id)).toEqual(ids.slice(23));
    expect((await client.models.list({ after_id: 'claude-unknown' })).data).toEqual([]);
    expect((await client.models.list({ lifecycle: ['active'], limit: 3 })).data.map((m) => m.id)).toEqual(ids.slice(0, 3));
    expect((await client.models.list({ lifecycle: ['retired'] })).data).toEqual([]);

    const badLimit = await client.models.list({ limit: 0 }).catch((e: unknown) => e);
    expect(badLimit).toBeInstanceOf(Anthropic.BadRequestError);
    expect((badLimit as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    await expect(client.models.list({ after_id: ids[1], before_id: ids[5] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(upstreamCalls('/v1/models')).toHaveLength(1);
  });

  it('follows the upstream\'s own pages when it lists more than one', async () => {
    const ids = Array.from({ length: 1005 }, (_, i) => `claude-many-${i}`);
    fake.setModels('anthropic', ids);
    const own = await ownTbo();
    expect(await allIds(claude(own.url).models.list({ limit: 1000 }))).toEqual(ids);
    expect(upstreamCalls('/v1/models')).toHaveLength(2);
  });

  it('models.retrieve(id): from the list, an alias from the upstream, an unknown id as 404', async () => {
    const own = await ownTbo();
    const client = claude(own.url);
    const listed = await client.models.retrieve('claude-sonnet-4-5-20250929').withResponse();
    expect(listed.data).toMatchObject({ type: 'model', id: 'claude-sonnet-4-5-20250929' });
    expect(listed.response.headers.get('x-tbo-cache')).toBe('miss'); // the list was fetched for it
    expect((await client.models.retrieve('claude-test').withResponse()).response.headers.get('x-tbo-cache')).toBe('hit');

    const alias = await client.models.retrieve('claude-haiku-4-5');
    expect(alias.id).toBe('claude-haiku-4-5-20251001');
    expect(upstreamCalls('/v1/models/claude-haiku-4-5')).toHaveLength(1);

    const missing = await client.models.retrieve('claude-nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(upstreamCalls('/v1/models')).toHaveLength(1);
  });

  it('keeps a list 60 s, then fetches it again', async () => {
    const clock = new FakeClock();
    const own = await ownTbo({}, { clock });
    const cacheOf = async () => (await claude(own.url).models.list().withResponse()).response.headers.get('x-tbo-cache');
    expect(await cacheOf()).toBe('miss');
    clock.advance(59_000);
    expect(await cacheOf()).toBe('hit');
    clock.advance(1_000);
    expect(await cacheOf()).toBe('miss');
    expect(upstreamCalls('/v1/models')).toHaveLength(2);
  });

  it('keeps no failed fetch: the error passes in the API\'s shape and the next call fetches again', async () => {
    const own = await ownTbo();
    fake.failNext(1, { status: 500 });
    await expect(claude(own.url).models.list()).rejects.toBeInstanceOf(Anthropic.InternalServerError);
    const again = await claude(own.url).models.list().withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(again.data.data).toHaveLength(DEFAULT_FAKE_MODELS.anthropic.length);
  });
});

describe('GET /v1/models (OpenAI SDK)', () => {
  it('lists and retrieves the OpenAI upstream\'s models, apart from the Anthropic list', async () => {
    const own = await ownTbo();
    const first = await gpt(own.url).models.list().withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(first.data.data.map((m) => m.id)).toEqual(DEFAULT_FAKE_MODELS.openai);
    expect(first.data.data[0]).toEqual({ id: 'gpt-4.1', object: 'model', created: expect.any(Number), owned_by: 'system' });
    expect(await allIds(gpt(own.url, BETA_KEY).models.list())).toEqual(DEFAULT_FAKE_MODELS.openai);

    const model = await gpt(own.url).models.retrieve('gpt-4o').withResponse();
    expect(model.data).toMatchObject({ id: 'gpt-4o', object: 'model' });
    expect(model.response.headers.get('x-tbo-cache')).toBe('hit');
    const missing = await gpt(own.url).models.retrieve('gpt-nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');

    const calls = upstreamCalls('/v1/models');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'openai', method: 'GET', apiKey: OPENAI_KEY });
    expect(calls[0].headers['anthropic-version']).toBeUndefined();
    // The Anthropic SDK on the same path gets the Anthropic list.
    expect((await claude(own.url).models.list()).data.map((m) => m.id)).toEqual(DEFAULT_FAKE_MODELS.anthropic);
  });
});

describe('TBO_MODELS_ALLOWED', () => {
  const ALLOWED = {
    TBO_MODELS_ALLOWED: 'claude-sonnet-4-5-20250929,gpt-4o,text-embedding-3-small',
    TBO_MODELS_FAST: 'anthropic:claude-haiku-4-5',
    TBO_MODELS_BALANCED: 'openai:gpt-4o-mini',
    TBO_MODELS_STRONGEST: 'anthropic:claude-opus-4-1',
  };

  it('lists only the models clients may ask for: the allow-list and the routing tiers (an alias for its newest snapshot)', async () => {
    const own = await ownTbo(ALLOWED);
    expect(await allIds(claude(own.url).models.list())).toEqual(['claude-opus-4-1', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5']);
    expect(await allIds(gpt(own.url).models.list())).toEqual(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);

    const alias = await claude(own.url).models.retrieve('claude-opus-4-1');
    expect(alias).toMatchObject({ id: 'claude-opus-4-1', display_name: expect.any(String) });
    await expect(claude(own.url).models.retrieve('claude-3-haiku-20240307')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(gpt(own.url).models.retrieve('gpt-4.1')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/models']);
  });

  it('applies to embeddings as to every model call', async () => {
    const own = await ownTbo(ALLOWED);
    await expect(gpt(own.url).embeddings.create({ model: 'text-embedding-3-large', input: 'x' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(gpt(own.url).moderations.create({ input: 'x' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect((await gpt(own.url).embeddings.create({ model: 'text-embedding-3-small', input: 'x' })).data).toHaveLength(1);
    expect(fake.calls).toBe(1);
  });
});

describe('POST /v1/messages/count_tokens', () => {
  const params = (content: string, model = 'claude-test') => ({ model, messages: [{ role: 'user' as const, content }] });

  it('passes to the upstream and is cached exactly, per tenant', async () => {
    const first = await claude().messages.countTokens(params('count these words')).withResponse();
    expect(first.data).toEqual({ input_tokens: promptTokens(params('count these words')) });
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(first.request_id).toMatch(/^req_/); // the upstream's request id, as for messages

    const second = await claude().messages.countTokens(params('count these words')).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    const other = await claude(tbo.url, BETA_KEY).messages.countTokens(params('count these words')).withResponse();
    expect(other.response.headers.get('x-tbo-cache')).toBe('miss');
    await claude().messages.countTokens(params('count other words'));

    expect(fake.calls).toBe(3);
    expect(fake.requests[0]).toMatchObject({ provider: 'anthropic', method: 'POST', path: '/v1/messages/count_tokens', apiKey: ANTHROPIC_KEY });
    expect(fake.requests[0].body).toEqual(params('count these words'));
  });

  it('counts "auto" for the model the tier would answer with; refuses a malformed request without an upstream call', async () => {
    await claude().messages.countTokens(params('auto count', 'auto'));
    expect(fake.requests[0].body.model).toBe('claude-haiku-4-5'); // the default fast tier's Anthropic model

    const bad = await claude().messages.countTokens({ model: 'claude-test', messages: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect((bad as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(fake.calls).toBe(1);
  });
});

describe('POST /v1/embeddings', () => {
  const MODEL = 'text-embedding-3-small';

  it('asks for base64 as the SDK does, which the SDK decodes; the repeat is a hit', async () => {
    const input = ['first text', 'second text'];
    const first = await gpt().embeddings.create({ model: MODEL, input }).withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(fake.requests[0]).toMatchObject({ path: '/v1/embeddings', apiKey: OPENAI_KEY });
    expect(fake.requests[0].body.encoding_format).toBe('base64');
    expect(first.data.data.map((d) => d.embedding)).toEqual(input.map((text) => fakeEmbedding(text)));
    expect(first.data.data[0].embedding).toHaveLength(FAKE_EMBEDDING_DIMENSIONS);
    expect(first.data).toMatchObject({ object: 'list', model: MODEL, usage: { prompt_tokens: expect.any(Number) } });

    const second = await gpt().embeddings.create({ model: MODEL, input }).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(fake.calls).toBe(1);
  });

  it('keys the cache by the whole request: encoding, dimensions, input', async () => {
    const base = await gpt().embeddings.create({ model: MODEL, input: 'keyed' });
    const float = await gpt().embeddings.create({ model: MODEL, input: 'keyed', encoding_format: 'float' }).withResponse();
    expect(float.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(float.data.data[0].embedding).toEqual(base.data[0].embedding);
    const wide = await gpt().embeddings.create({ model: MODEL, input: 'keyed', dimensions: 16 });
    expect(wide.data[0].embedding).toHaveLength(16);
    await gpt().embeddings.create({ model: MODEL, input: ['keyed'] });
    expect(fake.calls).toBe(4);
  });

  it('keeps each tenant\'s embeddings to itself', async () => {
    const cacheOf = async (key: string) => (await gpt(tbo.url, key).embeddings.create({ model: MODEL, input: 'tenant text' }).withResponse()).response.headers.get('x-tbo-cache');
    expect(await cacheOf(ALPHA_KEY)).toBe('miss');
    expect(await cacheOf(BETA_KEY)).toBe('miss');
    expect(await cacheOf(ALPHA_KEY)).toBe('hit');
    expect(await cacheOf(BETA_KEY)).toBe('hit');
    expect(fake.calls).toBe(2);
  });

  it('never caches an error, or a 200 that is not a list of embeddings', async () => {
    fake.failNext(1, { status: 429, retryAfter: 3 });
    const limited = await gpt().embeddings.create({ model: MODEL, input: 'no cache' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('3');
    fake.respondNext(1, { body: { error: { message: 'odd', type: 'server_error', param: null, code: null } } });
    await gpt().embeddings.create({ model: MODEL, input: 'no cache', encoding_format: 'float' });
    const fresh = await gpt().embeddings.create({ model: MODEL, input: 'no cache', encoding_format: 'float' }).withResponse();
    expect(fresh.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(fresh.data.data[0].embedding).toEqual(fakeEmbedding('no cache'));
    expect(fake.calls).toBe(3);
  });

  it('refuses a malformed request or "auto" in the OpenAI shape without an upstream call', async () => {
    const bad = await gpt().embeddings.create({ model: MODEL, input: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');
    await expect(gpt().embeddings.create({ model: 'auto', input: 'x' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect(fake.calls).toBe(0);
  });

  it('coalesces identical concurrent requests into one upstream call', async () => {
    const gate = new Gate();
    const own = await ownTbo({}, { upstreams: { openai: gate.wrap(new HttpUpstream(`${fake.url}/v1`, { headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 })) } });
    let bodies = 0;
    own.service.server.on('request', (req: IncomingMessage) => req.once('end', () => bodies++));
    const N = 5;
    const calls = Array.from({ length: N }, () => gpt(own.url).embeddings.create({ model: MODEL, input: 'together' }).withResponse());
    await waitFor(async () => bodies === N && gate.sends === 1, { what: `${N} requests at TBO, one upstream call held`, timeoutMs: 10_000 });
    gate.open();
    const answers = await Promise.all(calls);
    const statuses = answers.map((a) => a.response.headers.get('x-tbo-cache')).sort();
    expect(statuses).toEqual(['coalesced', 'coalesced', 'coalesced', 'coalesced', 'miss']);
    for (const a of answers) expect(a.data.data[0].embedding).toEqual(fakeEmbedding('together'));
    expect(gate.sends).toBe(1);
    expect(fake.calls).toBe(1);
  });
});

describe('POST /v1/moderations', () => {
  it('classifies through the upstream (its default model unless named) and is cached', async () => {
    const first = await gpt().moderations.create({ input: ['I will hurt you', 'have a nice day'] }).withResponse();
    expect(first.response.headers.get('x-tbo-cache')).toBe('miss');
    expect(first.data.model).toBe('omni-moderation-latest');
    expect(first.data.results.map((r) => r.flagged)).toEqual([true, false]);
    expect(first.data.results[0].categories.violence).toBe(true);
    expect(fake.requests[0]).toMatchObject({ path: '/v1/moderations', apiKey: OPENAI_KEY });
    expect(fake.requests[0].body.model).toBeUndefined();

    const second = await gpt().moderations.create({ input: ['I will hurt you', 'have a nice day'] }).withResponse();
    expect(second.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    const named = await gpt().moderations.create({ model: 'omni-moderation-2024-09-26', input: 'hello' });
    expect(named.model).toBe('omni-moderation-2024-09-26');
    expect(fake.calls).toBe(2);
  });
});

describe('anything else under /v1/', () => {
  it('answers 404 in the caller\'s API shape, naming the path', async () => {
    const openaiErr = await gpt().models.delete('gpt-4o').catch((e: unknown) => e);
    expect(openaiErr).toBeInstanceOf(OpenAI.NotFoundError);
    expect((openaiErr as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('DELETE /v1/models/gpt-4o');
    const anthropicErr = await claude().get('/v1/not-an-endpoint').catch((e: unknown) => e);
    expect(anthropicErr).toBeInstanceOf(Anthropic.NotFoundError);
    expect((anthropicErr as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('/v1/not-an-endpoint') } });
    expect(fake.calls).toBe(0);
  });
});

/** Holds the service's upstream calls until opened; counts the calls it started. */
class Gate {
  sends = 0;
  private release: () => void = () => undefined;
  private readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  open(): void {
    this.release();
  }

  wrap(inner: Upstream): Upstream {
    return {
      send: async (req: UpstreamRequest) => {
        this.sends++;
        await this.opened;
        return inner.send(req);
      },
      close: () => inner.close(),
    };
  }
}
