/**
 * Anthropic Message Batches through the gateway, each through the official SDK method
 * (`messages.batches.create/retrieve/list/cancel/delete/results`): passed to the upstream with the
 * service's key, scoped to the tenant that created each batch (another tenant's batch is a 404 in
 * Anthropic's shape, answered without an upstream call, and never listed), results streamed
 * through as JSONL. Ownership lives in Redis when configured (`<prefix>:batch:<id>`, 29 days),
 * else in the instance's memory (also the fallback while Redis is down).
 */
import Anthropic from '@anthropic-ai/sdk';
import { MAX_UPSTREAM_PAGES } from '../../service/src/http/batches-route';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { redisCli, startRedis, stopAll, type RedisHandle } from '../support/redis';
import { ANTHROPIC_KEY, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const ALPHA_KEY = 'alpha-key-0123456789abcdef';
const BETA_KEY = 'beta-key-0123456789abcdef';
const TENANTS = { TBO_API_KEYS: `alpha:${ALPHA_KEY},beta:${BETA_KEY}` };
const BATCH_TTL_SECONDS = 29 * 86_400;

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

const claude = (url = tbo.url, key = ALPHA_KEY) => new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0 });
const request = (customId: string, content: string, model = 'claude-test') => ({
  custom_id: customId,
  params: { model, max_tokens: 64, messages: [{ role: 'user' as const, content }] },
});
const upstreamCalls = (method: string, path: string) => fake.requests.filter((r) => r.method === method && r.path === path).length;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function create(client: Anthropic, n = 1, tag = 'q'): Promise<Anthropic.Messages.MessageBatch> {
  return client.messages.batches.create({ requests: Array.from({ length: n }, (_, i) => request(`${tag}-${i}`, `${tag} number ${i}`)) });
}

/** What a 404 from the gateway looks like to the SDK: NotFoundError in Anthropic's error shape. */
async function expectNotFound(call: Promise<unknown>): Promise<void> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.NotFoundError);
  expect((err as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: expect.any(String) } });
}

describe('the batch lifecycle (Anthropic SDK)', () => {
  it('create → retrieve → results: passed to the upstream with the service key, results_url on the gateway, JSONL streamed through', async () => {
    const client = claude();
    const created = await client.messages.batches.create({ requests: [request('first', 'hello batch'), request('second', 'and again')] }).withResponse();
    expect(created.data).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', results_url: null, request_counts: { processing: 2 } });
    expect(created.data.id).toBe(fake.batches.ids[0]);
    expect(created.request_id).toMatch(/^req_/); // the upstream's request id
    expect(created.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('3999');
    expect(created.response.headers.get('x-tbo-cache')).toBe('bypass');
    const sent = fake.requests[0];
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/messages/batches', apiKey: ANTHROPIC_KEY });
    expect(sent.body).toEqual({ requests: [request('first', 'hello batch'), request('second', 'and again')] });

    expect(await client.messages.batches.retrieve(created.data.id)).toMatchObject({ id: created.data.id, processing_status: 'in_progress' });
    fake.batches.finishAll();
    const ended = await client.messages.batches.retrieve(created.data.id);
    expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { succeeded: 2, processing: 0 } });
    // The upstream's URL would send the tenant's TBO key to the provider: the client sees the gateway's.
    expect(ended.results_url).toBe(`/v1/messages/batches/${created.data.id}/results`);

    const results = await collect(await client.messages.batches.results(created.data.id));
    expect(results.map((r) => r.custom_id).sort()).toEqual(['first', 'second']);
    const first = results.find((r) => r.custom_id === 'first');
    expect(first?.result).toMatchObject({ type: 'succeeded', message: { type: 'message', content: [{ type: 'text', text: 'echo: hello batch' }] } });
    const resultCalls = fake.requests.filter((r) => r.path === `/v1/messages/batches/${created.data.id}/results`);
    expect(resultCalls).toHaveLength(1);
    expect(resultCalls[0]).toMatchObject({ method: 'GET', apiKey: ANTHROPIC_KEY });
  });

  it('cancel: the batch is canceling, then ends with canceled results; delete removes an ended batch', async () => {
    const client = claude();
    const batch = await create(client, 3, 'cancel');
    const canceling = await client.messages.batches.cancel(batch.id);
    expect(canceling).toMatchObject({ id: batch.id, processing_status: 'canceling', cancel_initiated_at: expect.any(String) });
    expect(upstreamCalls('POST', `/v1/messages/batches/${batch.id}/cancel`)).toBe(1);

    // A batch still processing cannot be deleted: the upstream's 400 passes through.
    await expect(client.messages.batches.delete(batch.id)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    fake.batches.finishAll();
    const results = await collect(await client.messages.batches.results(batch.id));
    expect(results.map((r) => r.result.type)).toEqual(['canceled', 'canceled', 'canceled']);

    expect(await client.messages.batches.delete(batch.id)).toEqual({ id: batch.id, type: 'message_batch_deleted' });
    const before = fake.calls;
    await expectNotFound(client.messages.batches.retrieve(batch.id));
    expect(fake.calls).toBe(before); // forgotten: answered without asking the upstream
  });

  it('streams large results through in pieces, every line decoded by the SDK', async () => {
    const client = claude();
    const batch = await create(client, 400, 'bulk');
    fake.batches.finishAll();
    fake.setStreamChunkDelay(5);
    const results = await collect(await client.messages.batches.results(batch.id));
    expect(results).toHaveLength(400);
    expect(new Set(results.map((r) => r.custom_id)).size).toBe(400);
    expect(results.every((r) => r.result.type === 'succeeded')).toBe(true);
  });
});

describe('tenant scoping', () => {
  it('another tenant\'s batch answers exactly like one that does not exist: 404, no upstream call', async () => {
    const alpha = claude();
    const beta = claude(tbo.url, BETA_KEY);
    const batch = await create(alpha, 1, 'mine');
    fake.batches.finishAll();
    const calls = fake.calls;

    for (const id of [batch.id, 'msgbatch_0000never0created', 'not/an id']) {
      await expectNotFound(beta.messages.batches.retrieve(id));
      await expectNotFound(beta.messages.batches.cancel(id));
      await expectNotFound(beta.messages.batches.delete(id));
    }
    // results() retrieves the batch first: the 404 comes from there.
    await expectNotFound(beta.messages.batches.results(batch.id));
    const raw = await fetch(`${tbo.url}/v1/messages/batches/${batch.id}/results`, { headers: { 'x-api-key': BETA_KEY } });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(fake.calls).toBe(calls);

    // The owner still has it all.
    expect((await alpha.messages.batches.retrieve(batch.id)).id).toBe(batch.id);
    expect(await collect(await alpha.messages.batches.results(batch.id))).toHaveLength(1);
  });

  it('list shows a tenant its own batches only, newest first, paged as the API pages', async () => {
    const alpha = claude();
    const beta = claude(tbo.url, BETA_KEY);
    const mine: string[] = [];
    const theirs: string[] = [];
    // Interleaved with other tenants' batches and with batches made outside the gateway.
    for (let i = 0; i < 5; i++) {
      mine.unshift((await create(alpha, 1, `a${i}`)).id);
      theirs.unshift((await create(beta, 1, `b${i}`)).id);
      fake.batches.seed(2);
    }
    expect(fake.batches.ids).toHaveLength(20);

    const page = await alpha.messages.batches.list({ limit: 2 });
    expect(page.data.map((b) => b.id)).toEqual(mine.slice(0, 2));
    expect(page.has_more).toBe(true);
    expect(page.last_id).toBe(mine[1]);
    expect((await collect(alpha.messages.batches.list({ limit: 2 }))).map((b) => b.id)).toEqual(mine);
    expect((await collect(beta.messages.batches.list())).map((b) => b.id)).toEqual(theirs);

    const back = await alpha.messages.batches.list({ before_id: mine[3], limit: 2 });
    expect(back.data.map((b) => b.id)).toEqual(mine.slice(1, 3));
    expect(back.has_more).toBe(true);
    const after = await alpha.messages.batches.list({ after_id: mine[3] });
    expect(after.data.map((b) => b.id)).toEqual(mine.slice(4));
    expect(after.has_more).toBe(false);
    // A cursor that is not the caller's batch gives an empty page (nothing about the other batch leaks).
    expect(await alpha.messages.batches.list({ after_id: theirs[0] })).toMatchObject({ data: [], has_more: false, first_id: null, last_id: null });

    const bad = await alpha.messages.batches.list({ limit: 0 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    await expect(alpha.messages.batches.list({ after_id: mine[1], before_id: mine[3] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('follows the upstream\'s pages to fill a page; past the page limit it goes on only until it finds one of the caller\'s batches', async () => {
    const alpha = claude();
    fake.batches.setPageCap(3); // the upstream answers 3 batches a page whatever the gateway asks
    const ids: string[] = [];
    ids.unshift((await create(alpha, 1, 'old')).id);
    fake.batches.seed(4);
    ids.unshift((await create(alpha, 1, 'mid')).id);
    fake.batches.seed(3 * MAX_UPSTREAM_PAGES + 2); // a gap wider than the pages one client page reads
    ids.unshift((await create(alpha, 1, 'new')).id);
    const listCalls = () => fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/messages/batches').length;

    const first = await alpha.messages.batches.list({ limit: 1 });
    expect(first.data.map((b) => b.id)).toEqual([ids[0]]);
    // Looking for a second batch (is there more?) stopped at the page limit: maybe, go on from last_id.
    expect(first.has_more).toBe(true);
    expect(listCalls()).toBe(MAX_UPSTREAM_PAGES);

    const next = await alpha.messages.batches.list({ limit: 1, after_id: ids[0] });
    expect(next.data.map((b) => b.id)).toEqual([ids[1]]);
    expect(listCalls()).toBe(2 * MAX_UPSTREAM_PAGES + 1); // read on past the limit until it found one

    expect((await collect(alpha.messages.batches.list({ limit: 1 }))).map((b) => b.id)).toEqual(ids);
  });
});

describe('what a batch may hold', () => {
  it('refuses "auto", a model the allow-list refuses and an empty batch, in Anthropic\'s shape, without an upstream call', async () => {
    const own = await ownTbo({ TBO_MODELS_ALLOWED: 'claude-test' });
    const client = claude(own.url);
    for (const requests of [[request('a', 'x', 'auto')], [request('a', 'x'), request('b', 'y', 'claude-3-haiku-20240307')], []]) {
      const err = await client.messages.batches.create({ requests }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect((err as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
    const refused = await client.messages.batches.create({ requests: [request('a', 'x'), request('b', 'y', 'claude-3-haiku-20240307')] }).catch((e: unknown) => e);
    expect((refused as InstanceType<typeof Anthropic.BadRequestError>).message).toContain('requests.1.params.model');
    expect(fake.calls).toBe(0);
    expect((await create(client)).type).toBe('message_batch');
  });

  it('an upstream 429 comes back at once with its retry-after and request id (one call)', async () => {
    fake.failNext(1, { status: 429, retryAfter: 7 });
    const err = await create(claude()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const limited = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.requestID).toMatch(/^req_/);
    expect(fake.calls).toBe(1);
  });
});

describe('where ownership is kept', () => {
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

  it('Redis: <prefix>:batch:<id> holds the tenant for 29 days, so every instance scopes alike', async () => {
    const a = await redisTbo('batches-test');
    const b = await redisTbo('batches-test');
    const batch = await create(claude(a.url), 1, 'shared');

    expect((await redisCli(redis.port, 'GET', `batches-test:batch:${batch.id}`)).trim()).toBe('alpha');
    const ttl = Number(await redisCli(redis.port, 'TTL', `batches-test:batch:${batch.id}`));
    expect(ttl).toBeGreaterThan(BATCH_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(BATCH_TTL_SECONDS);

    expect((await claude(b.url).messages.batches.retrieve(batch.id)).id).toBe(batch.id);
    expect((await collect(claude(b.url).messages.batches.list())).map((x) => x.id)).toEqual([batch.id]);
    await expectNotFound(claude(b.url, BETA_KEY).messages.batches.retrieve(batch.id));
    expect(await collect(claude(b.url, BETA_KEY).messages.batches.list())).toEqual([]);

    // Deleting forgets it everywhere.
    fake.batches.finishAll();
    await claude(b.url).messages.batches.delete(batch.id);
    expect((await redisCli(redis.port, 'EXISTS', `batches-test:batch:${batch.id}`)).trim()).toBe('0');
    await expectNotFound(claude(a.url).messages.batches.retrieve(batch.id));
  });

  it('memory: without Redis an instance scopes the batches created through it', async () => {
    const a = await ownTbo({});
    const batch = await create(claude(a.url), 1, 'local');
    expect((await claude(a.url).messages.batches.retrieve(batch.id)).id).toBe(batch.id);
    await expectNotFound(claude(a.url, BETA_KEY).messages.batches.retrieve(batch.id));
    // Another instance without Redis knows nothing of it: configure Redis when running replicas.
    const b = await ownTbo({});
    await expectNotFound(claude(b.url).messages.batches.retrieve(batch.id));
  });

  it('memory fallback: with Redis down the instance still records and scopes its batches', async () => {
    const a = await redisTbo('batches-down');
    await redis.stop();
    await waitFor(() => a.service.redis?.clients.every((c) => c.status !== 'ready') ?? false, { what: 'TBO to see Redis gone' });
    try {
      const batch = await create(claude(a.url), 1, 'offline');
      expect((await claude(a.url).messages.batches.retrieve(batch.id)).id).toBe(batch.id);
      await expectNotFound(claude(a.url, BETA_KEY).messages.batches.retrieve(batch.id));
      expect((await collect(claude(a.url).messages.batches.list())).map((x) => x.id)).toEqual([batch.id]);
    } finally {
      await redis.restart();
    }
  });
});
