/**
 * Edges: an oversized declared body is refused with 413 before authentication and the connection
 * is closed without reading the body; an early 401 closes too (it never drains a body); the Redis
 * password in REDIS_URL is redacted like the other secrets.
 */
import * as net from 'node:net';
import { createLogger } from '../../service/src/observability/logger';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { redisCli, startRedis, stopAll } from '../support/redis';
import { ALPHA_KEY, TWO_TENANTS, ask, chat, post, secEnv, startSecured, type SecuredTbo } from './support';

let fake: FakeUpstream;
const running: SecuredTbo[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await Promise.all(running.splice(0).map((t) => t.close()));
  await stopAll();
  await fake?.close();
});
beforeEach(() => fake.reset());

async function service(extra: Record<string, string> = {}, deps: Parameters<typeof startSecured>[1] = {}): Promise<SecuredTbo> {
  const tbo = await startSecured(secEnv(fake.url, { TBO_API_KEYS: TWO_TENANTS, ...extra }), deps);
  running.push(tbo);
  return tbo;
}

interface Exchange {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from sending the request head to the first response byte. */
  readonly firstByteMs: number | undefined;
  /** The server ended the connection (FIN or reset) before our deadline; we never closed it. */
  readonly closedByServer: boolean;
}

/**
 * Sends a request head and only `bodyBytes` of its body on a raw socket, never ends the socket,
 * and reports the response and whether the server closed the connection within `deadlineMs`.
 */
function exchange(baseUrl: string, head: string, bodyBytes: number, deadlineMs: number): Promise<Exchange> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let sentAt = 0;
    let firstByteMs: number | undefined;
    let closedByServer = false;
    const finish = () => {
      clearTimeout(deadline);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = (end < 0 ? raw : raw.slice(0, end)).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = end < 0 ? '' : raw.slice(end + 4);
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: headers['transfer-encoding'] === 'chunked' ? dechunk(body) : body, firstByteMs, closedByServer });
    };
    const deadline = setTimeout(finish, deadlineMs);
    socket.on('connect', () => {
      sentAt = Date.now();
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(bodyBytes, 0x20)]));
    });
    socket.on('data', (chunk: Buffer) => {
      firstByteMs ??= Date.now() - sentAt;
      chunks.push(chunk);
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', () => {
      closedByServer = true;
      finish();
    });
  });
}

function dechunk(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd < 0) return out;
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

const head = (path: string, contentLength: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`;

describe('oversized and unauthenticated bodies', () => {
  it('a declared 4,000 MB body without credentials gets 413 (not 401) at once, and the connection is closed without reading the body', async () => {
    const tbo = await service();
    const declared = 4000 * 1024 * 1024;
    const anthropicReply = await exchange(tbo.url, head('/v1/messages', declared), 4096, 3000);
    expect(anthropicReply.status).toBe(413);
    expect(JSON.parse(anthropicReply.body)).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    expect(anthropicReply.headers.connection).toBe('close');
    expect(anthropicReply.closedByServer).toBe(true);
    expect(anthropicReply.firstByteMs).toBeLessThan(1000);

    const openaiReply = await exchange(tbo.url, head('/v1/chat/completions', declared, 'Authorization: Bearer wrong-key-0123456789abcdef\r\n'), 4096, 3000);
    expect(openaiReply.status).toBe(413);
    expect(JSON.parse(openaiReply.body)).toMatchObject({ error: { type: expect.any(String), message: expect.stringMatching(/limit/) } });
    expect(openaiReply.closedByServer).toBe(true);
    expect(fake.calls).toBe(0);
  });

  it('a 401 on a request whose body has not arrived closes the connection instead of draining it', async () => {
    const tbo = await service();
    const reply = await exchange(tbo.url, head('/v1/messages', 500_000, 'x-api-key: wrong-key-0123456789abcdef\r\n'), 1024, 3000);
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(reply.headers.connection).toBe('close');
    expect(reply.closedByServer).toBe(true);

    // A good request is not affected.
    expect((await post(tbo.url, '/v1/messages', { 'x-api-key': ALPHA_KEY }, ask('still fine'))).status).toBe(200);
  });
});

describe('the Redis password', () => {
  it('from REDIS_URL is redacted from everything a client sees (upstream error bodies echoing it) and from the logs', async () => {
    const password = 'redis-PASSWORD-canary-31337';
    const redis = await startRedis();
    await redisCli(redis.port, 'CONFIG', 'SET', 'requirepass', password);
    let logs = '';
    const logger = createLogger('debug', 'tbo', { write: (line: string) => void (logs += line) });
    const tbo = await service({ REDIS_URL: `redis://:${password}@127.0.0.1:${redis.port}` }, { logger });
    await waitFor(() => tbo.service.redis?.clients.every((c) => c.status === 'ready') ?? false, { timeoutMs: 20_000, what: 'TBO to connect to Redis with the password' });

    const echoed = `upstream gateway: cannot reach redis://default:${password}@10.0.0.5:6379`;
    const replies: string[] = [];
    for (const status of [500, 400]) {
      fake.respondNext(1, { status, body: { type: 'error', error: { type: 'api_error', message: echoed } } });
      const a = await post(tbo.url, '/v1/messages', { 'x-api-key': ALPHA_KEY, 'cache-control': 'no-store' }, ask(`echo ${status}`));
      expect(a.status).toBe(status);
      replies.push(`${[...a.headers].join('\n')}\n${a.text}`);
      fake.respondNext(1, { status, body: { error: { message: echoed, type: 'server_error', param: null, code: null } } });
      const o = await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${ALPHA_KEY}`, 'cache-control': 'no-store' }, chat(`echo ${status}`));
      expect(o.status).toBe(status);
      replies.push(`${[...o.headers].join('\n')}\n${o.text}`);
    }
    for (const reply of replies) {
      expect(reply).toContain('upstream gateway: cannot reach');
      expect(reply).not.toContain(password);
    }

    // A second instance with a wrong password logs Redis errors: never with the password.
    const wrong = 'wrong-PASSWORD-canary-4242';
    const refused = await service({ REDIS_URL: `redis://:${wrong}@127.0.0.1:${redis.port}` }, { logger });
    await waitFor(() => /redis error/.test(logs), { timeoutMs: 10_000, what: 'a logged Redis error' });
    await refused.close();
    await redis.stop();
    logger.flush();
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(wrong);
  });
});
