import { existsSync } from 'node:fs';
import { freePort } from '../support/ports';
import { pingRedis, redisCli, startRedis, startRedisCluster, stopAll } from '../support/redis';

afterAll(async () => stopAll());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('redis single node', () => {
  it('starts, answers a raw PING, dies on SIGKILL and restarts on the same port', async () => {
    const redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await pingRedis(redis.port)).toBe(true);
    const firstPid = redis.pid;
    expect(alive(firstPid)).toBe(true);

    await redis.stop('SIGKILL');
    expect(await pingRedis(redis.port)).toBe(false);
    expect(alive(firstPid)).toBe(false);

    await redis.restart();
    expect(redis.pid).not.toBe(firstPid);
    expect(await pingRedis(redis.port)).toBe(true);
    await redis.stop();
    expect(await pingRedis(redis.port)).toBe(false);
  });

  it('uses a requested port', async () => {
    const port = await freePort();
    const redis = await startRedis({ port });
    expect(redis.port).toBe(port);
    expect((await redisCli(port, 'set', 'k', 'v')).trim()).toBe('OK');
    expect((await redisCli(port, 'get', 'k')).trim()).toBe('v');
    await redis.stop();
  });

  it('fails fast when the port is already taken', async () => {
    const first = await startRedis();
    await expect(startRedis({ port: first.port })).rejects.toThrow(/exited at start-up/);
    expect(await pingRedis(first.port)).toBe(true);
    await first.stop();
  });

  it('stopAll() kills whatever is left', async () => {
    const a = await startRedis();
    const b = await startRedis();
    await stopAll();
    expect([alive(a.pid), alive(b.pid)]).toEqual([false, false]);
    expect(await pingRedis(a.port)).toBe(false);
  });
});

describe('redis cluster', () => {
  it('forms a 3-master cluster with cluster_state:ok, and stop() removes it', async () => {
    const cluster = await startRedisCluster();
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.urls).toEqual(cluster.nodes.map((n) => `redis://${n.host}:${n.port}`));
    for (const node of cluster.nodes) {
      expect(await pingRedis(node.port)).toBe(true);
      const info = await redisCli(node.port, 'cluster', 'info');
      expect(info).toContain('cluster_state:ok');
      expect(info).toContain('cluster_slots_assigned:16384');
      expect(info).toContain('cluster_known_nodes:3');
    }
    // -c follows MOVED redirects, so a write lands on whichever master owns the slot
    expect((await redisCli(cluster.nodes[0].port, '-c', 'set', 'some-key', 'v')).trim()).toBe('OK');
    expect(existsSync(cluster.dir)).toBe(true);

    await cluster.stop();
    for (const node of cluster.nodes) expect(await pingRedis(node.port)).toBe(false);
    expect(existsSync(cluster.dir)).toBe(false);
  }, 60_000);

  it('refuses fewer than 3 nodes', async () => {
    await expect(startRedisCluster({ nodes: 2 })).rejects.toThrow(/nodes must be an integer >= 3/);
  });
});
