/**
 * A rolling deploy of one instance on the loopback topology (see topology.test.ts): in the order a
 * deploy does it, the instance leaves nginx's rotation first (nginx.conf re-rendered with it
 * `down`, `nginx -s reload`), then, after a deregistration delay, gets SIGTERM and drains. A long
 * stream it serves through nginx meanwhile completes, new requests go to the other two, and the
 * instance exits 0 once the stream has ended.
 *
 * Needs a current build (`npm run build --prefix service`) and, from apt: nginx, redis-server.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROBE_PATHS } from '../../service/src/config/settings';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startRedis, type RedisHandle } from '../support/redis';
import { spawnTbo, upstreamEnv, type TboProcess } from '../support/tbo';
import { closeClients, send, type Reply } from './client';
import { loopbackValues, readNginxConf, renderNginxConf, startNginx, type AccessLogLine, type NginxProcess } from './nginx';
import { portOf, servedBy as servedByOneOf, streamText } from './fleet';
import { guard } from './processes';

const TENANT = 'roll';
const KEY = `${TENANT}-key-0123456789abcdef`;
const MODEL = 'claude-haiku-4-5';
/** The stream lasts this long upstream (frames evenly spaced), the drain timeout comfortably more. */
const STREAM_MS = 45_000;
const DRAIN_TIMEOUT_S = 60;
/** What a load balancer waits between deregistering a target and stopping it. */
const DEREGISTRATION_DELAY_MS = 2_000;
/** The fake upstream's answer text `echo: <prompt>` is sent in 8-character deltas from 24 characters on. */
const ANSWER_CHARS = 320;
const report = process.env.TBO_TOPOLOGY_REPORT === '1';

let fake: FakeUpstream;
let redis: RedisHandle;
const instances: TboProcess[] = [];
const unguards: (() => void)[] = [];
let nginx: NginxProcess;
let source: string;

/** nginx.conf for loopback with the per-IP limits raised; the instances in `down` are out of rotation. */
function render(port: number, down: ReadonlySet<number> = new Set()): string {
  const values = loopbackValues(port, instances.map(portOf));
  for (const i of down) values[`tbo-${i + 1}:8000`] += ' down';
  return renderNginxConf(source, { ...values, 'rate=10r/s': 'rate=100000r/s', '10': '1000' });
}

beforeAll(async () => {
  source = await readNginxConf();
  fake = await startFakeUpstream();
  redis = await startRedis();
  const env = upstreamEnv(fake.url, {
    REDIS_URL: redis.url,
    TBO_API_KEYS: `${TENANT}:${KEY}`,
    TBO_DRAIN_TIMEOUT: String(DRAIN_TIMEOUT_S),
  });
  const started = await Promise.allSettled(
    [0, 1, 2].map(async (i) => {
      const proc = await spawnTbo(env);
      instances[i] = proc;
      unguards.push(guard(proc.child.pid as number, 'SIGKILL'));
    }),
  );
  for (const result of started) if (result.status === 'rejected') throw result.reason;
  nginx = await startNginx((port) => render(port));
}, 30_000);

afterAll(async () => {
  closeClients();
  await nginx?.stop();
  await Promise.all(instances.map(async (proc) => {
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
    await proc.stop('SIGTERM');
    clearTimeout(timer);
  }));
  for (const unguard of unguards) unguard();
  await redis?.stop();
  await fake?.close();
}, 30_000);


/** Index (0-2) of the instance that finally served a logged request, -1 when none did. */
const servedBy = (line: AccessLogLine) => servedByOneOf(line, instances);

/** Proxied requests an instance has answered the headers of (every cache outcome), from its admin /metrics. */
async function proxied(proc: TboProcess): Promise<number> {
  const { status, body } = await send(Number(new URL(proc.adminUrl).port), { path: PROBE_PATHS.metrics, headers: { connection: 'close' } });
  if (status !== 200) throw new Error(`${proc.adminUrl}/metrics: HTTP ${status}`);
  return body
    .split('\n')
    .filter((l) => l.startsWith('tbo_cache_requests_total{'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}


function messages(prompt: string, opts: { stream?: boolean; from: string; id: string; connection?: string }): Promise<Reply> {
  return send(nginx.port, {
    path: '/v1/messages',
    from: opts.from,
    timeoutMs: STREAM_MS + 30_000,
    headers: { 'x-api-key': KEY, 'x-request-id': opts.id, 'anthropic-version': '2023-06-01', ...(opts.connection ? { connection: opts.connection } : {}) },
    json: { model: MODEL, max_tokens: 512, messages: [{ role: 'user', content: prompt }], ...(opts.stream ? { stream: true } : {}) },
  });
}

describe('a rolling deploy of one instance on loopback: out of nginx first, then SIGTERM', () => {
  it(`a ${STREAM_MS / 1000} s stream through nginx completes while its instance is rolled; new requests go to the others`, async () => {
    // The answer `echo: <prompt>` in 40 deltas: 46 frames (message_start, content_block_start,
    // ping, deltas, content_block_stop, message_delta, message_stop), 45 gaps spanning STREAM_MS.
    const head = `roll ${randomUUID()} `;
    const prompt = head + 'x'.repeat(ANSWER_CHARS - 'echo: '.length - head.length);
    const frames = Math.ceil(ANSWER_CHARS / 8) + 6;
    fake.setStreamChunkDelay(Math.ceil(STREAM_MS / (frames - 1)));
    try {
      const before = await Promise.all(instances.map(proxied));
      const startedAt = Date.now();
      const streamId = `roll-stream-${randomUUID().slice(0, 8)}`;
      const stream = messages(prompt, { stream: true, from: '127.0.0.5', id: streamId });
      stream.catch(() => undefined); // awaited below; an early failure must not go unhandled

      // The instance that serves it: the one whose proxied count went up (at its response headers).
      let victimIndex = -1;
      await waitFor(
        async () => {
          const now = await Promise.all(instances.map(proxied));
          const moved = now.map((n, i) => n - before[i]).flatMap((d, i) => (d > 0 ? [i] : []));
          if (moved.length === 1) victimIndex = moved[0];
          return moved.length === 1;
        },
        { what: 'the instance serving the stream', timeoutMs: 10_000, intervalMs: 50 },
      );
      const victim = instances[victimIndex];
      const others = [0, 1, 2].filter((i) => i !== victimIndex);

      // 1. Out of rotation: nginx.conf with the instance `down`, reloaded.
      await nginx.reload(render(nginx.port, new Set([victimIndex])));
      const reloadedAt = Date.now();
      // 2. The deregistration delay (deliberate, the one fixed wait), then 3. SIGTERM.
      await sleep(DEREGISTRATION_DELAY_MS);
      const killAt = Date.now();
      expect(killAt - startedAt).toBeLessThan(STREAM_MS / 2); // the stream has most of its time left
      victim.child.kill('SIGTERM');
      let exitAt = 0;
      const exited = victim.exited.then((code) => ((exitAt = Date.now()), code));

      // New requests during the drain: all answered, none by the draining instance. A fresh client
      // address and no keep-alive, so no request rides a connection of a pre-reload nginx worker.
      const during: { id: string; reply: Reply }[] = [];
      let streamDone = false;
      void stream.then(() => (streamDone = true), () => (streamDone = true));
      // Each is a miss the fake upstream answers in 300 ms: 30 of them span the first ~10 s of the drain.
      fake.setLatency(300);
      while (!streamDone && during.length < 30) {
        const id = `roll-drain-${during.length}-${randomUUID().slice(0, 8)}`;
        during.push({ id, reply: await messages(`during the drain ${randomUUID()}`, { from: '127.0.0.4', id, connection: 'close' }) });
      }
      fake.setLatency(0);

      const reply = await stream;
      const streamEndedAt = reply.endedAt;
      const { text, complete } = streamText(reply.body);
      expect(reply.status).toBe(200);
      expect(complete).toBe(true);
      expect(text).toBe(`echo: ${prompt}`);
      expect(streamEndedAt - startedAt).toBeGreaterThanOrEqual(STREAM_MS);
      expect(servedBy(await nginx.logOf(streamId))).toBe(victimIndex);

      const code = await Promise.race([exited, sleep((DRAIN_TIMEOUT_S + 10) * 1000, 'timeout' as const, { ref: false })]);
      expect(code).toBe(0);
      expect(exitAt).toBeGreaterThanOrEqual(streamEndedAt - 50); // the drain waited for the stream
      expect(exitAt - killAt).toBeLessThan(DRAIN_TIMEOUT_S * 1000); // ... and ended with it, not at the timeout
      expect(fake.aborted).toBe(0);

      expect(during.length).toBeGreaterThanOrEqual(10);
      expect(during.map((d) => d.reply.status)).toEqual(during.map(() => 200));
      const lines = await Promise.all(during.map((d) => nginx.logOf(d.id)));
      expect(lines.filter((l) => servedBy(l) === victimIndex || l.upstream.includes(`:${portOf(victim)}`))).toEqual([]);
      expect(new Set(lines.map(servedBy))).toEqual(new Set(others));
      if (report) {
        console.warn(
          `roll: stream ${streamEndedAt - startedAt} ms on instance ${victimIndex}; reload at +${reloadedAt - startedAt} ms, ` +
            `SIGTERM at +${killAt - startedAt} ms, exit 0 at +${exitAt - startedAt} ms (drain ${exitAt - killAt} ms, ` +
            `${exitAt - streamEndedAt} ms after the stream ended); ${during.length} requests during the drain on instances ` +
            `${[...new Set(lines.map(servedBy))].join(',')}`,
        );
      }
    } finally {
      fake.setLatency(0);
      fake.setStreamChunkDelay(0);
    }
  }, STREAM_MS + 45_000);
});
