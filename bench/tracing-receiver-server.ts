/**
 * A loopback OTLP/HTTP trace receiver for the tracing bench, as its own process: accepts
 * `POST /v1/traces` (OTLP JSON, what the service's exporter sends), counts the spans per
 * `service.name` and drops them. Prints `PORT <n>`; reports its counters (`spans:<service.name>`,
 * `exports`, `rejected`) and CPU over IPC.
 */
import * as http from 'node:http';
import { announce } from './child';

interface ExportRequest {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly { readonly key: string; readonly value?: { readonly stringValue?: string } }[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly unknown[] }[];
  }[];
}

const counters: Record<string, number> = { exports: 0, rejected: 0 };

function count(body: ExportRequest): void {
  for (const rs of body.resourceSpans ?? []) {
    const name = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? 'unknown';
    const spans = (rs.scopeSpans ?? []).reduce((n, ss) => n + (ss.spans?.length ?? 0), 0);
    counters[`spans:${name}`] = (counters[`spans:${name}`] ?? 0) + spans;
  }
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`${req.method} ${req.url}`);
      count(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest);
      counters.exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      counters.rejected++;
      res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  announce(address.port, () => ({ ...counters }));
});
