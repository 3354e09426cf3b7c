import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { ResourceOwners } from '../optimizer/ownership';
import type { Passthrough, PassRequest, PassResponse } from '../optimizer/passthrough';
import type { Json, Protocol } from '../protocols/types';
import { effectivePriority, optimizerHeaders } from './call-context';
import type { RouteDeps } from './proxy-route';

/** What the routes of tenant-owned upstream objects (batches, stored responses) need. */
export interface OwnedRouteDeps extends RouteDeps {
  readonly owners: ResourceOwners;
  readonly passthrough: Passthrough;
}

/** Ids of upstream objects as the APIs make them (`msgbatch_…`, `resp_…`); anything else names nothing. */
export const RESOURCE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The query string as sent, without `?` ('' when there is none; the app parses no query). */
export function rawQuery(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at + 1);
}

/** Aborted when the client goes away before its response ended (one signal per request). */
function clientGone(res: Response): AbortSignal {
  const held: unknown = res.locals.clientGone;
  if (held instanceof AbortSignal) return held;
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  res.locals.clientGone = controller.signal;
  return controller.signal;
}

/** An upstream call for the calling tenant, at its priority, cancelled when the client leaves. */
export function passRequest(req: Request, res: Response, deps: RouteDeps, tenant: string, protocol: Protocol, body: Buffer | string = ''): PassRequest {
  return {
    protocol,
    tenant,
    priority: effectivePriority(optimizerHeaders(req).priority, deps.priorityCeiling(tenant)),
    clientHeaders: req.headers,
    body,
    signal: clientGone(res),
  };
}

/** A JSON answer with the upstream's headers (request id, rate-limit state); never cached. */
export function sendJson(res: Response, body: Json, headers: Readonly<Record<string, string>>): void {
  res.writeHead(200, { ...headers, 'content-type': 'application/json', 'x-tbo-cache': 'bypass' }).end(JSON.stringify(body));
}

/**
 * Streams an upstream answer to the client as it arrives (JSON, JSONL results, SSE), with its
 * headers; a client that leaves cancels the upstream call, an upstream that fails mid-body closes
 * the client's connection (the body would be incomplete).
 */
export async function forward(res: Response, upstream: PassResponse): Promise<void> {
  try {
    res.writeHead(upstream.status, { ...upstream.headers, 'x-tbo-cache': 'bypass' });
    await pipeline(upstream.body, res);
  } catch {
    res.destroy();
  } finally {
    upstream.done();
  }
}
