import type { Request, Response } from 'express';
import { TboError } from '../errors';
import { compatResponder } from '../optimizer/responders/compat';
import type { Endpoint } from '../protocols/endpoints';
import { pickHeaders } from '../protocols/types';
import { cacheModeOf, effectivePriority, optimizerHeaders } from './call-context';
import { parseJsonBody } from './json-body';
import { sinkFor, type RouteDeps } from './proxy-route';

/**
 * A JSON-only provider endpoint (token counting, embeddings, moderations) through the optimizer,
 * exactly like a chat answer: cached per tenant under the canonical body, forwarded headers and
 * model, coalesced, in the lanes, behind the breakers. One model answers (an embedding or a count
 * from another model is a different answer, never a fallback), and the call is no turn of a
 * session: it counts for no collaborative bandwidth.
 */
export function endpointRoute(endpoint: Endpoint, deps: RouteDeps) {
  const { protocol } = endpoint;
  const responder = compatResponder(protocol, false, false);
  return async (req: Request, res: Response): Promise<void> => {
    res.locals.route = endpoint.route;
    const tenant = deps.tenantOf(res);
    const raw = req.body as Buffer;
    const request = protocol.parse(parseJsonBody(raw, protocol.schema).sent);
    if (request.model === 'auto' && !endpoint.routesAuto) {
      throw new TboError('invalid_request', `model: "auto" is not available on ${endpoint.route}; name a model`, { param: 'model' });
    }
    const hints = optimizerHeaders(req);
    const decision = deps.router.route(request.model, hints.complexity, protocol.provider);
    const route = decision.chain.length === 1 ? decision : { ...decision, chain: decision.chain.slice(0, 1) };
    const target = route.chain[0];
    await deps.gateway.handle(
      {
        endpoint: endpoint.route,
        keyBody: request.body,
        keyHeaders: pickHeaders(req.headers, protocol.keyHeaders),
        route,
        stream: false,
        priority: effectivePriority(hints.priority, deps.priorityCeiling(tenant)),
        tenant,
        sessionId: undefined,
        cacheMode: cacheModeOf(req),
        clientHeaders: req.headers,
        receivedAt: res.locals.receivedAt as number,
        receivedWall: deps.clock.wall(),
        protocol,
        body: () => (target.model === request.model ? raw : JSON.stringify({ ...request.body, model: target.model })),
        responder,
      },
      sinkFor(res),
    );
  };
}
