/**
 * A loopback OTLP/HTTP trace receiver (what a collector's `otlp` receiver does on port 4318):
 * `POST /v1/traces` with an `ExportTraceServiceRequest` in OTLP's JSON encoding (what
 * @opentelemetry/exporter-trace-otlp-http sends; gzip when OTEL_EXPORTER_OTLP_COMPRESSION=gzip),
 * decoded into flat spans a test can query. Protobuf bodies are refused with 415 (the service never
 * sends them; a test would see the export failure).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { LoopbackServer, readBytes } from './loopback-server';
import { waitFor } from './ports';

/** An attribute value as OTLP JSON carries it, decoded (int64 as a number). */
export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;
export type Attributes = Record<string, AttributeValue>;

/** SpanKind numbers of the OTLP protocol. */
export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;
/** Status codes of the OTLP protocol. */
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Attributes;
  readonly events: readonly { readonly name: string; readonly attributes: Attributes; readonly timeUnixNano: bigint }[];
  readonly links: readonly { readonly traceId: string; readonly spanId: string; readonly attributes: Attributes }[];
  readonly status: { readonly code: number; readonly message?: string };
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  /** The resource the span came with (service.name …). */
  readonly resource: Attributes;
}

export interface OtlpReceiver {
  readonly url: string;
  /** Every span received so far, in arrival order. */
  readonly spans: readonly ReceivedSpan[];
  /** Export requests received (accepted or not), and their content types. */
  readonly requests: readonly { readonly contentType: string | undefined; readonly status: number }[];
  /** The next `n` export requests are answered with `status` (e.g. 400: the exporter does not retry it). */
  failNext(n: number, status: number): void;
  /** Waits until `predicate` holds for the spans received (polls; default 5 s). */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  clear(): void;
  close(): Promise<void>;
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: JsonKeyValue[];
  events?: { name: string; timeUnixNano: string | number; attributes?: JsonKeyValue[] }[];
  links?: { traceId: string; spanId: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface JsonExport {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

function valueOf(v: JsonAnyValue | undefined): AttributeValue {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(list: JsonKeyValue[] | undefined): Attributes {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** Decodes one OTLP/HTTP JSON export request into spans. */
export function decodeExport(body: JsonExport): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) => {
    const resource = attributesOf(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? '',
        name: s.name,
        kind: s.kind,
        attributes: attributesOf(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes), timeUnixNano: BigInt(e.timeUnixNano) })),
        links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributesOf(l.attributes) })),
        status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
        startTimeUnixNano: BigInt(s.startTimeUnixNano),
        endTimeUnixNano: BigInt(s.endTimeUnixNano),
        resource,
      })),
    );
  });
}

class Receiver implements OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: { contentType: string | undefined; status: number }[] = [];
  private failures: number[] = [];
  readonly server = new LoopbackServer((req, res) => this.handle(req, res));

  get url(): string {
    return this.server.url;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = req.headers['content-type'];
    const answer = (status: number, body: string) => {
      this.requests.push({ contentType, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    };
    if (req.method !== 'POST' || req.url !== '/v1/traces') return answer(404, '{}');
    let raw = await readBytes(req);
    const failure = this.failures.shift();
    if (failure !== undefined) return answer(failure, '{"code":3,"message":"scripted failure"}');
    if (!contentType?.startsWith('application/json')) return answer(415, '{"message":"this receiver decodes OTLP/HTTP JSON only"}');
    if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    this.spans.push(...decodeExport(JSON.parse(raw.toString('utf8')) as JsonExport));
    answer(200, '{}');
  }

  failNext(n: number, status: number): void {
    for (let i = 0; i < n; i++) this.failures.push(status);
  }

  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return waitFor(() => predicate(this.spans), { what, timeoutMs, intervalMs: 10 });
  }

  clear(): void {
    this.spans.length = 0;
    this.requests.length = 0;
    this.failures = [];
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** Starts a receiver on a free loopback port; export to `${url}/v1/traces` (or set OTEL_EXPORTER_OTLP_ENDPOINT to `url`). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver = new Receiver();
  await receiver.server.listen();
  return receiver;
}
