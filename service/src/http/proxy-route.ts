import type { Request, Response } from 'express';
import type { Clock } from '../clock';
import { NO_TRACE, type RequestTrace } from '../observability/tracing';
import type { Gateway } from '../optimizer/gateway';
import type { ResponseSink } from '../optimizer/ports';
import { compatResponder } from '../optimizer/responders/compat';
import type { Router } from '../optimizer/routing';
import { pickHeaders, type Protocol } from '../protocols/types';
import { cacheModeOf, cachePolicyOf, effectivePriority, optimizerHeaders } from './call-context';
import { parseJsonBody } from './json-body';

/** The response of an API call as the optimizer writes it, with the request's trace (started by the access log). */
export function sinkFor(res: Response): ResponseSink {
  return {
    trace: (res.locals.trace as RequestTrace | undefined) ?? NO_TRACE,
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

export interface RouteDeps {
  readonly gateway: Gateway;
  readonly router: Router;
  readonly clock: Clock;
  /** The calling tenant (throws for callers that are not a tenant). */
  readonly tenantOf: (res: Response) => string;
  /** The highest priority a tenant may ask for. */
  readonly priorityCeiling: (tenant: string) => number;
}

/**
 * A provider-compatible endpoint: parse once, validate, route (same provider only: the client
 * speaks its wire format), hand to the optimizer.
 */
export function proxyRoute(route: string, protocol: Protocol, deps: RouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    res.locals.route = route;
    const tenant = deps.tenantOf(res);
    const raw = req.body as Buffer;
    // The body as sent (validated): what goes upstream and what the cache key hashes agree.
    const request = protocol.parse(parseJsonBody(raw, protocol.schema).sent);
    const hints = optimizerHeaders(req);
    const decision = deps.router.route(request.model, hints.complexity, protocol.provider);
    await deps.gateway.handle(
      {
        endpoint: route,
        keyBody: request.body,
        keyHeaders: pickHeaders(req.headers, protocol.keyHeaders),
        route: decision,
        stream: request.stream,
        priority: effectivePriority(hints.priority, deps.priorityCeiling(tenant)),
        tenant,
        sessionId: hints.sessionId,
        cacheMode: cacheModeOf(req),
        sampled: protocol.sampled?.(request.body) ?? false,
        cachePolicy: cachePolicyOf(req),
        clientHeaders: req.headers,
        receivedAt: res.locals.receivedAt as number,
        receivedWall: deps.clock.wall(),
        body: (target) => {
          if (target.model === request.model) return protocol.upstreamBody(request, raw);
          const body = { ...request.body, model: target.model };
          return protocol.upstreamBody({ ...request, body, model: target.model }, Buffer.from(JSON.stringify(body)));
        },
        responder: compatResponder(protocol, request.stream, request.includeUsage),
      },
      sinkFor(res),
    );
  };
}
