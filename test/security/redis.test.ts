/**
 * Redis is shared infrastructure: two deployments (different TBO_REDIS_KEY_PREFIX, even with the
 * same tenants and keys) on one redis-server, or one Redis cluster, share no cached answer and no
 * rate-limit counter, and every key either writes starts with its prefix.
 */
import { waitFor } from '../support/ports';
import { redisCli, startRedisCluster } from '../support/redis';
import type { ServiceDeps } from '../../service/src/service';
import { ALPHA_KEY, TWO_TENANTS, post, secEnv, startSecured, chat, securityFixtures, type SecuredTbo } from './support';

const fx = securityFixtures({ redis: true });

/** A deployment's instance, once all of its Redis connections are up. */
async function deployment(extra: Record<string, string>, deps: ServiceDeps = {}): Promise<SecuredTbo> {
  const tbo = await startSecured(secEnv(fx.fake.url, { TBO_API_KEYS: TWO_TENANTS, ...extra }), deps);
  fx.running.push(tbo);
  await waitFor(() => tbo.service.redis?.clients.every((c) => c.status === 'ready') ?? false, { timeoutMs: 20_000, what: 'TBO to connect to Redis' });
  return tbo;
}

interface Asked {
  readonly status: number;
  readonly cache: string | null;
}

async function askAs(tbo: SecuredTbo, prompt: string, session?: string): Promise<Asked> {
  const headers: Record<string, string> = { authorization: `Bearer ${ALPHA_KEY}`, ...(session ? { 'x-tbo-session-id': session } : {}) };
  const reply = await post(tbo.url, '/v1/chat/completions', headers, chat(prompt));
  return { status: reply.status, cache: reply.headers.get('x-tbo-cache') };
}

async function allKeys(port: number): Promise<string[]> {
  return (await redisCli(port, '--scan')).split('\n').filter(Boolean);
}

describe('two deployments on one redis-server', () => {
  it('do not serve each other\'s cached answers; every key starts with its deployment\'s prefix', async () => {
    const a = await deployment({ REDIS_URL: fx.redis.url, TBO_REDIS_KEY_PREFIX: 'deploy-a' });
    const b = await deployment({ REDIS_URL: fx.redis.url, TBO_REDIS_KEY_PREFIX: 'deploy-b' });
    expect(await askAs(a, 'same question', 'session-a')).toEqual({ status: 200, cache: 'miss' });
    await waitFor(async () => (await allKeys(fx.redis.port)).some((k) => k.includes('cache')), { what: 'deployment A\'s answer in Redis' });

    expect(await askAs(b, 'same question', 'session-b')).toEqual({ status: 200, cache: 'miss' });
    expect(fx.fake.calls).toBe(2);
    // Within one deployment the Redis tier is still shared: a second instance of A hits.
    const a2 = await deployment({ REDIS_URL: fx.redis.url, TBO_REDIS_KEY_PREFIX: 'deploy-a' });
    expect(await askAs(a2, 'same question')).toEqual({ status: 200, cache: 'hit' });

    const keys = await allKeys(fx.redis.port);
    expect(keys.length).toBeGreaterThanOrEqual(4); // cache entries, sessions
    expect(keys.filter((k) => !k.startsWith('deploy-a:') && !k.startsWith('deploy-b:'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('deploy-a:cache:'))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith('deploy-b:cache:'))).toHaveLength(1);
  });

  it('do not share rate-limit counters (API_RATE_LIMIT=3, same tenant name and key in both)', async () => {
    const env = { REDIS_URL: fx.redis.url, API_RATE_LIMIT: '3' };
    const a = await deployment({ ...env, TBO_REDIS_KEY_PREFIX: 'deploy-a' });
    const b = await deployment({ ...env, TBO_REDIS_KEY_PREFIX: 'deploy-b' });
    for (let i = 0; i < 3; i++) expect((await askAs(a, `a spends ${i}`)).status).toBe(200);
    expect((await askAs(a, 'a is over')).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await askAs(b, `b has its own budget ${i}`)).status).toBe(200);
    expect((await askAs(b, 'b is over')).status).toBe(429);

    const keys = await allKeys(fx.redis.port);
    expect(keys.filter((k) => k.includes(':rl:')).sort()).toEqual(['deploy-a:rl:alpha', 'deploy-b:rl:alpha']);
    expect(keys.filter((k) => !k.startsWith('deploy-a:') && !k.startsWith('deploy-b:'))).toEqual([]);
  });
});

describe('two deployments on one Redis cluster (3 nodes)', () => {
  it('do not serve each other\'s cached answers; every key on every node starts with a prefix', async () => {
    const cluster = await startRedisCluster();
    try {
      const env = { REDIS_CLUSTER: 'true', REDIS_URL: cluster.urls[0] };
      const a = await deployment({ ...env, TBO_REDIS_KEY_PREFIX: 'deploy-a' });
      const b = await deployment({ ...env, TBO_REDIS_KEY_PREFIX: 'deploy-b' });
      const prompts = Array.from({ length: 12 }, (_, i) => `cluster prompt ${i}`);
      for (const p of prompts) expect((await askAs(a, p)).cache).toBe('miss');
      const nodeKeys = async () => (await Promise.all(cluster.nodes.map((n) => allKeys(n.port)))).flat();
      await waitFor(async () => (await nodeKeys()).filter((k) => k.includes('cache')).length >= prompts.length, { what: 'A\'s answers in the cluster' });

      for (const p of prompts) expect(await askAs(b, p)).toEqual({ status: 200, cache: 'miss' });
      expect(fx.fake.calls).toBe(2 * prompts.length);
      await waitFor(async () => (await nodeKeys()).filter((k) => k.includes('cache')).length >= 2 * prompts.length, { what: 'B\'s answers in the cluster' });
      const keys = await nodeKeys();
      expect(keys.filter((k) => !k.startsWith('deploy-a:') && !k.startsWith('deploy-b:'))).toEqual([]);
      // The prefix is no hash tag: the keys spread over the nodes.
      const perNode = await Promise.all(cluster.nodes.map(async (n) => (await allKeys(n.port)).length));
      expect(perNode.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
    } finally {
      await Promise.all(fx.running.splice(0).map((t) => t.close()));
      await cluster.stop();
    }
  }, 60_000);
});
