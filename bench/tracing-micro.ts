/**
 * `npx tsx bench/tracing-micro.ts [N]`: the tracing code's own CPU per request, in one process, with
 * no HTTP in between: the calls the service makes for one cache hit (request span, memory lookup,
 * answer, end) and one cache miss (plus the upstream attempt with its traceparent and its end), N
 * times each (default 50 000), with tracing off (the shared no-op), on at 1 % and on at 100 %
 * sampling, spans exported to a loopback OTLP/HTTP receiver in this process (export included).
 * The per-process figures of bench/tracing.ts include this and move a few % between processes;
 * this one does not. Prints only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../service/src/observability/logger';
import { NO_TRACING, startTracing, type Tracing } from '../service/src/observability/tracing';
import type { ProxyCall } from '../service/src/optimizer/gateway';
import type { ModelRef } from '../service/src/optimizer/routing';
import { chatBody, smallPrompt } from './requests';
import { fmt, renderTable } from './table';

const HEADERS = { host: '127.0.0.1', 'content-type': 'application/json', authorization: 'Bearer bench', 'user-agent': 'autocannon' };
const TARGET: ModelRef = { provider: 'openai', backend: 'openai', model: 'gpt-4o-mini', id: 'gpt-4o-mini' };
const BODY = JSON.parse(chatBody(smallPrompt('MICRO-1'))) as Record<string, unknown>;
const CALL = { endpoint: '/v1/chat/completions', keyBody: BODY, tenant: 'bench', priority: 5, stream: false, sessionId: undefined, route: { chain: [TARGET] } } as unknown as ProxyCall;
const ANSWER = JSON.stringify({
  id: 'chatcmpl-micro', object: 'chat.completion', model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${smallPrompt('MICRO-1')}` }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 61, completion_tokens: 38, total_tokens: 99 },
});
const FACTS = { provider: 'openai' as const, model: 'gpt-4o-mini', usage: { input: 61, output: 38 } };

function oneRequest(tracing: Tracing, miss: boolean): void {
  const trace = tracing.request('POST', '/v1/chat/completions', HEADERS);
  trace.call(CALL);
  trace.cacheLookup('memory').end(miss ? 'miss' : 'hit');
  trace.cacheStatus(miss ? 'miss' : 'hit');
  if (miss) {
    const attempt = trace.attempt(TARGET, 0, false);
    attempt.inject(HEADERS);
    attempt.responded(200);
    attempt.end(undefined, FACTS);
  }
  if (trace.recording) trace.answered(TARGET, false, FACTS, ANSWER);
  trace.end(200, '/v1/chat/completions', false);
}

async function cpuPerRequest(tracing: Tracing, miss: boolean, n: number): Promise<number> {
  for (let i = 0; i < Math.min(n, 5000); i++) oneRequest(tracing, miss);
  await tracing.flush();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    oneRequest(tracing, miss);
    // Let the batch processor export as it would between requests.
    if (i % 500 === 499) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await tracing.flush();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 50_000);
  let spans = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const logger = createLogger('warn');
  const modes: [string, Tracing][] = [
    ['off', NO_TRACING],
    ['on, 1 % sampled', startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }, { serviceName: 'micro', traceContent: false, logger })],
    ['on, 100 % sampled', startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }, { serviceName: 'micro', traceContent: false, logger })],
  ];
  const rows: string[][] = [];
  for (const miss of [true, false]) {
    for (const [label, tracing] of modes) rows.push([miss ? 'cache miss' : 'cache hit', label, String(n), fmt(await cpuPerRequest(tracing, miss, n), 2)]);
  }
  for (const [, tracing] of modes) await tracing.shutdown();
  receiver.close();
  console.log(renderTable(['calls of one request', 'tracing', 'requests', 'CPU µs/request (tracing code + export)'], rows, ['l', 'l', 'r', 'r']));
  console.log(`${spans} spans exported to the loopback receiver; node ${process.version}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
