/**
 * A loopback Sentry ingest endpoint: receives what the real SDK sends to a DSN
 * `http://<key>@127.0.0.1:<port>/<project>` (POST `/api/<project>/envelope/`), keeps the raw bytes
 * (after gunzip) and decodes the envelope format: a header line, then items, each an item-header
 * line and a payload of `length` bytes (or up to the next newline without one).
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { LoopbackServer } from './loopback-server';
import { waitFor } from './ports';

export interface EnvelopeItem {
  readonly header: { readonly type: string; readonly length?: number } & Record<string, unknown>;
  /** The payload parsed as JSON (every item type the SDK sends here is JSON). */
  readonly payload: Record<string, unknown>;
}

export interface Envelope {
  readonly header: Record<string, unknown>;
  readonly items: readonly EnvelopeItem[];
  /** The envelope as received, decompressed: what to search for leaks. */
  readonly raw: Buffer;
  /** The request's path and headers. */
  readonly path: string;
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
}

/** Splits an envelope into its header and items. */
export function parseEnvelope(raw: Buffer): { header: Record<string, unknown>; items: EnvelopeItem[] } {
  let at = 0;
  const line = (): Buffer => {
    const end = raw.indexOf(0x0a, at);
    const slice = raw.subarray(at, end === -1 ? raw.length : end);
    at = end === -1 ? raw.length : end + 1;
    return slice;
  };
  const header = JSON.parse(line().toString('utf8')) as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  while (at < raw.length) {
    const headerLine = line();
    if (headerLine.length === 0) continue;
    const itemHeader = JSON.parse(headerLine.toString('utf8')) as EnvelopeItem['header'];
    let payload: Buffer;
    if (typeof itemHeader.length === 'number') {
      payload = raw.subarray(at, at + itemHeader.length);
      at += itemHeader.length;
      if (raw[at] === 0x0a) at++;
    } else {
      payload = line();
    }
    items.push({ header: itemHeader, payload: JSON.parse(payload.toString('utf8')) as Record<string, unknown> });
  }
  return { header, items };
}

export interface SentryReceiver {
  readonly port: number;
  /** A DSN pointing at this receiver. */
  dsn(project?: number, key?: string): string;
  readonly envelopes: readonly Envelope[];
  /** The payloads of every `event` item received so far. */
  events(): Record<string, unknown>[];
  /** Resolves once at least `count` events arrived. */
  waitForEvents(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  reset(): void;
  close(): Promise<void>;
}

export async function startSentryReceiver(): Promise<SentryReceiver> {
  const envelopes: Envelope[] = [];
  const server = new LoopbackServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let raw = Buffer.concat(chunks);
    const encoding = req.headers['content-encoding'];
    if (encoding === 'gzip') raw = gunzipSync(raw);
    else if (encoding === 'deflate') raw = inflateSync(raw);
    // The SDK adds its key and version as a query string: /api/1/envelope/?sentry_version=7&sentry_key=…
    if (req.method !== 'POST' || !/^\/api\/\d+\/envelope\/?(\?|$)/.test(req.url ?? '')) {
      res.writeHead(404).end();
      return;
    }
    envelopes.push({ ...parseEnvelope(raw), raw, path: req.url ?? '', requestHeaders: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await server.listen();
  const events = () => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload));
  return {
    port: server.port,
    dsn: (project = 1, key = 'publickey') => `http://${key}@127.0.0.1:${server.port}/${project}`,
    envelopes,
    events,
    async waitForEvents(count, timeoutMs = 5000) {
      await waitFor(() => events().length >= count, { what: `${count} Sentry event(s)`, timeoutMs, intervalMs: 10 });
      return events();
    },
    reset: () => {
      envelopes.length = 0;
    },
    close: () => server.close(),
  };
}
