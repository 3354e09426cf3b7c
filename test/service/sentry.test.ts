/**
 * SENTRY_DSN: internal errors (500 api_error) and crashes reach Sentry through the real SDK (a
 * loopback endpoint receives its envelopes), tagged with the request id, route, tenant and release,
 * and scrubbed before they leave: no prompt text, no credential, no header with a key.
 * The "built service" cases run `service/dist/main.js`: `npm run build --prefix service` first
 * (`npm test`'s pretest does).
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Breadcrumb, ErrorEvent } from '../../service/node_modules/@sentry/node';
import type { Upstream } from '../../service/src/adapters/upstream/types';
import { ConfigError } from '../../service/src/config/load';
import { createLogger } from '../../service/src/observability/logger';
import { ErrorReporter, installCrashHandlers, sentryIdentity } from '../../service/src/observability/sentry';
import { SAFE_HEADERS, scrubBreadcrumb, scrubEvent } from '../../service/src/observability/sentry-scrub';
import { startSentryReceiver, type SentryReceiver } from '../support/sentry-receiver';
import { ANTHROPIC_KEY, OPENAI_KEY, REPO_ROOT, SERVICE_MAIN, startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const MARKER = 'PROMPT-MARKER-7f3a91';
const CLIENT_KEY = 'tenant-key-acme-0123456789abcdef';
const JWT_SECRET = 'jwt-secret-SENTINEL-0123456789abcdef0123456789';
const SIGNING_KEY = 'signing-key-SENTINEL-0123456789abcdef01234567';
const REDIS_PASSWORD = 'redis-pass-SENTINEL-0123456789';
/** Every credential the test's service holds or receives: none may reach Sentry. */
const CREDENTIALS = [ANTHROPIC_KEY, OPENAI_KEY, CLIENT_KEY, JWT_SECRET, SIGNING_KEY, REDIS_PASSWORD];
const SERVICE_PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'service', 'package.json'), 'utf8')) as { name: string; version: string };

/**
 * An upstream whose answer carries a header value Node refuses to send (a line break): writing the
 * response throws a TypeError (ERR_INVALID_CHAR) outside the upstream error handling, which the
 * service answers as a 500 `api_error`, an internal error.
 */
const brokenUpstream: Upstream = {
  async send() {
    const body = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-test', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
    return { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_up\r\nx-injected: 1' }, body: Readable.from([Buffer.from(JSON.stringify(body))]) };
  },
  async close() {},
};

let receiver: SentryReceiver;

beforeAll(async () => {
  receiver = await startSentryReceiver();
});
afterAll(async () => {
  await receiver?.close();
});
beforeEach(() => receiver.reset());

function env(extra: Record<string, string> = {}): Record<string, string> {
  return upstreamEnv('http://127.0.0.1:9', {
    SENTRY_DSN: receiver.dsn(),
    TBO_API_KEYS: `acme:${CLIENT_KEY}`,
    JWT_SECRET_KEY: JWT_SECRET,
    TBO_CACHE_SIGNING_KEY: SIGNING_KEY,
    REDIS_PASSWORD,
    ...extra,
  });
}

/** Runs `fn` with process env vars set, restoring them after. */
async function withProcessEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

function expectNoLeak(raw: Buffer): void {
  const text = raw.toString('utf8');
  expect(text).not.toContain(MARKER);
  for (const credential of CREDENTIALS) expect(text).not.toContain(credential);
  expect(text.toLowerCase()).not.toMatch(/authorization|x-api-key|cookie/);
}

describe('Sentry reports of internal errors', () => {
  let tbo: RunningTbo | undefined;
  afterEach(async () => {
    await tbo?.close();
    tbo = undefined;
  });

  it('reports a 500 api_error with request id, route, tenant and release, scrubbed of prompts, credentials and key headers', async () => {
    const event = await withProcessEnv({ SENTRY_RELEASE: undefined, SENTRY_ENVIRONMENT: 'ci-test' }, async () => {
      tbo = await startTbo(env(), { upstreams: { anthropic: brokenUpstream } });
      const res = await fetch(`${tbo.url}/v1/messages?note=${MARKER}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'x-api-key': CLIENT_KEY,
          authorization: `Bearer ${JWT_SECRET}`,
          cookie: `session=${MARKER}`,
          'x-request-id': 'req-sentry-1',
          'x-custom-note': MARKER,
          // An allow-listed header holding a credential: dropped whole, not trimmed.
          'user-agent': `test-agent/1.0 (${ANTHROPIC_KEY})`,
        },
        body: JSON.stringify({
          model: 'claude-test',
          max_tokens: 16,
          system: `you are ${MARKER}`,
          messages: [{ role: 'user', content: `${MARKER} please repeat ${OPENAI_KEY} and ${REDIS_PASSWORD}` }],
        }),
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'api_error', message: 'internal error' } });
      const [received] = await receiver.waitForEvents(1);
      return received as unknown as ErrorEvent;
    });

    // The failure the upstream provoked (not some other internal error on the way).
    expect(event.exception?.values?.[0]).toMatchObject({ type: 'TypeError', value: expect.stringContaining('Invalid character in header content') });
    expect(event.tags).toMatchObject({ request_id: 'req-sentry-1', route: '/v1/messages', tenant: 'acme' });
    expect(event.release).toBe(`${SERVICE_PACKAGE.name}@${SERVICE_PACKAGE.version}`);
    expect(event.environment).toBe('ci-test');
    expect(event.level).toBe('error');
    // The original error (the TBO error's cause), not "internal error".
    expect(event.exception?.values?.[0]).toMatchObject({ type: 'TypeError', mechanism: { type: 'tbo.internal_error', handled: false } });
    expect(event.exception?.values?.[0].stacktrace?.frames?.length).toBeGreaterThan(0);
    expect(event.request).toEqual({
      method: 'POST',
      url: '/v1/messages',
      headers: expect.objectContaining({ 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'x-request-id': 'req-sentry-1', 'user-agent': '[redacted]' }),
    });
    expect(Object.keys(event.request?.headers ?? {}).every((h) => SAFE_HEADERS.has(h))).toBe(true);
    expect(event.breadcrumbs ?? []).toEqual([]);
    expect(event.user).toBeUndefined();
    for (const envelope of receiver.envelopes) expectNoLeak(envelope.raw);
  });

  it('does not load the SDK or report anything without SENTRY_DSN', async () => {
    let loaded = 0;
    const load = () => {
      loaded++;
      throw new Error('must not load');
    };
    expect(ErrorReporter.fromConfig({ sentryDsn: undefined }, (t) => t, createLogger('silent'), {}, load)).toBeUndefined();
    expect(loaded).toBe(0);

    tbo = await startTbo(env({ SENTRY_DSN: '' }), { upstreams: { anthropic: brokenUpstream } });
    expect(tbo.service.errors).toBeUndefined();
    const res = await fetch(`${tbo.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': CLIENT_KEY },
      body: JSON.stringify({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(500);
    await tbo.close();
    tbo = undefined;
    expect(receiver.envelopes).toHaveLength(0);
  });
});

describe('crash reports', () => {
  it('prints, reports a fatal event (scrubbed), waits for it to be sent, then exits 1; a second crash exits at once', async () => {
    const tbo = await startTbo(env(), { upstreams: { anthropic: brokenUpstream } });
    const proc = new EventEmitter();
    const exits: number[] = [];
    const printed: unknown[] = [];
    let exited!: () => void;
    const exitedOnce = new Promise<void>((resolve) => (exited = resolve));
    try {
      const remove = installCrashHandlers(tbo.service.errors as ErrorReporter, {
        process: proc,
        exit: (code) => {
          exits.push(code);
          exited();
        },
        print: (e) => printed.push(e),
      });
      proc.emit('unhandledRejection', new Error(`worker failed on "${MARKER}" with ${ANTHROPIC_KEY}`));
      await exitedOnce;
      // The exit came after the report was sent (the flush waited for it).
      expect(receiver.events()).toHaveLength(1);
      const event = receiver.events()[0] as unknown as ErrorEvent;
      expect(event).toMatchObject({ level: 'fatal', tags: { crash: 'unhandledRejection' }, release: `${SERVICE_PACKAGE.name}@${SERVICE_PACKAGE.version}` });
      expect(event.exception?.values?.[0]).toMatchObject({ type: 'Error', value: '[redacted]' });
      expectNoLeak(receiver.envelopes[0].raw);

      proc.emit('uncaughtException', new Error('while reporting the first'));
      expect(exits).toEqual([1, 1]);
      expect(printed).toHaveLength(2);
      remove();
      expect(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection')).toBe(0);
    } finally {
      await tbo.close();
    }
  });
});

/**
 * Runs the built service (`service/dist/main.js`, as the image does) in a node process with `script`
 * run after it started; resolves with the exit code and output. Needs a current build.
 */
async function runBuiltService(extraEnv: Record<string, string>, script: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(SERVICE_MAIN)}); ${script}`], {
    env: { PATH: process.env.PATH ?? '', ...upstreamEnv('http://127.0.0.1:9', extraEnv) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

describe('the built service (dist/)', () => {
  /** Prints whether the Sentry bundle (dist/optional-sentry.js) was loaded. */
  const printLoaded = `console.log('sentry-loaded=' + Object.keys(require.cache).some((f) => f.endsWith('optional-sentry.js')));`;

  it('never loads the Sentry bundle without SENTRY_DSN', async () => {
    const { code, output } = await runBuiltService({}, `setTimeout(() => { ${printLoaded} process.exit(0); }, 100);`);
    expect(code).toBe(0);
    expect(output).toContain('sentry-loaded=false');
  });

  it('with SENTRY_DSN, loads it and reports an uncaught exception, sent before the process exits 1', async () => {
    const { code, output } = await runBuiltService({ SENTRY_DSN: receiver.dsn() }, `setTimeout(() => { ${printLoaded} throw new Error('crash in the built service with ${ANTHROPIC_KEY}'); }, 50);`);
    expect(code).toBe(1);
    expect(output).toContain('sentry-loaded=true');
    expect(output).toContain('crash in the built service'); // printed, as Node prints an uncaught exception
    // Already here when the process ended: the exit waited for the report.
    expect(receiver.events()).toHaveLength(1);
    expect(receiver.events()[0]).toMatchObject({ level: 'fatal', tags: { crash: 'uncaughtException' }, exception: { values: [{ value: '[redacted]' }] } });
    expectNoLeak(receiver.envelopes[0].raw);
  });
});

describe('release and environment', () => {
  it('default to the service package version and none; SENTRY_RELEASE and SENTRY_ENVIRONMENT override', () => {
    expect(sentryIdentity({})).toEqual({ release: `${SERVICE_PACKAGE.name}@${SERVICE_PACKAGE.version}` });
    expect(sentryIdentity({ SENTRY_RELEASE: 'tbo@2026.12.02+abc123', SENTRY_ENVIRONMENT: 'staging' })).toEqual({ release: 'tbo@2026.12.02+abc123', environment: 'staging' });
  });

  it('are refused at start-up when Sentry would reject them, naming the variable and the accepted shape', () => {
    expect(() => sentryIdentity({ SENTRY_RELEASE: 'a/b' })).toThrow(ConfigError);
    expect(() => sentryIdentity({ SENTRY_RELEASE: '..' })).toThrow(/SENTRY_RELEASE: must be 1-200 characters/);
    expect(() => sentryIdentity({ SENTRY_ENVIRONMENT: 'prod env' })).toThrow(/SENTRY_ENVIRONMENT: must be 1-64 characters without "\/" or whitespace; got "prod env"/);
  });
});

describe('scrubber (beforeSend / beforeBreadcrumb)', () => {
  const SECRET = 'sk-held-credential-0123456789';
  const redact = (text: string) => text.split(SECRET).join('[redacted]');

  it('drops bodies, cookies, query strings, prompt fields at any depth and headers outside the allow-list', () => {
    const event = {
      event_id: 'e1',
      level: 'error',
      message: `failed on "${MARKER}"`,
      request: {
        method: 'POST',
        url: `http://gw/v1/messages?q=${MARKER}#frag`,
        data: { messages: [{ role: 'user', content: MARKER }] },
        cookies: { s: MARKER },
        query_string: `q=${MARKER}`,
        env: { OPENAI_API_KEY: SECRET },
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${MARKER}`, 'X-Api-Key': MARKER, 'x-custom': MARKER, 'user-agent': `ua ${SECRET}` },
      },
      extra: {
        payload: { model: 'claude-test', system: MARKER, input: MARKER, nested: { deeper: { prompt: MARKER, kept: 'fine' } } },
        api_key: 'not-even-a-held-one',
        note: `contains ${SECRET} inside`,
        [`key-${SECRET}`]: 'key holds a credential',
      },
      contexts: { upstream: { password: 'pw', token: 't', status: 500 } },
      user: { ip_address: '10.0.0.1' },
      sdkProcessingMetadata: { normalizedRequest: { data: MARKER } },
      exception: { values: [{ type: 'SyntaxError', value: `Unexpected token 'h', "${MARKER} hello" is not valid JSON`, stacktrace: { frames: [{ filename: 'x.js', function: 'f', lineno: 1, vars: { body: MARKER } }] } }] },
      breadcrumbs: [{ category: 'http', data: { url: `http://gw/?k=${MARKER}` } }, { category: 'tbo', message: 'started', data: { body: MARKER }, level: 'info', timestamp: 1 }],
    } as unknown as ErrorEvent;
    const out = scrubEvent(event, redact);
    const text = JSON.stringify(out);
    expect(text).not.toContain(MARKER);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/not-even-a-held-one|"pw"|ip_address|normalizedRequest/);
    expect(out.request).toEqual({ method: 'POST', url: 'http://gw/v1/messages', headers: { 'content-type': 'application/json', 'user-agent': '[redacted]' } });
    expect(out.extra).toEqual({ payload: { model: 'claude-test', nested: { deeper: { kept: 'fine' } } }, note: '[redacted]' });
    expect(out.contexts).toEqual({ upstream: { status: 500 } });
    expect(out.exception?.values?.[0]).toEqual({ type: 'SyntaxError', value: `Unexpected token 'h', "[text]" is not valid JSON`, stacktrace: { frames: [{ filename: 'x.js', function: 'f', lineno: 1 }] } });
    expect(out.breadcrumbs).toEqual([{ category: 'tbo', message: 'started', level: 'info', timestamp: 1 }]);
    expect(out.message).toBe('failed on "[text]"');
    expect(out.event_id).toBe('e1');
  });

  it('drops HTTP breadcrumbs and every breadcrumb\'s data, and credentials in messages', () => {
    expect(scrubBreadcrumb({ category: 'http', message: 'GET http://x' }, redact)).toBeNull();
    expect(scrubBreadcrumb({ type: 'http', category: 'other' }, redact)).toBeNull();
    expect(scrubBreadcrumb({ category: 'console', message: `key ${SECRET}`, data: { arguments: [MARKER] } } as Breadcrumb, redact)).toEqual({ category: 'console', message: '[redacted]' });
  });

  it('survives cycles and depth', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    const out = scrubEvent({ type: undefined, extra: { cyclic, deep } } as ErrorEvent, redact);
    expect((out.extra?.cyclic as Record<string, unknown>).self).toBe('[dropped]');
    expect(JSON.stringify(out.extra?.deep)).toContain('[dropped]');
  });
});
