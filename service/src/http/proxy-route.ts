import type { Request, Response } from 'express';
import type { Clock } from '../clock';
import { TboError } from '../errors';
import type { CacheMode, Gateway } from '../optimizer/gateway';
import type { ResponseSink } from '../optimizer/ports';
import type { Protocol } from '../protocols/types';
import { isObject } from '../protocols/types';

function cacheModeOf(header: string | undefined): CacheMode {
  if (!header) return 'default';
  const directives = header.toLowerCase();
  if (directives.includes('no-store')) return 'no-store';
  if (directives.includes('no-cache')) return 'no-cache';
  return 'default';
}

function parseBody(protocol: Protocol, raw: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new TboError('invalid_request', 'request body must be a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new TboError('invalid_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new TboError('invalid_request', 'request body must be a JSON object');
  const result = protocol.schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(body)';
    throw new TboError('invalid_request', `${field}: ${issue.message}`, { param: field });
  }
  return result.data;
}

export function sinkFor(res: Response): ResponseSink {
  return {
    json(status, body, headers) {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(body);
    },
    startStream(headers) {
      res.writeHead(200, headers);
      res.flushHeaders();
    },
    write(chunk) {
      res.write(chunk);
    },
    end() {
      res.end();
    },
    onAbort(callback) {
      res.once('close', () => {
        if (!res.writableFinished) callback();
      });
    },
  };
}

/** The handler for one provider-compatible endpoint: parse once, validate, hand to the optimizer. */
export function proxyRoute(route: string, protocol: Protocol, gateway: Gateway, clock: Clock) {
  return async (req: Request, res: Response): Promise<void> => {
    res.locals.route = route;
    const body = parseBody(protocol, req.body);
    const request = protocol.parse(body);
    const cacheControl = req.headers['cache-control'];
    await gateway.handle(
      {
        protocol,
        request,
        rawBody: req.body as Buffer,
        tenant: res.locals.tenant as string,
        cacheMode: cacheModeOf(typeof cacheControl === 'string' ? cacheControl : undefined),
        clientHeaders: req.headers,
        receivedAt: (res.locals.receivedAt as number | undefined) ?? clock.now(),
      },
      sinkFor(res),
    );
  };
}
