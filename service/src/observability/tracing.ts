/**
 * Traces (OpenTelemetry): the port through which the HTTP layer, the optimizer and the cache record
 * spans, its shared no-op (tracing off), and the decision whether tracing is on, from the standard
 * `OTEL_*` environment variables. The SDK lives in src/optional/tracing.ts, which is loaded only
 * when tracing is on (see `loadOptional`): off, no OpenTelemetry code is read or run, and every
 * call below goes to a shared no-op object (nothing is allocated per request).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CacheTier } from '../adapters/cache/types';
import type { AnswerFacts } from '../optimizer/answer';
import type { ProxyCall } from '../optimizer/gateway';
import type { CacheStatus } from '../optimizer/ports';
import type { ModelRef } from '../optimizer/routing';
import { loadOptional } from '../optional';
import type { Logger } from './logger';

/** Span attributes of TBO's own (the GenAI, HTTP and DB ones come from the semantic conventions). */
export const TBO_ATTR = {
  /** How the request was answered: hit, miss, coalesced or bypass (the `x-tbo-cache` header). */
  cache: 'tbo.cache',
  tenant: 'tbo.tenant',
  /** 1 (highest) … 10. */
  priority: 'tbo.priority',
  /** True when a backend other than the first of the route answered. */
  fallback: 'tbo.fallback',
  /** The backend that answered (anthropic, openai, bedrock, vertex, vertex-openai). */
  backend: 'tbo.backend',
  /** Cache lookup spans: the tier looked in (memory, redis) and what it found (hit, miss). */
  cacheTier: 'tbo.cache.tier',
  cacheResult: 'tbo.cache.result',
  /** The client went away before its response ended. */
  aborted: 'tbo.aborted',
  /** On the link from a coalesced request to the call it joined. */
  linkKind: 'tbo.link.kind',
  /** True when recorded prompt or completion text was cut to its bound (TBO_TRACE_CONTENT). */
  contentTruncated: 'tbo.content.truncated',
} as const;

/** Names of TBO's spans and span events (the server and upstream spans are named per the conventions). */
export const TBO_SPAN = {
  cacheLookup: 'tbo.cache.lookup',
  queueWait: 'tbo.queue.wait',
  /** Event on an upstream attempt's span: the first chunk of a streamed answer arrived. */
  firstToken: 'tbo.first_token',
} as const;

/** The value of {@link TBO_ATTR.linkKind} on a coalesced request's link. */
export const COALESCED_LINK = 'coalesced_into';

/** A span in progress that only needs ending (a cache lookup, a wait for an upstream slot). */
export interface TraceSpan {
  /** Ends the span; `outcome` is what it found (hit, miss) or, for a failure, the error kind. */
  end(outcome?: string): void;
}

/** The CLIENT span of one upstream attempt. */
export interface AttemptTrace {
  /** The attempt's request headers with its trace context (`traceparent`, `tracestate`); the same object when there is none. */
  inject(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>>;
  /** The upstream answered with this HTTP status. */
  responded(status: number): void;
  /** The first chunk of a streamed answer arrived (time to first token). */
  firstChunk(): void;
  /** Ends the span: `error` is why the attempt failed (an HTTP status or an error kind); `facts` those of its answer. */
  end(error?: string, facts?: AnswerFacts): void;
}

/** The trace of one API request: its SERVER span and the spans of the work done for it. */
export interface RequestTrace {
  /** False when nothing is recorded (tracing off, or this request not sampled): skip building span data then. */
  readonly recording: boolean;
  /** The call the gateway was handed (operation, requested model, tenant, priority; the prompt with TBO_TRACE_CONTENT). */
  call(call: ProxyCall): void;
  cacheStatus(status: CacheStatus): void;
  /** Starts the span of a lookup in one cache tier. */
  cacheLookup(tier: CacheTier): TraceSpan;
  /** Starts the span of a wait for an upstream slot (only requests that wait get one). */
  queued(priority: number): TraceSpan;
  /** Starts the span of one upstream attempt (`retry` 0 for the first try of a target). */
  attempt(target: ModelRef, retry: number, stream: boolean): AttemptTrace;
  /** This request was coalesced onto the call `leader` started: links to the leader's upstream attempt (or its request). */
  joined(leader: RequestTrace): void;
  /** The answer the client gets (`value` as the responder stores it): response model, id, tokens, finish reasons. */
  answered(target: ModelRef, fellBack: boolean, facts: AnswerFacts | undefined, value: string): void;
  /** Ends the request's span when its response ended. */
  end(status: number, route: string | undefined, aborted: boolean): void;
}

/** Where the spans of every request come from. */
export interface Tracing {
  readonly enabled: boolean;
  /** Starts the SERVER span of an API request, continuing the client's W3C trace context (`traceparent`). */
  request(method: string, path: string, headers: IncomingHttpHeaders): RequestTrace;
  /** Exports every finished span now; never rejects (a failed export is logged once). */
  flush(): Promise<void>;
  /** Exports what is left and stops (graceful shutdown); bounded in time, never rejects. */
  shutdown(): Promise<void>;
}

const NO_SPAN: TraceSpan = { end: () => undefined };

/** An attempt that records nothing and adds no header. */
export const NO_ATTEMPT: AttemptTrace = {
  inject: (headers) => headers,
  responded: () => undefined,
  firstChunk: () => undefined,
  end: () => undefined,
};

/** The trace of a request when tracing is off: one shared object, nothing recorded. */
export const NO_TRACE: RequestTrace = {
  recording: false,
  call: () => undefined,
  cacheStatus: () => undefined,
  cacheLookup: () => NO_SPAN,
  queued: () => NO_SPAN,
  attempt: () => NO_ATTEMPT,
  joined: () => undefined,
  answered: () => undefined,
  end: () => undefined,
};

/** Tracing off. */
export const NO_TRACING: Tracing = {
  enabled: false,
  request: () => NO_TRACE,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * Copies the W3C trace context an upstream attempt's span put on its request (`traceparent`,
 * `tracestate`) onto the headers a cloud client builds itself (Bedrock, Vertex AI). Never signed:
 * a SigV4 signature covers only the headers it lists.
 */
export function copyTraceContext(from: Readonly<Record<string, string>>, to: Record<string, string>): void {
  const parent = from.traceparent;
  if (!parent) return;
  to.traceparent = parent;
  if (from.tracestate) to.tracestate = from.tracestate;
}

/** What the SDK side needs to start (src/optional/tracing.ts). */
export interface TracingOptions {
  /** Where spans are posted (OTLP/HTTP, JSON): the traces endpoint, `/v1/traces` included. */
  readonly url: string;
  /** The environment the `OTEL_*` settings are read from (sampler; headers and resource attributes are read by the SDK itself). */
  readonly env: NodeJS.ProcessEnv;
  /** `service.name` when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one (TBO_SERVICE_NAME). */
  readonly serviceName: string;
  /** Record prompt and completion text (TBO_TRACE_CONTENT). */
  readonly traceContent: boolean;
  readonly logger: Logger;
}

/** The value of a boolean OTEL_* variable (the specification's: only "true", case-insensitive, is true). */
function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Where traces go, per the OpenTelemetry environment variable specification: nowhere when the SDK
 * is disabled (`OTEL_SDK_DISABLED=true`), the traces exporter is `none`, or no endpoint is set;
 * else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, or `OTEL_EXPORTER_OTLP_ENDPOINT` with
 * `v1/traces` appended. The SDK (@opentelemetry/sdk-trace 3.x) reads none of these itself: the
 * decision has to be made before it is loaded. Values are never echoed (an endpoint may carry a token).
 * @returns the traces URL (undefined: tracing off) and a message per setting that was ignored
 */
export function traceExport(env: NodeJS.ProcessEnv): { readonly url: string | undefined; readonly warnings: readonly string[] } {
  const warnings: string[] = [];
  if (isTrue(env.OTEL_SDK_DISABLED)) return { url: undefined, warnings };
  const exporters = nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase().split(',').map((e) => e.trim());
  if (exporters?.includes('none')) return { url: undefined, warnings };
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!specific && !base) return { url: undefined, warnings };
  if (exporters && !exporters.includes('otlp')) {
    warnings.push(`OTEL_TRACES_EXPORTER: this service exports traces with "otlp" only (accepted values: otlp, none); traces are off`);
    return { url: undefined, warnings };
  }
  const url = specific ?? `${base}${base?.endsWith('/') ? '' : '/'}v1/traces`;
  if (!isHttpUrl(url)) {
    warnings.push(`${specific ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http:// or https:// URL (a collector's OTLP/HTTP endpoint, e.g. http://localhost:4318); traces are off`);
    return { url: undefined, warnings };
  }
  const protocol = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (protocol && protocol !== 'http/json') {
    warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL: this service sends OTLP/HTTP as JSON (http/json), which every OTLP/HTTP receiver accepts (port 4318 by convention); "${protocol.slice(0, 32)}" is ignored`);
  }
  return { url, warnings };
}

/**
 * Tracing as the `OTEL_*` environment configures it: {@link NO_TRACING} when off (see
 * {@link traceExport}), else the OpenTelemetry SDK, loaded now.
 */
export function startTracing(env: NodeJS.ProcessEnv, opts: { readonly serviceName: string; readonly traceContent: boolean; readonly logger: Logger }): Tracing {
  const { url, warnings } = traceExport(env);
  for (const warning of warnings) opts.logger.warn(warning);
  if (!url) return NO_TRACING;
  const sdk = loadOptional<typeof import('../optional/tracing')>('tracing');
  return sdk.createTracing({ url, env, ...opts });
}
