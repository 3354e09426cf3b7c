/**
 * Redis over TLS the way Memorystore for Redis serves it (in-transit encryption,
 * SERVER_AUTHENTICATION): a real redis-server on 127.0.0.1 serving TLS only, a per-instance CA the
 * service is given as REDIS_TLS_CA_CERT, and a server certificate signed by it that carries the
 * instance IP only in its subject CN (no subjectAltName). The service connects to the IP, as the
 * GCP construct configures it (REDIS_HOST = the instance's `host`).
 *
 * It must verify the chain against that CA and the identity the certificate carries, refuse
 * anything else, and make a refused (or lost) Redis tier visible: /ready stays 200 (serving from
 * memory is intended) but says `redis: "disconnected"`, /health/details reports the tier degraded
 * with its last error, and tbo_redis_up is 0.
 */
import * as tls from 'node:tls';
import type OpenAI from 'openai';
import { certDir, describeCert, type CertDir, type TestCa, type TestServerCert } from '../support/certs';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startRedis, stopAll, type RedisHandle } from '../support/redis';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const REDIS_PASSWORD = 'redis-password-SENTINEL-4242';

interface RedisCheck {
  readonly status: string;
  readonly state: string;
  readonly last_error?: string;
  readonly last_error_at?: string;
}

let fake: FakeUpstream;
let certs: CertDir;
/** The instance's server CA: what Memorystore lists in `server_ca_certs`. */
let instanceCa: TestCa;
let otherCa: TestCa;
const running: RunningTbo[] = [];

/** A TLS-only redis-server presenting `cert` (the CA file only satisfies redis-server's config). */
async function tlsRedis(cert: TestServerCert): Promise<RedisHandle> {
  return startRedis({ tls: { certFile: cert.certFile, keyFile: cert.keyFile, caFile: instanceCa.certFile } });
}

function tlsEnv(redis: RedisHandle, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(redis.port),
    REDIS_TLS: 'true',
    REDIS_TLS_CA_CERT: instanceCa.pem,
    REDIS_POOL_SIZE: '2',
    ...extra,
  };
}

async function instance(env: Record<string, string>): Promise<RunningTbo> {
  const tbo = await startTbo(upstreamEnv(fake.url, env));
  running.push(tbo);
  return tbo;
}

async function ready(tbo: RunningTbo): Promise<{ status: number; redis: string; memoryEntries: number }> {
  const res = await fetch(`${tbo.url}/ready`);
  const body = (await res.json()) as { cache: { redis: string; memory: { entries: number } } };
  return { status: res.status, redis: body.cache.redis, memoryEntries: body.cache.memory.entries };
}

async function details(tbo: RunningTbo): Promise<{ httpStatus: number; text: string; status: string; redis: RedisCheck | undefined }> {
  const res = await fetch(`${tbo.adminUrl}/health/details`);
  const text = await res.text();
  const body = JSON.parse(text) as { status: string; checks: { redis?: RedisCheck } };
  return { httpStatus: res.status, text, status: body.status, redis: body.checks.redis };
}

async function metric(tbo: RunningTbo, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${tbo.adminUrl}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

const REDIS_UP = /^tbo_redis_up (\S+)$/m;
const REDIS_SETS_OK = /^tbo_cache_operations_total\{tier="redis",operation="set",result="ok"\} (\S+)$/m;

async function ask(tbo: RunningTbo, prompt: string): Promise<{ status: number; cache: string | null; text: string | null | undefined }> {
  const res = await fetch(`${tbo.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: prompt }] }),
  });
  const body = (await res.json()) as OpenAI.ChatCompletion;
  return { status: res.status, cache: res.headers.get('x-tbo-cache'), text: body.choices?.[0]?.message?.content };
}

/** What Node's TLS client says about `redis`'s certificate with only `ca` given (the service's old options). */
function defaultHandshake(redis: RedisHandle, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: redis.port, ca });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('verified');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`${err.code}: ${err.message}`));
  });
}

beforeAll(async () => {
  fake = await startFakeUpstream();
  certs = await certDir();
  instanceCa = await certs.ca('Test Memorystore server CA');
  otherCa = await certs.ca('Some other CA');
});
afterAll(async () => {
  await stopAll();
  await fake.close();
  await certs.remove();
});
beforeEach(() => fake.reset());
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.close()));
});

describe('a Memorystore-shaped server certificate (CA-signed, the IP only in the CN, no subjectAltName)', () => {
  it("is shaped so, and Node's default identity check refuses it: an IP must be in the certificate's IP SANs", async () => {
    const cert = await certs.serverCert(instanceCa, { cn: '127.0.0.1' });
    const text = await describeCert(cert.certFile);
    expect(text).toMatch(/Issuer: CN = Test Memorystore server CA/);
    expect(text).toMatch(/Subject: CN = 127\.0\.0\.1/);
    expect(text).not.toMatch(/Subject Alternative Name/);

    const redis = await tlsRedis(cert);
    // The chain verifies against the CA; the name check is what fails. This is the handshake the
    // service made before (`tls: { ca }` against the instance IP): it never reached Redis.
    expect(await defaultHandshake(redis, instanceCa.pem)).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID: .*IP: 127\.0\.0\.1 is not in the cert's list/);
    await redis.stop();
  });

  it.each([
    ['the Memorystore shape: IP only in the CN', { cn: '127.0.0.1' }],
    ['the standard shape: the IP in the IP SANs', { cn: 'redis-server', san: ['IP:127.0.0.1'] }],
  ])('%s: verified, connected, and two instances share answers through Redis', async (_name, shape) => {
    const redis = await tlsRedis(await certs.serverCert(instanceCa, shape));
    try {
      const a = await instance(tlsEnv(redis));
      const b = await instance(tlsEnv(redis));
      for (const tbo of [a, b]) {
        await waitFor(async () => (await ready(tbo)).redis === 'connected', { timeoutMs: 15_000, what: 'TBO to connect to Redis over TLS' });
      }
      expect(await ready(a)).toEqual({ status: 200, redis: 'connected', memoryEntries: 0 });
      expect(await metric(a, REDIS_UP)).toBe(1);
      expect((await details(a)).redis).toEqual({ status: 'healthy', state: 'connected' });

      const calls = fake.calls; // /health/details made its own upstream call
      expect(await ask(a, 'over tls')).toEqual({ status: 200, cache: 'miss', text: 'echo: over tls' });
      await waitFor(async () => ((await metric(a, REDIS_SETS_OK)) ?? 0) >= 1, { what: "A's answer stored in Redis" });
      expect((await ready(b)).memoryEntries).toBe(0);
      expect(await ask(b, 'over tls')).toEqual({ status: 200, cache: 'hit', text: 'echo: over tls' }); // from Redis
      expect(fake.calls - calls).toBe(1);
    } finally {
      await Promise.all(running.splice(0).map((t) => t.close()));
      await redis.stop();
    }
  });
});

describe('certificates that must be refused, and a refused Redis tier made visible', () => {
  it.each([
    ['signed by another CA', () => certs.serverCert(otherCa, { cn: '127.0.0.1' }), /unable to verify|self[- ]signed|certificate/i],
    ['for another IP (CN=10.0.0.3), signed by the instance CA', () => certs.serverCert(instanceCa, { cn: '10.0.0.3' }), /10\.0\.0\.3/],
    [
      'whose IP SANs name another IP (the CN says 127.0.0.1, but SANs rule)',
      () => certs.serverCert(instanceCa, { cn: '127.0.0.1', san: ['IP:10.0.0.3'] }),
      /127\.0\.0\.1 is not in the cert's list/,
    ],
  ])('%s: no connection; /ready 200 but "disconnected", /health/details degraded, tbo_redis_up 0, memory only', async (_name, make, why) => {
    const redis = await tlsRedis(await make());
    try {
      const env = tlsEnv(redis, { REDIS_PASSWORD });
      const a = await instance(env);
      const b = await instance(env);
      await waitFor(async () => (await details(a)).redis?.state === 'disconnected', { timeoutMs: 15_000, what: '/health/details to report Redis disconnected' });

      const readyA = await ready(a);
      expect(readyA).toEqual({ status: 200, redis: 'disconnected', memoryEntries: 0 });
      const health = await details(a);
      expect(health.httpStatus).toBe(200);
      expect(health.status).toBe('degraded');
      expect(health.redis).toEqual({ status: 'degraded', state: 'disconnected', last_error: expect.stringMatching(why), last_error_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expect(health.redis?.last_error).toMatch(/^redis 127\.0\.0\.1:\d+: /);
      expect(health.text).not.toContain(REDIS_PASSWORD);
      expect(health.text).not.toContain('BEGIN CERTIFICATE');
      expect(await metric(a, REDIS_UP)).toBe(0);

      // Still serving, from memory: A's answer is A's alone.
      const calls = fake.calls; // /health/details made its own upstream call
      expect(await ask(a, 'memory only')).toEqual({ status: 200, cache: 'miss', text: 'echo: memory only' });
      expect(await ask(a, 'memory only')).toEqual({ status: 200, cache: 'hit', text: 'echo: memory only' });
      expect(await ask(b, 'memory only')).toEqual({ status: 200, cache: 'miss', text: 'echo: memory only' });
      expect(fake.calls - calls).toBe(2);
      expect(await metric(a, REDIS_SETS_OK)).toBeUndefined();
      // Stable, not flapping between "connecting" and "disconnected" as reconnects are tried.
      for (let i = 0; i < 5; i++) expect((await ready(b)).redis).toBe('disconnected');
    } finally {
      await Promise.all(running.splice(0).map((t) => t.close()));
      await redis.stop();
    }
  });
});
