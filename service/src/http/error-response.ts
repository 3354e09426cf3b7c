import type { Request, Response } from 'express';
import { TboError, UpstreamHttpError } from '../errors';
import { anthropic } from '../protocols/anthropic';
import { openai } from '../protocols/openai';
import type { Protocol } from '../protocols/types';

/** The API whose error shape a request expects: by route, then by the headers its SDK sends. */
export function protocolFor(req: Request): Protocol {
  if (req.path.startsWith('/v1/messages')) return anthropic;
  if (req.path.startsWith('/v1/chat/')) return openai;
  if (req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined) return anthropic;
  return openai;
}

/** A request body over the limit (declared or counted). */
export function bodyTooLarge(limit: number): TboError {
  return new TboError('request_too_large', `request body exceeds the limit of ${limit} bytes`);
}

/** Body-parser and other framework errors, as TBO errors. */
export function toTboError(err: unknown): TboError | UpstreamHttpError {
  if (err instanceof TboError || err instanceof UpstreamHttpError) return err;
  const e = err as { type?: string; status?: number; limit?: number };
  if (e.type === 'entity.too.large') return bodyTooLarge(Number(e.limit));
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return new TboError('invalid_request', 'unsupported request body encoding');
  if (e.type === 'request.aborted' || e.type === 'request.size.invalid') return new TboError('invalid_request', 'request body was incomplete');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new TboError('invalid_request', 'malformed request');
  return new TboError('internal', 'internal error', {}, { cause: err });
}

/**
 * Writes an error in the caller's API shape. Upstream errors keep their status and body, with the
 * service's credential removed; an upstream auth failure names the env var to fix instead.
 */
export function sendError(res: Response, protocol: Protocol, err: TboError | UpstreamHttpError, requestId: string, redact: (text: string) => string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  let status: number;
  let body: string;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (err instanceof UpstreamHttpError && !(err.apiKeyAuth && (err.status === 401 || err.status === 403))) {
    status = err.status;
    body = redact(err.body) || JSON.stringify(protocol.errorBody('upstream_unavailable', `upstream answered ${err.status}`, { requestId }));
    // The SDK's own retry and throttling logic reads these: the upstream's request id, rate-limit state, retry-after.
    // (A cloud platform's 401/403 comes through as its adapter wrote it: which permission on which model.)
    Object.assign(headers, err.headers);
    if (err.retryAfter) headers['retry-after'] = err.retryAfter;
  } else if (err instanceof UpstreamHttpError) {
    status = err.status;
    const kind = err.status === 401 ? 'authentication' : 'permission';
    body = JSON.stringify(protocol.errorBody(kind, `the ${protocol.provider} API rejected this service's ${protocol.apiKeyEnv}; the operator must set a valid ${protocol.apiKeyEnv}`, { requestId }));
  } else {
    status = err.status;
    body = JSON.stringify(protocol.errorBody(err.kind, err.message, { requestId, param: err.details.param, code: err.details.code }));
    if (err.details.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.details.retryAfterSeconds);
  }
  res.writeHead(status, headers).end(body);
}
