/**
 * Traces from the built service (`node service/dist/main.js`, what the image runs): the OpenTelemetry
 * SDK is a separate file, dist/optional-tracing.js, loaded only when an OTLP endpoint is set. This
 * proves that file loads and exports, that graceful shutdown (SIGTERM) flushes the last spans (the
 * batch processor would otherwise wait 5 s), and that the main bundle holds none of the SDK.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ATTR_GEN_AI_PROVIDER_NAME } from '@opentelemetry/semantic-conventions/incubating';
import { TBO_ATTR } from '../../service/src/observability/tracing';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { REPO_ROOT, spawnTbo, upstreamEnv } from '../support/tbo';

const DIST = join(REPO_ROOT, 'service', 'dist');

let fake: FakeUpstream;
let receiver: OtlpReceiver;
beforeAll(async () => {
  [fake, receiver] = await Promise.all([startFakeUpstream(), startOtlpReceiver()]);
});
afterAll(async () => {
  await Promise.all([fake.close(), receiver.close()]);
});

it('the bundled service loads its tracing file, exports spans and flushes them on SIGTERM', async () => {
  const tbo = await spawnTbo(upstreamEnv(fake.url, { TBO_LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'tbo-dist', TBO_DRAIN_TIMEOUT: '0.2' }));
  let code: number | null;
  try {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${tbo.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ model: 'claude-x', max_tokens: 16, messages: [{ role: 'user', content: 'from the bundle' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(fake.requests[0].headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // Nothing exported yet (the batch processor's delay is 5 s): the spans come with the shutdown.
    expect(receiver.spans).toEqual([]);
    code = await tbo.stop('SIGTERM');
    const server = receiver.spans.find((s) => s.traceId === traceId && s.kind === SPAN_KIND.server);
    expect(server?.resource[ATTR_SERVICE_NAME]).toBe('tbo-dist');
    expect(server?.attributes).toMatchObject({ [TBO_ATTR.cache]: 'miss', [ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic' });
    expect(receiver.spans.filter((s) => s.traceId === traceId && s.kind === SPAN_KIND.client)).toHaveLength(1);
  } finally {
    await tbo.stop('SIGKILL');
  }
  expect(code).toBe(0);
  expect(tbo.output()).toContain('tracing on (OpenTelemetry, OTLP/HTTP)');
});

it('the main bundle holds none of the SDK; the tracing file does', () => {
  const server = readdirSync(DIST).find((f) => /^server-.*\.js$/.test(f)) as string;
  const main = readFileSync(join(DIST, server), 'utf8');
  const optional = readFileSync(join(DIST, 'optional-tracing.js'), 'utf8');
  const classes = ['BatchSpanProcessor', 'OTLPTraceExporter', 'W3CTraceContextPropagator', 'TraceIdRatioBasedSampler'];
  expect(classes.filter((c) => main.includes(c))).toEqual([]);
  expect(classes.filter((c) => optional.includes(c))).toEqual(classes);
});
