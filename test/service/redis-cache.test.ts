/**
 * The shared Redis tier with real redis-server processes: cross-instance hits, TTLs, failure and
 * recovery, REDIS_HOST/REDIS_PORT, cluster mode, and the rate limit shared through Redis.
 */
import type OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { redisCli, startRedis, startRedisCluster, stopAll, type RedisHandle } from '../support/redis';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const BALANCED_TTL = 1800;

interface Ready {
  readonly status: number;
  readonly redis: string;
  readonly memoryEntries: number;
}

interface Asked {
  readonly status: number;
  readonly cache: string | null;
  readonly text: string | null | undefined;
}

let fake: FakeUpstream;
let redis: RedisHandle;
const running: RunningTbo[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
  redis = await startRedis();
});
afterAll(async () => {
  await stopAll();
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  await redisCli(redis.port, 'FLUSHALL');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.close()));
});

/** Starts an instance and waits until every one of its Redis connections is up. */
async function instance(extra: Record<string, string>, deps: Parameters<typeof startTbo>[1] = {}): Promise<RunningTbo> {
  const tbo = await startTbo(upstreamEnv(fake.url, { TBO_LOG_LEVEL: 'silent', ...extra }), deps);
  running.push(tbo);
  if (tbo.service.redis) {
    await waitFor(async () => (await ready(tbo)).redis === 'connected' && (tbo.service.redis?.clients.every((c) => c.status === 'ready') ?? false), {
      timeoutMs: 20_000,
      what: 'TBO to connect to Redis',
    });
  }
  return tbo;
}

async function ready(tbo: RunningTbo): Promise<Ready> {
  const res = await fetch(`${tbo.url}/ready`);
  const body = (await res.json()) as { cache: { redis: string; memory: { entries: number } } };
  return { status: res.status, redis: body.cache.redis, memoryEntries: body.cache.memory.entries };
}

async function ask(tbo: RunningTbo, prompt: string, apiKey?: string, headers: Record<string, string> = {}): Promise<Asked> {
  const res = await fetch(`${tbo.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: prompt }] }),
  });
  const body = (await res.json()) as OpenAI.ChatCompletion;
  return { status: res.status, cache: res.headers.get('x-tbo-cache'), text: body.choices?.[0]?.message?.content };
}

async function cacheKeys(port: number): Promise<string[]> {
  return (await redisCli(port, '--scan', '--pattern', 'tbo:cache:*')).split('\n').filter(Boolean);
}

/** Waits until `count` cache entries are in Redis (the service writes them after answering). */
async function keysStored(port: number, count = 1): Promise<string[]> {
  let keys: string[] = [];
  await waitFor(async () => (keys = await cacheKeys(port)).length >= count, { what: `${count} tbo:cache:* key(s) in Redis on ${port}` });
  return keys;
}

async function ttl(port: number, key: string): Promise<number> {
  return Number((await redisCli(port, 'TTL', key)).trim());
}

/** The key's TTL is `seconds`, give or take 5 s. */
async function expectTtl(port: number, key: string, seconds: number): Promise<void> {
  const left = await ttl(port, key);
  expect(left).toBeGreaterThanOrEqual(seconds - 5);
  expect(left).toBeLessThanOrEqual(seconds + 5);
}

async function metric(tbo: RunningTbo, pattern: RegExp): Promise<number> {
  const res = await fetch(`${tbo.adminUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

const REDIS_GET_ERRORS = /^tbo_cache_operations_total\{tier="redis",operation="get",result="error"\} (\S+)$/m;

describe('two instances sharing one Redis', () => {
  it('a miss on instance A is a hit on instance B, whose memory tier is empty', async () => {
    const a = await instance({ REDIS_URL: redis.url });
    const b = await instance({ REDIS_URL: redis.url });
    expect(await ask(a, 'shared answer')).toEqual({ status: 200, cache: 'miss', text: 'echo: shared answer' });
    await keysStored(redis.port);

    expect((await ready(b)).memoryEntries).toBe(0);
    expect(await ask(b, 'shared answer')).toEqual({ status: 200, cache: 'hit', text: 'echo: shared answer' });
    expect((await ready(b)).memoryEntries).toBe(1); // copied into B's memory tier
    expect(fake.calls).toBe(1);
  });

  it('stores with the balanced TTL (1800 s) and a hit through Redis refreshes it', async () => {
    const a = await instance({ REDIS_URL: redis.url });
    const b = await instance({ REDIS_URL: redis.url });
    await ask(a, 'ttl refresh');
    const [key] = await keysStored(redis.port);
    expect(key).toMatch(/^tbo:cache:[0-9a-f]{64}$/);
    await expectTtl(redis.port, key, BALANCED_TTL);

    await redisCli(redis.port, 'EXPIRE', key, '100');
    expect(await ttl(redis.port, key)).toBeLessThanOrEqual(100);
    expect((await ask(b, 'ttl refresh')).cache).toBe('hit');
    await expectTtl(redis.port, key, BALANCED_TTL);
    expect(fake.calls).toBe(1);
  });

  it.each([
    ['speed', 3600],
    ['quality', 900],
    ['research', 600],
  ])('TBO_OPTIMIZATION_LEVEL=%s stores with a TTL of %i s', async (level, seconds) => {
    const a = await instance({ REDIS_URL: redis.url, TBO_OPTIMIZATION_LEVEL: level });
    await ask(a, `level ${level}`);
    const [key] = await keysStored(redis.port);
    await expectTtl(redis.port, key, seconds);
  });

  it('works with REDIS_HOST and REDIS_PORT instead of REDIS_URL', async () => {
    const env = { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port) };
    const a = await instance(env);
    const b = await instance(env);
    expect((await ready(a)).redis).toBe('connected');
    expect((await ask(a, 'host and port')).cache).toBe('miss');
    await keysStored(redis.port);
    expect(await ask(b, 'host and port')).toEqual({ status: 200, cache: 'hit', text: 'echo: host and port' });
    expect(fake.calls).toBe(1);
  });

  it('shares the per-tenant rate limit: 10 requests over both succeed, the 11th on either gets 429', async () => {
    const env = { REDIS_URL: redis.url, API_RATE_LIMIT: '10', TBO_API_KEYS: 'a:key-aaaaaaaaaaaaaaaa,b:key-bbbbbbbbbbbbbbbb' };
    const a = await instance(env);
    const b = await instance(env);
    const keyA = 'key-aaaaaaaaaaaaaaaa';
    for (let i = 0; i < 10; i++) {
      const res = await ask(i % 2 === 0 ? a : b, `limited ${i}`, keyA);
      expect([i, res.status]).toEqual([i, 200]);
    }
    for (const instanceOver of [a, b]) {
      const res = await fetch(`${instanceOver.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keyA}` },
        body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'one too many' }] }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/rate limit/);
    }
    // Another tenant has its own window.
    expect((await ask(a, 'tenant b is fine', 'key-bbbbbbbbbbbbbbbb')).status).toBe(200);
    expect(fake.calls).toBe(11);
  });
});

describe('memory tier TTL (injected clock)', () => {
  it('expires after the TTL, which a hit refreshes; no real waiting', async () => {
    let offset = 0;
    // A variable, not an inline literal: the clock may have more members than the memory tier needs.
    const clock = { now: () => performance.now() + offset, wall: () => Date.now() + offset };
    const tbo = await instance({}, { clock });
    expect((await ask(tbo, 'memory ttl')).cache).toBe('miss');
    offset += (BALANCED_TTL - 1) * 1000;
    expect((await ask(tbo, 'memory ttl')).cache).toBe('hit');
    offset += (BALANCED_TTL - 1) * 1000; // 2 × 1799 s after the store, but 1799 s after the last hit
    expect((await ask(tbo, 'memory ttl')).cache).toBe('hit');
    offset += (BALANCED_TTL + 1) * 1000;
    expect(await ask(tbo, 'memory ttl')).toEqual({ status: 200, cache: 'miss', text: 'echo: memory ttl' });
    expect(fake.calls).toBe(2);
  });
});

describe('Redis failure and recovery', () => {
  it('keeps answering from memory while Redis is down, stays ready, counts errors, and uses Redis again after a restart', async () => {
    const own = await startRedis();
    try {
      const a = await instance({ REDIS_URL: own.url });
      const b = await instance({ REDIS_URL: own.url });
      expect((await ask(a, 'before the crash')).cache).toBe('miss');
      await keysStored(own.port);

      await own.stop('SIGKILL');
      await waitFor(async () => (await ready(a)).redis !== 'connected' && (await ready(b)).redis !== 'connected', {
        timeoutMs: 15_000,
        what: '/ready to report Redis as not connected',
      });
      const errorsBefore = await metric(a, REDIS_GET_ERRORS);

      expect(await ask(a, 'before the crash')).toEqual({ status: 200, cache: 'hit', text: 'echo: before the crash' }); // memory tier
      expect(await ask(b, 'before the crash')).toEqual({ status: 200, cache: 'miss', text: 'echo: before the crash' });
      expect(await ask(a, 'during the outage')).toEqual({ status: 200, cache: 'miss', text: 'echo: during the outage' });
      expect(await ask(a, 'during the outage')).toEqual({ status: 200, cache: 'hit', text: 'echo: during the outage' });
      // Session turns live in Redis too; they fall back to memory.
      const session = { 'x-tbo-session-id': 'outage-session' };
      expect(await ask(b, 'a session turn during the outage', undefined, session)).toMatchObject({ status: 200, text: 'echo: a session turn during the outage' });
      expect(await ask(b, 'another session turn', undefined, session)).toMatchObject({ status: 200, text: 'echo: another session turn' });

      const readyA = await ready(a);
      expect(readyA.status).toBe(200);
      expect(['connecting', 'disconnected']).toContain(readyA.redis);
      expect(await metric(a, REDIS_GET_ERRORS)).toBeGreaterThan(errorsBefore);
      expect(await metric(a, /^tbo_redis_up (\S+)$/m)).toBe(0);

      await own.restart(); // same port, empty
      let attempt = 0;
      await waitFor(
        async () => {
          const prompt = `after the restart ${attempt++}`;
          if ((await ask(a, prompt)).status !== 200) return false;
          if ((await cacheKeys(own.port)).length === 0) return false;
          return (await ask(b, prompt)).cache === 'hit';
        },
        { timeoutMs: 30_000, intervalMs: 200, what: 'an answer written by A through Redis to be a hit on B' },
      );
      expect((await ready(a)).redis).toBe('connected');
    } finally {
      await Promise.all(running.splice(0).map((t) => t.close()));
      await own.stop('SIGKILL');
    }
  }, 90_000);
});

describe('Redis cluster', () => {
  it('shares answers across instances and spreads keys over the nodes', async () => {
    const cluster = await startRedisCluster();
    try {
      const env = { REDIS_CLUSTER: 'true', REDIS_URL: cluster.urls[0] };
      const a = await instance(env);
      const b = await instance(env);
      const prompts = Array.from({ length: 30 }, (_, i) => `cluster prompt ${i}`);
      for (const p of prompts) expect((await ask(a, p)).cache).toBe('miss');

      const perNode = async () => Promise.all(cluster.nodes.map(async (n) => (await cacheKeys(n.port)).length));
      await waitFor(async () => (await perNode()).reduce((x, y) => x + y, 0) === prompts.length, {
        what: `${prompts.length} cache keys across the cluster`,
      });
      expect((await perNode()).filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
      const dbsizes = await Promise.all(cluster.nodes.map(async (n) => Number((await redisCli(n.port, 'DBSIZE')).trim())));
      expect(dbsizes.filter((size) => size > 0).length).toBeGreaterThanOrEqual(2);

      for (const p of prompts) expect(await ask(b, p)).toEqual({ status: 200, cache: 'hit', text: `echo: ${p}` });
      expect(fake.calls).toBe(prompts.length);
    } finally {
      await Promise.all(running.splice(0).map((t) => t.close()));
      await cluster.stop();
    }
  }, 120_000);
});
