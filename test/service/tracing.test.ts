/**
 * OpenTelemetry traces (issue 15): the spans the service exports to a loopback OTLP/HTTP receiver
 * for a miss, a hit, a coalesced pair, a retried call, a fallback and a queued call, with the GenAI
 * semantic conventions' attribute names taken from @opentelemetry/semantic-conventions (a rename
 * upstream breaks this test, not production); W3C trace context from the client, through the
 * service, to the upstream; no prompt text unless TBO_TRACE_CONTENT; export failures logged once
 * and never failing a request; and the OTEL_* settings that turn tracing on and off.
 *
 * The services run in-process with their tracing passed in (ServiceDeps.tracing, built by the
 * service's own `startTracing` from an env map), so nothing here touches process.env. Spans are
 * exported on demand (`flush`), never waited for on a timer.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
} from '@opentelemetry/semantic-conventions/incubating';
import { createLogger } from '../../service/src/observability/logger';
import { COALESCED_LINK, NO_TRACING, startTracing, TBO_ATTR, TBO_SPAN, traceExport, type Tracing } from '../../service/src/observability/tracing';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startRedis } from '../support/redis';
import { SPAN_KIND, STATUS_CODE, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { waitFor } from '../support/ports';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

// The OTLP exporter loads node:http with a dynamic import(), which jest's CommonJS sandbox cannot
// run (it would need --experimental-vm-modules): this suite has the real exporter loaded by Node's
// own loader (`Module._load`: jest answers createRequire and getBuiltinModule from its sandbox).
// Outside jest (the bundled service: tracing-dist.test.ts) the exporter loads as it is.
jest.mock('../../service/node_modules/@opentelemetry/exporter-trace-otlp-http', () => {
  const nodeModule = jest.requireActual<{ _load(request: string, parent: null, isMain: boolean): unknown }>('node:module');
  return nodeModule._load(require.resolve('../../service/node_modules/@opentelemetry/exporter-trace-otlp-http'), null, false);
});

const ROUTING = {
  TBO_MODELS_FAST: 'anthropic:fast-a',
  TBO_MODELS_BALANCED: 'anthropic:balanced-a',
  TBO_MODELS_STRONGEST: 'anthropic:strong-a',
  TBO_MAX_RETRIES: '1',
};

/** Log lines of a service, as JSON objects. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', 'tbo-test', destination), lines };
}

let fake: FakeUpstream;
let receiver: OtlpReceiver;
const started: RunningTbo[] = [];

/** A service exporting to the receiver; `otel` adds OTEL_* settings, `env` TBO ones. */
async function tracedTbo(opts: { otel?: Record<string, string>; env?: Record<string, string>; traceContent?: boolean } = {}) {
  const { logger, lines } = capturingLogger();
  const tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...opts.otel }, { serviceName: 'tbo-test', traceContent: opts.traceContent ?? false, logger });
  const running = await startTbo(upstreamEnv(fake.url, { ...ROUTING, ...opts.env }), { tracing, logger, sleep: async () => undefined, random: () => 0.5 });
  started.push(running);
  return { running, tracing, lines };
}

let main: { running: RunningTbo; tracing: Tracing; lines: Record<string, unknown>[] };

beforeAll(async () => {
  [fake, receiver] = await Promise.all([startFakeUpstream(), startOtlpReceiver()]);
  main = await tracedTbo();
});
afterAll(async () => {
  await Promise.all(started.map((t) => t.close()));
  await Promise.all([fake.close(), receiver.close()]);
});
beforeEach(() => fake.reset());

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A client's sampled W3C trace context. */
function clientContext() {
  const traceId = hex(16);
  const parentId = hex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

async function messages(t: RunningTbo, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ max_tokens: 64, ...body }),
  });
  return { status: res.status, cache: res.headers.get('x-tbo-cache'), text: await res.text() };
}

/** Every span of one trace, once its SERVER span(s) arrived (exported by a flush, not a timer). */
async function traceOf(tracing: Tracing, traceId: string, servers = 1): Promise<ReceivedSpan[]> {
  await tracing.flush();
  const mine = () => receiver.spans.filter((s) => s.traceId === traceId);
  await receiver.waitFor(() => mine().filter((s) => s.kind === SPAN_KIND.server).length >= servers, `${servers} server span(s) of trace ${traceId}`);
  return mine();
}

const serverSpan = (spans: readonly ReceivedSpan[]) => spans.find((s) => s.kind === SPAN_KIND.server) as ReceivedSpan;
const attempts = (spans: readonly ReceivedSpan[]) => spans.filter((s) => s.kind === SPAN_KIND.client && s.attributes[ATTR_GEN_AI_PROVIDER_NAME] !== undefined).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
const lookups = (spans: readonly ReceivedSpan[]) => spans.filter((s) => s.name.startsWith(TBO_SPAN.cacheLookup));

describe('spans of a cache miss and a hit', () => {
  const prompt = 'trace me: miss then hit';
  let missTrace: ReceivedSpan[];
  let client: ReturnType<typeof clientContext>;

  beforeAll(async () => {
    client = clientContext();
    const r = await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content: prompt }] }, { traceparent: client.traceparent });
    expect([r.status, r.cache]).toEqual([200, 'miss']);
    missTrace = await traceOf(main.tracing, client.traceId);
  });

  it('a miss: one SERVER span with the GenAI conventions and TBO attributes, continuing the client trace', () => {
    const server = serverSpan(missTrace);
    expect(server.parentSpanId).toBe(client.parentId);
    expect(server.name).toBe('POST /v1/messages');
    expect(server.resource[ATTR_SERVICE_NAME]).toBe('tbo-test');
    expect(server.attributes).toMatchObject({
      [ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [ATTR_HTTP_ROUTE]: '/v1/messages',
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
      [ATTR_GEN_AI_PROVIDER_NAME]: GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
      [ATTR_GEN_AI_REQUEST_MODEL]: 'claude-x',
      [ATTR_GEN_AI_RESPONSE_MODEL]: 'claude-x',
      [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
      [TBO_ATTR.cache]: 'miss',
      [TBO_ATTR.tenant]: expect.any(String),
      [TBO_ATTR.priority]: expect.any(Number),
      [TBO_ATTR.fallback]: false,
      [TBO_ATTR.backend]: 'anthropic',
    });
    expect(server.attributes[ATTR_GEN_AI_RESPONSE_ID]).toMatch(/^msg_/);
    expect(server.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBeGreaterThan(0);
    expect(server.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBeGreaterThan(0);
    // The provider attribute of the current conventions, not the one it replaced.
    expect(server.attributes[ATTR_GEN_AI_SYSTEM]).toBeUndefined();
  });

  it('a miss: a memory lookup span and one CLIENT span per upstream attempt, children of the request', () => {
    const server = serverSpan(missTrace);
    expect(lookups(missTrace).map((s) => [s.attributes[TBO_ATTR.cacheTier], s.attributes[TBO_ATTR.cacheResult], s.parentSpanId])).toEqual([['memory', 'miss', server.spanId]]);
    const [attempt, ...more] = attempts(missTrace);
    expect(more).toEqual([]);
    expect(attempt.parentSpanId).toBe(server.spanId);
    expect(attempt.attributes).toMatchObject({ [ATTR_HTTP_REQUEST_RESEND_COUNT]: 0, [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200, [ATTR_GEN_AI_REQUEST_MODEL]: 'claude-x', [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: expect.any(Number) });
    expect(attempt.status.code).not.toBe(STATUS_CODE.error);
  });

  it('a hit: the same attributes from the cached answer, a memory hit and no upstream attempt', async () => {
    const hitClient = clientContext();
    const r = await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content: prompt }] }, { traceparent: hitClient.traceparent });
    expect([r.status, r.cache]).toEqual([200, 'hit']);
    const spans = await traceOf(main.tracing, hitClient.traceId);
    const server = serverSpan(spans);
    expect(server.attributes).toMatchObject({ [TBO_ATTR.cache]: 'hit', [ATTR_GEN_AI_RESPONSE_MODEL]: 'claude-x', [ATTR_GEN_AI_RESPONSE_ID]: serverSpan(missTrace).attributes[ATTR_GEN_AI_RESPONSE_ID] });
    expect(server.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(serverSpan(missTrace).attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS]);
    expect(lookups(spans).map((s) => s.attributes[TBO_ATTR.cacheResult])).toEqual(['hit']);
    expect(attempts(spans)).toEqual([]);
  });
});

describe('trace context continuity', () => {
  it('client traceparent → server span → the upstream request carries the attempt span as parent', async () => {
    const client = clientContext();
    const r = await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content: 'continuity' }] }, { traceparent: client.traceparent });
    expect(r.status).toBe(200);
    const upstreamParent = fake.requests[0].headers.traceparent;
    const spans = await traceOf(main.tracing, client.traceId);
    const [attempt] = attempts(spans);
    expect(serverSpan(spans).parentSpanId).toBe(client.parentId);
    expect(upstreamParent).toBe(`00-${client.traceId}-${attempt.spanId}-01`);
  });

  it('without a client traceparent the request starts a new trace', async () => {
    const before = new Set(receiver.spans.map((s) => s.traceId));
    const r = await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content: 'a new trace' }] });
    expect(r.status).toBe(200);
    const [, traceId, parentId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(fake.requests[0].headers.traceparent)) ?? [];
    expect(before.has(traceId)).toBe(false);
    const spans = await traceOf(main.tracing, traceId);
    expect(serverSpan(spans).parentSpanId).toBe('');
    expect(attempts(spans)[0].spanId).toBe(parentId);
  });
});

describe('the optimizer at work', () => {
  it('a retried call: an attempt span per try, the failed one with the upstream status as error', async () => {
    fake.failNext(1, { status: 529 });
    const client = clientContext();
    const r = await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content: 'retry once' }] }, { traceparent: client.traceparent });
    expect(r.status).toBe(200);
    const spans = await traceOf(main.tracing, client.traceId);
    expect(attempts(spans).map((a) => [a.attributes[ATTR_HTTP_REQUEST_RESEND_COUNT], a.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], a.attributes[ATTR_ERROR_TYPE], a.status.code])).toEqual([
      [0, 529, '529', STATUS_CODE.error],
      [1, 200, undefined, STATUS_CODE.unset],
    ]);
    expect(serverSpan(spans).attributes).toMatchObject({ [TBO_ATTR.cache]: 'miss', [TBO_ATTR.fallback]: false });
  });

  it('a fallback: the first backend fails its tries, the second serves; the request says so', async () => {
    fake.failModel('strong-a', { status: 529 });
    const client = clientContext();
    const r = await messages(main.running, { model: 'auto', messages: [{ role: 'user', content: 'fail over' }] }, { traceparent: client.traceparent, 'x-tbo-complexity': '5' });
    expect(r.status).toBe(200);
    const spans = await traceOf(main.tracing, client.traceId);
    expect(attempts(spans).map((a) => [a.attributes[ATTR_GEN_AI_REQUEST_MODEL], a.attributes[ATTR_HTTP_REQUEST_RESEND_COUNT], a.attributes[ATTR_ERROR_TYPE]])).toEqual([
      ['strong-a', 0, '529'],
      ['strong-a', 1, '529'],
      ['balanced-a', 0, undefined],
    ]);
    expect(serverSpan(spans).attributes).toMatchObject({ [TBO_ATTR.fallback]: true, [ATTR_GEN_AI_REQUEST_MODEL]: 'auto', [ATTR_GEN_AI_RESPONSE_MODEL]: 'balanced-a', [TBO_ATTR.cache]: 'miss' });
  });

  it('a coalesced pair: the joiner is marked and linked to the leader\'s upstream attempt', async () => {
    fake.setLatency(300);
    const leader = clientContext();
    const joiner = clientContext();
    const body = { model: 'claude-x', messages: [{ role: 'user', content: 'coalesce us' }] };
    const first = messages(main.running, body, { traceparent: leader.traceparent });
    await waitFor(() => fake.requests.length === 1, { what: 'the leader reaches the upstream' });
    const second = messages(main.running, body, { traceparent: joiner.traceparent });
    expect((await Promise.all([first, second])).map((r) => [r.status, r.cache])).toEqual([[200, 'miss'], [200, 'coalesced']]);
    expect(fake.calls).toBe(1);
    const [leaderSpans, joinerSpans] = [await traceOf(main.tracing, leader.traceId), await traceOf(main.tracing, joiner.traceId)];
    const [attempt] = attempts(leaderSpans);
    const joined = serverSpan(joinerSpans);
    expect(joined.attributes).toMatchObject({ [TBO_ATTR.cache]: 'coalesced', [ATTR_GEN_AI_RESPONSE_MODEL]: 'claude-x' });
    expect(joined.links).toEqual([{ traceId: leader.traceId, spanId: attempt.spanId, attributes: { [TBO_ATTR.linkKind]: COALESCED_LINK } }]);
    expect(attempts(joinerSpans)).toEqual([]);
  });

  it('a stream: the attempt records the time to first token as an event', async () => {
    const client = clientContext();
    const r = await messages(main.running, { model: 'claude-x', stream: true, messages: [{ role: 'user', content: 'stream me' }] }, { traceparent: client.traceparent });
    expect(r.status).toBe(200);
    const spans = await traceOf(main.tracing, client.traceId);
    // The answer assembled from the stream is on the request's span too (set before the span ends).
    expect(serverSpan(spans).attributes).toMatchObject({ [ATTR_GEN_AI_RESPONSE_MODEL]: 'claude-x', [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'] });
    const [attempt] = attempts(spans);
    const event = attempt.events.find((e) => e.name === TBO_SPAN.firstToken);
    expect(event?.attributes[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeGreaterThan(0);
    expect(attempt.attributes[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBe(event?.attributes[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]);
  });

  it('a shared cache: the Redis tier\'s lookup is a span of its own', async () => {
    const redis = await startRedis();
    // No memory tier: every lookup goes on to Redis, whose entry the first answer wrote.
    const { running, tracing } = await tracedTbo({ env: { REDIS_URL: redis.url, TBO_CACHE_SIZE: '0' } });
    try {
      await waitFor(() => running.service.redis?.state === 'connected', { what: 'connected to Redis' });
      const body = { model: 'claude-x', messages: [{ role: 'user', content: 'shared between instances' }] };
      const [miss, hit] = [clientContext(), clientContext()];
      expect((await messages(running, body, { traceparent: miss.traceparent })).cache).toBe('miss');
      const client = running.service.redis?.clients[0];
      await waitFor(async () => ((await client?.keys('*:cache:*')) ?? []).length === 1, { what: 'the entry in Redis' });
      expect((await messages(running, body, { traceparent: hit.traceparent })).cache).toBe('hit');
      const tiers = (spans: ReceivedSpan[]) => lookups(spans).map((l) => [l.attributes[TBO_ATTR.cacheTier], l.attributes[TBO_ATTR.cacheResult], l.kind]);
      expect(tiers(await traceOf(tracing, miss.traceId))).toEqual([['memory', 'miss', SPAN_KIND.internal], ['redis', 'miss', SPAN_KIND.client]]);
      const spans = await traceOf(tracing, hit.traceId);
      expect(tiers(spans)).toEqual([['memory', 'miss', SPAN_KIND.internal], ['redis', 'hit', SPAN_KIND.client]]);
      expect(lookups(spans)[1].attributes).toMatchObject({ [ATTR_DB_SYSTEM_NAME]: 'redis', [ATTR_DB_OPERATION_NAME]: 'GET' });
      expect(attempts(spans)).toEqual([]);
    } finally {
      started.splice(started.indexOf(running), 1);
      await running.close();
      await redis.stop('SIGKILL');
    }
  });

  it('a call that waits for an upstream slot gets a queue-wait span', async () => {
    const { running, tracing } = await tracedTbo({ env: { TBO_MAX_CONCURRENT_REQUESTS: '1' } });
    fake.setLatency(200);
    const [a, b] = [clientContext(), clientContext()];
    const first = messages(running, { model: 'claude-x', messages: [{ role: 'user', content: 'slot holder' }] }, { traceparent: a.traceparent });
    await waitFor(() => fake.requests.length === 1, { what: 'the first call holds the slot' });
    const second = await messages(running, { model: 'claude-x', messages: [{ role: 'user', content: 'waits for the slot' }] }, { traceparent: b.traceparent });
    expect([(await first).status, second.status]).toEqual([200, 200]);
    const waited = (await traceOf(tracing, b.traceId)).filter((s) => s.name === TBO_SPAN.queueWait);
    expect(waited).toHaveLength(1);
    expect(Number(waited[0].endTimeUnixNano - waited[0].startTimeUnixNano) / 1e6).toBeGreaterThan(50);
    expect((await traceOf(tracing, a.traceId)).filter((s) => s.name === TBO_SPAN.queueWait)).toEqual([]);
  });
});

/** Every string a span carries: names, attribute values, event and link attributes. */
function strings(spans: readonly ReceivedSpan[]): string[] {
  const values = (attrs: Record<string, unknown>) => Object.values(attrs).flatMap((v) => (Array.isArray(v) ? v : [v])).map(String);
  return spans.flatMap((s) => [s.name, ...values(s.attributes), ...s.events.flatMap((e) => [e.name, ...values(e.attributes)]), ...s.links.flatMap((l) => values(l.attributes))]);
}

describe('prompt and completion text', () => {
  const secretPrompt = 'PROMPT-SENTINEL the quarterly numbers are 42';

  it('are never recorded by default (every attribute and event searched)', async () => {
    const client = clientContext();
    const r = await messages(main.running, { model: 'claude-x', system: secretPrompt, messages: [{ role: 'user', content: secretPrompt }] }, { traceparent: client.traceparent });
    expect(r.text).toContain('PROMPT-SENTINEL'); // the fake echoes it: the answer holds it too
    const spans = await traceOf(main.tracing, client.traceId);
    expect(spans.length).toBeGreaterThanOrEqual(3);
    expect(strings(spans).filter((s) => s.includes('PROMPT-SENTINEL'))).toEqual([]);
  });

  it('are recorded with TBO_TRACE_CONTENT as gen_ai.input.messages / gen_ai.output.messages', async () => {
    const { running, tracing } = await tracedTbo({ traceContent: true });
    const client = clientContext();
    await messages(running, { model: 'claude-x', messages: [{ role: 'user', content: secretPrompt }] }, { traceparent: client.traceparent });
    const server = serverSpan(await traceOf(tracing, client.traceId));
    expect(JSON.parse(String(server.attributes[ATTR_GEN_AI_INPUT_MESSAGES]))).toEqual([{ role: 'user', parts: [{ type: 'text', content: secretPrompt }] }]);
    const output = JSON.parse(String(server.attributes[ATTR_GEN_AI_OUTPUT_MESSAGES])) as { role: string; parts: { content: string }[]; finish_reason: string }[];
    expect(output).toMatchObject([{ role: 'assistant', finish_reason: 'end_turn' }]);
    expect(output[0].parts[0].content).toContain('PROMPT-SENTINEL');
  });
});

describe('export failures', () => {
  it('never fail a request and are logged once until export works again', async () => {
    receiver.failNext(2, 400);
    for (const content of ['export fails 1', 'export fails 2']) {
      const r = await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content }] });
      expect(r.status).toBe(200);
      await main.tracing.flush();
    }
    const client = clientContext();
    await messages(main.running, { model: 'claude-x', messages: [{ role: 'user', content: 'export works' }] }, { traceparent: client.traceparent });
    await traceOf(main.tracing, client.traceId);
    const exportLines = main.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('trace export'));
    expect(exportLines.map((l) => l.msg)).toEqual(['trace export failed: spans are dropped until the collector accepts them again', 'trace export works again']);
    expect(exportLines[0]).toMatchObject({ endpoint: receiver.url, err: expect.stringContaining('400') });
  });
});

describe('OTEL_* settings', () => {
  it('tracing is off without an endpoint, with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(traceExport({}).url).toBeUndefined();
    expect(traceExport({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).url).toBeUndefined();
    expect(traceExport({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).url).toBeUndefined();
    expect(traceExport(endpoint).url).toBe('http://collector:4318/v1/traces');
    expect(traceExport({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://x.example/custom/path' }).url).toBe('https://x.example/custom/path');
    const { logger } = capturingLogger();
    expect(startTracing({}, { serviceName: 'tbo', traceContent: false, logger })).toBe(NO_TRACING);
  });

  it('ignored settings are named with the accepted values, never echoing an endpoint', () => {
    expect(traceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318?token=abc' })).toEqual({
      url: undefined,
      warnings: ['OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (a collector\'s OTLP/HTTP endpoint, e.g. http://localhost:4318); traces are off'],
    });
    expect(traceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'zipkin' }).warnings).toEqual([expect.stringContaining('accepted values: otlp, none')]);
    expect(traceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatchObject({ url: 'http://c:4318/v1/traces', warnings: [expect.stringContaining('http/json')] });
  });

  it('OTEL_TRACES_SAMPLER=parentbased_traceidratio with ratio 0: new traces are not recorded but still propagated; a sampled client trace is recorded', async () => {
    const { running, tracing } = await tracedTbo({ otel: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' } });
    await messages(running, { model: 'claude-x', messages: [{ role: 'user', content: 'not sampled' }] });
    const [, traceId, , flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(fake.requests[0].headers.traceparent)) ?? [];
    expect(flags).toBe('00');
    const client = clientContext();
    await messages(running, { model: 'claude-x', messages: [{ role: 'user', content: 'sampled by the client' }] }, { traceparent: client.traceparent });
    expect(serverSpan(await traceOf(tracing, client.traceId)).parentSpanId).toBe(client.parentId);
    expect(receiver.spans.filter((s) => s.traceId === traceId)).toEqual([]);
  });

  it('off by default: the service gets the shared no-op and sends no traceparent upstream', async () => {
    const running = await startTbo(upstreamEnv(fake.url));
    started.push(running);
    expect(running.service.tracing).toBe(NO_TRACING);
    await messages(running, { model: 'claude-x', messages: [{ role: 'user', content: 'tracing off' }] }, { traceparent: clientContext().traceparent });
    expect(fake.requests[0].headers.traceparent).toBeUndefined();
  });
});
