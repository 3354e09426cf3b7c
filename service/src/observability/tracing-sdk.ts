/**
 * The {@link Tracing} port on the OpenTelemetry SDK: a tracer provider of its own (never registered
 * globally, so another library's OpenTelemetry setup, e.g. an error tracker's, is not disturbed),
 * contexts passed explicitly (no async-hooks context manager on the hot path), a batch span
 * processor exporting OTLP/HTTP JSON, and the request, cache, queue and upstream-attempt spans with
 * the GenAI semantic conventions. Loaded only when tracing is on (src/optional/tracing.ts).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, parseKeyPairsIntoRecord, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, resourceAttributesEnvDetector, resourceFromAttributes, serviceNameEnvDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  DB_SYSTEM_NAME_VALUE_REDIS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
} from '@opentelemetry/semantic-conventions/incubating';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { CacheTier } from '../adapters/cache/types';
import type { AnswerFacts } from '../optimizer/answer';
import type { ProxyCall } from '../optimizer/gateway';
import type { CacheStatus } from '../optimizer/ports';
import type { ModelRef } from '../optimizer/routing';
import type { Logger } from './logger';
import { COALESCED_LINK, NO_ATTEMPT, TBO_ATTR, TBO_SPAN, type AttemptTrace, type RequestTrace, type TraceSpan, type Tracing, type TracingOptions } from './tracing';
import { finishReasonsOf, inputContent, operationOf, outputContent, parseAnswer, providerOf, responseIdOf, type Content } from './tracing-genai';
import { samplerFrom } from './tracing-sampler';

/** How long graceful shutdown waits for the last spans to be exported. */
const SHUTDOWN_EXPORT_MS = 3000;

const propagator = new W3CTraceContextPropagator();

/** Headers with the trace context of `span` (`traceparent`, and `tracestate` when there is one). */
function withContext(headers: Readonly<Record<string, string>>, span: SpanContext): Readonly<Record<string, string>> {
  const carrier: Record<string, string> = { ...headers };
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier;
}

function setContent(span: Span, name: string, content: Content | undefined): void {
  if (!content) return;
  span.setAttribute(name, content.json);
  if (content.truncated) span.setAttribute(TBO_ATTR.contentTruncated, true);
}

function fail(span: Span, errorType: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

class SdkSpan implements TraceSpan {
  constructor(private readonly span: Span, private readonly failures: ReadonlySet<string> | undefined) {}

  end(outcome?: string): void {
    if (outcome !== undefined) {
      if (this.failures && !this.failures.has(outcome)) fail(this.span, outcome);
      else this.span.setAttribute(TBO_ATTR.cacheResult, outcome);
    }
    this.span.end();
  }
}

/** What a cache lookup ends with when it went as it should (anything else is an error). */
const LOOKUP_OUTCOMES: ReadonlySet<string> = new Set(['hit', 'miss']);

class SdkAttempt implements AttemptTrace {
  private readonly started = performance.now();

  constructor(private readonly span: Span, private readonly onEnd: (span: Span) => void) {}

  inject(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    return withContext(headers, this.span.spanContext());
  }

  responded(status: number): void {
    this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  }

  firstChunk(): void {
    const seconds = (performance.now() - this.started) / 1000;
    this.span.setAttribute(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, seconds);
    this.span.addEvent(TBO_SPAN.firstToken, { [ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]: seconds });
  }

  end(error?: string, facts?: AnswerFacts): void {
    if (error !== undefined) fail(this.span, error);
    if (facts) {
      this.span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, facts.model);
      if (facts.usage) this.span.setAttributes({ [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: facts.usage.input, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: facts.usage.output });
    }
    this.span.end();
    this.onEnd(this.span);
  }
}

/** The span context a coalesced request links to, when `leader` is a trace of this SDK. */
function linkTarget(leader: RequestTrace): SpanContext | undefined {
  return leader instanceof RecordingTrace || leader instanceof UnsampledTrace ? leader.linkTarget() : undefined;
}

/** A request this process does not record (not sampled): its context still goes upstream. */
class UnsampledTrace implements RequestTrace {
  readonly recording = false;

  constructor(private readonly context: SpanContext) {}

  linkTarget(): SpanContext {
    return this.context;
  }

  call(): void {}
  cacheStatus(): void {}
  cacheLookup(): TraceSpan {
    return NO_LOOKUP;
  }
  queued(): TraceSpan {
    return NO_LOOKUP;
  }
  attempt(): AttemptTrace {
    const context = this.context;
    return { ...NO_ATTEMPT, inject: (headers) => withContext(headers, context) };
  }
  joined(): void {}
  answered(): void {}
  end(): void {}
}

const NO_LOOKUP: TraceSpan = { end: () => undefined };

/** A sampled request: its SERVER span and the spans of the work done for it. */
class RecordingTrace implements RequestTrace {
  readonly recording = true;
  private operation: string | undefined;
  /** The upstream attempt in flight, which a request coalesced onto this one links to. */
  private current: Span | undefined;

  constructor(
    private readonly tracing: SdkTracing,
    private readonly span: Span,
    private readonly context: Context,
    private readonly method: string,
  ) {}

  linkTarget(): SpanContext {
    return (this.current ?? this.span).spanContext();
  }

  private child(name: string, kind: SpanKind, attributes: Record<string, string | number | boolean>): Span {
    return this.tracing.tracer.startSpan(name, { kind, attributes }, this.context);
  }

  call(call: ProxyCall): void {
    this.operation = operationOf(call.endpoint);
    const asked = typeof call.keyBody.model === 'string' ? call.keyBody.model : call.route.chain[0]?.model;
    this.span.setAttributes({
      [TBO_ATTR.tenant]: call.tenant,
      [TBO_ATTR.priority]: call.priority,
      [ATTR_GEN_AI_REQUEST_STREAM]: call.stream,
      ...(this.operation ? { [ATTR_GEN_AI_OPERATION_NAME]: this.operation } : {}),
      ...(asked ? { [ATTR_GEN_AI_REQUEST_MODEL]: asked } : {}),
      ...(call.sessionId ? { [ATTR_GEN_AI_CONVERSATION_ID]: call.sessionId } : {}),
    });
    if (this.tracing.content && this.operation === GEN_AI_OPERATION_NAME_VALUE_CHAT) {
      try {
        const input = inputContent(call.keyBody);
        setContent(this.span, ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, input.system);
        setContent(this.span, ATTR_GEN_AI_INPUT_MESSAGES, input.messages);
      } catch {
        // A request shape this code does not know: no content recorded, the request goes on.
      }
    }
  }

  cacheStatus(status: CacheStatus): void {
    this.span.setAttribute(TBO_ATTR.cache, status);
  }

  cacheLookup(tier: CacheTier): TraceSpan {
    const span = tier === 'redis'
      ? this.child(`${TBO_SPAN.cacheLookup} redis`, SpanKind.CLIENT, { [TBO_ATTR.cacheTier]: tier, [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS, [ATTR_DB_OPERATION_NAME]: 'GET' })
      : this.child(`${TBO_SPAN.cacheLookup} memory`, SpanKind.INTERNAL, { [TBO_ATTR.cacheTier]: tier });
    return new SdkSpan(span, LOOKUP_OUTCOMES);
  }

  queued(priority: number): TraceSpan {
    return new SdkSpan(this.child(TBO_SPAN.queueWait, SpanKind.INTERNAL, { [TBO_ATTR.priority]: priority }), new Set());
  }

  attempt(target: ModelRef, retry: number, stream: boolean): AttemptTrace {
    const span = this.child(`${this.operation ?? 'call'} ${target.id}`, SpanKind.CLIENT, {
      ...(this.operation ? { [ATTR_GEN_AI_OPERATION_NAME]: this.operation } : {}),
      [ATTR_GEN_AI_PROVIDER_NAME]: providerOf(target.backend),
      [ATTR_GEN_AI_REQUEST_MODEL]: target.id,
      [ATTR_GEN_AI_REQUEST_STREAM]: stream,
      [ATTR_HTTP_REQUEST_RESEND_COUNT]: retry,
      [TBO_ATTR.backend]: target.backend,
    });
    this.current = span;
    return new SdkAttempt(span, (ended) => {
      if (this.current === ended) this.current = undefined;
    });
  }

  joined(leader: RequestTrace): void {
    const context = linkTarget(leader);
    if (context) this.span.addLink({ context, attributes: { [TBO_ATTR.linkKind]: COALESCED_LINK } });
  }

  answered(target: ModelRef, fellBack: boolean, facts: AnswerFacts | undefined, value: string): void {
    const backend = facts ? (facts.backend ?? facts.provider) : target.backend;
    this.span.setAttributes({ [TBO_ATTR.backend]: backend, [TBO_ATTR.fallback]: fellBack, [ATTR_GEN_AI_PROVIDER_NAME]: providerOf(backend) });
    if (facts) {
      if (facts.model) this.span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, facts.model);
      if (facts.usage) this.span.setAttributes({ [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: facts.usage.input, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: facts.usage.output });
    }
    // Response id, finish reasons and messages are a chat answer's (an embedding's vectors are not parsed again).
    const answer = this.operation === GEN_AI_OPERATION_NAME_VALUE_CHAT ? parseAnswer(value) : undefined;
    if (!answer) return;
    const id = responseIdOf(answer);
    if (id) this.span.setAttribute(ATTR_GEN_AI_RESPONSE_ID, id);
    const reasons = finishReasonsOf(answer);
    if (reasons.length) this.span.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, reasons);
    if (this.tracing.content) {
      try {
        setContent(this.span, ATTR_GEN_AI_OUTPUT_MESSAGES, outputContent(answer));
      } catch {
        // An answer shape this code does not know: no content recorded.
      }
    }
  }

  end(status: number, route: string | undefined, aborted: boolean): void {
    if (route) {
      this.span.updateName(`${this.method} ${route}`);
      this.span.setAttribute(ATTR_HTTP_ROUTE, route);
    }
    this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) fail(this.span, String(status));
    if (aborted) this.span.setAttribute(TBO_ATTR.aborted, true);
    this.span.end();
  }
}

/**
 * Passes spans to the OTLP exporter; a failed export is logged once (until one succeeds again),
 * with the endpoint's origin and the error, never the export headers (they may hold an API key).
 */
class ReportingExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly endpoint: string,
    private readonly secrets: readonly string[],
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && !this.failing) {
        this.failing = true;
        this.logger.warn({ endpoint: this.endpoint, err: this.describe(result.error), spans: spans.length }, 'trace export failed: spans are dropped until the collector accepts them again');
      } else if (result.code === ExportResultCode.SUCCESS && this.failing) {
        this.failing = false;
        this.logger.info({ endpoint: this.endpoint }, 'trace export works again');
      }
      done(result);
    });
  }

  private describe(err: (Error & { readonly code?: unknown }) | undefined): string {
    // An OTLPExporterError's code is the collector's HTTP status; its body is not logged.
    const status = typeof err?.code === 'number' ? ` (HTTP ${err.code})` : '';
    let text = err ? `${err.name}${status}: ${err.message}`.slice(0, 300) : 'unknown error';
    for (const secret of this.secrets) text = text.split(secret).join('[redacted]');
    return text;
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** The configured export headers' values (OTEL_EXPORTER_OTLP_HEADERS, …_TRACES_HEADERS): never logged. */
function headerValues(env: NodeJS.ProcessEnv): string[] {
  const values = [env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS].flatMap((raw) => Object.values(parseKeyPairsIntoRecord(raw)));
  return values.filter((v) => v.length >= 4);
}

/** The OpenTelemetry SDK behind the {@link Tracing} port. */
class SdkTracing implements Tracing {
  readonly enabled = true;
  readonly tracer: Tracer;

  constructor(private readonly provider: TracerProvider, readonly content: boolean) {
    this.tracer = provider.getTracer('tbo');
  }

  request(method: string, path: string, headers: IncomingHttpHeaders): RequestTrace {
    const parent = headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: path } }, parent);
    if (!span.isRecording()) return new UnsampledTrace(span.spanContext());
    return new RecordingTrace(this, span, trace.setSpan(parent, span), method);
  }

  /** Never rejects: a failed export is logged by the exporter (once), and the spans are dropped. */
  flush(): Promise<void> {
    return this.provider.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_EXPORT_MS);
      timer.unref();
    });
    await Promise.race([this.provider.shutdown().catch(() => undefined), timeout]);
    clearTimeout(timer);
  }
}

/** Where spans go, for logs: the endpoint's origin (no path, query or credentials). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Starts the SDK: resource from TBO_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
 * (the SDK's detectors, in that order of precedence, last wins) plus a `service.instance.id` per
 * process; the sampler from OTEL_TRACES_SAMPLER(_ARG) (parsed here: @opentelemetry/sdk-trace 3.x
 * reads no environment variable); spans batched and posted as OTLP/HTTP JSON to `options.url`,
 * with the exporter reading its own OTEL_EXPORTER_OTLP_{HEADERS,TIMEOUT,COMPRESSION,CERTIFICATE…}.
 */
export function createSdkTracing(options: TracingOptions): Tracing {
  const { env, logger } = options;
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_INSTANCE_ID]: randomUUID() }))
    .merge(detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }));
  const exporter = new ReportingExporter(new OTLPTraceExporter({ url: options.url }), logger, originOf(options.url), headerValues(env));
  const provider = new TracerProvider({
    resource,
    sampler: samplerFrom(env, (message) => logger.warn(message)),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  logger.info({ endpoint: originOf(options.url), content: options.traceContent }, 'tracing on (OpenTelemetry, OTLP/HTTP)');
  return new SdkTracing(provider, options.traceContent);
}
