import { existsSync } from 'node:fs';
import * as tls from 'node:tls';
import { certDir, describeCert } from '../support/certs';
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

describe('redis single node over TLS', () => {
  it('serves TLS only on its port, presents the given certificate, and stops', async () => {
    const certs = await certDir();
    try {
      const ca = await certs.ca('Selftest CA');
      const cert = await certs.serverCert(ca, { cn: '127.0.0.1' });
      const text = await describeCert(cert.certFile);
      expect(text).toMatch(/Issuer: CN = Selftest CA/);
      expect(text).toMatch(/Subject: CN = 127\.0\.0\.1/);
      expect(text).not.toMatch(/Subject Alternative Name/);
      const withSan = await describeCert((await certs.serverCert(ca, { cn: 'x', san: ['IP:10.0.0.3'] })).certFile);
      expect(withSan).toMatch(/X509v3 Subject Alternative Name: \n\s+IP Address:10\.0\.0\.3/);

      const redis = await startRedis({ tls: { certFile: cert.certFile, keyFile: cert.keyFile, caFile: ca.certFile } });
      expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`);
      expect(await pingRedis(redis.port, 500, { tls: true })).toBe(true);
      expect(await pingRedis(redis.port)).toBe(false); // no plaintext
      const presented = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: redis.port, ca: ca.pem, checkServerIdentity: () => undefined });
        socket.once('secureConnect', () => {
          resolve(socket.getPeerCertificate().subject.CN as string);
          socket.destroy();
        });
        socket.once('error', reject);
      });
      expect(presented).toBe('127.0.0.1');
      await redis.stop();
      expect(alive(redis.pid)).toBe(false);
    } finally {
      await certs.remove();
    }
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
