import type { Request, Response, Router } from 'express';
import { TboError } from '../errors';
import type { ResponseSink } from '../optimizer/ports';
import { compatResponder } from '../optimizer/responders/compat';
import { openai } from '../protocols/openai';
import { responses } from '../protocols/responses';
import { SseParser } from '../protocols/sse';
import { isObject, pickHeaders, type Protocol } from '../protocols/types';
import { cacheModeOf, cachePolicyOf, effectivePriority, optimizerHeaders } from './call-context';
import { parseJsonBody } from './json-body';
import { RESOURCE_ID, forward, passRequest, rawQuery, type OwnedRouteDeps } from './pass-through';
import { sinkFor } from './proxy-route';

const ROUTE = '/v1/responses';

/** A stored response call: `path` under the OpenAI base URL, query included. */
function responseCall(path: string, method: 'GET' | 'POST' | 'DELETE'): Protocol {
  return { ...openai, upstreamPath: path, upstreamMethod: method, isAnswer: () => true, usage: () => undefined };
}

function noSuchResponse(id: string): TboError {
  return new TboError('not_found', `No response found with id '${id.slice(0, 128)}'.`);
}

/** What the API answers for a `previous_response_id` it does not hold. */
function noPreviousResponse(id: string): TboError {
  return new TboError('invalid_request', `Previous response with id '${id.slice(0, 128)}' not found.`, { param: 'previous_response_id', code: 'previous_response_not_found' });
}

/**
 * True when the request's answer depends on, or changes, state the upstream keeps, so a cached
 * answer would be wrong: a stored response (`store` is true unless set to false: the API's
 * default), a continuation (`previous_response_id`), a background run, a stored prompt.
 */
function stateful(body: Readonly<Record<string, unknown>>): boolean {
  return body.store !== false || typeof body.previous_response_id === 'string' || body.background === true || (body.prompt !== undefined && body.prompt !== null);
}

function responseIdOf(json: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    return isObject(parsed) && parsed.object === 'response' && typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A sink that records the tenant as the owner of the response it carries before the client learns
 * its id (the JSON answer, or the stream's `response.created` event): the client's next call (a
 * retrieve, a continuation) may land on another instance. Output after the id waits for the record.
 */
function recordingSink(inner: ResponseSink, record: (id: string) => Promise<void>): ResponseSink {
  let tail: Promise<void> | undefined;
  /** Runs `step` now, or once what waits before it is done (always after, when `queue`). */
  const then = (step: () => void | Promise<void>, queue = false) => {
    if (!tail && !queue) {
      void step();
      return;
    }
    // A step that fails (a write to a closed connection) does not stop the ones after it.
    const next = (tail ?? Promise.resolve()).then(step).catch(() => undefined);
    tail = next;
    void next.finally(() => {
      if (tail === next) tail = undefined;
    });
  };
  const hold = (id: string) => then(() => record(id), true);
  let parser: SseParser | undefined = new SseParser();
  return {
    trace: inner.trace,
    json(status, body, headers) {
      const id = status === 200 ? responseIdOf(body) : undefined;
      if (id) hold(id);
      then(() => inner.json(status, body, headers));
    },
    startStream(headers) {
      then(() => inner.startStream(headers));
    },
    write(chunk) {
      // Only until the response's id has been seen: it is in the first event.
      for (const frame of parser?.push(Buffer.from(chunk)) ?? []) {
        if (frame.event !== undefined && frame.event !== 'response.created') continue;
        let event: unknown;
        try {
          event = JSON.parse(frame.data);
        } catch {
          continue;
        }
        if (!isObject(event) || event.type !== 'response.created') continue;
        const id = isObject(event.response) && typeof event.response.id === 'string' ? event.response.id : undefined;
        if (id) hold(id);
        parser = undefined;
        break;
      }
      then(() => inner.write(chunk));
    },
    end() {
      then(() => inner.end());
    },
    onAbort(callback) {
      inner.onAbort(callback);
    },
  };
}

/**
 * OpenAI's Responses API. `POST /v1/responses` goes through the optimizer like a chat completion
 * (lanes, breakers, the 429 rule, header pass-through, streams and replays), and is cached like one
 * only when it keeps no upstream state: `store: false`, no `previous_response_id`, no background run,
 * no stored prompt; every other request is a live call of its own (`x-tbo-cache: bypass`), neither
 * cached nor shared. A stored response belongs to the tenant that created it: `GET`, `DELETE`,
 * `cancel` and `input_items` of another tenant's response, and a `previous_response_id` naming one,
 * are answered as for a response that does not exist, without an upstream call.
 */
export function mountResponses(v1: Router, deps: OwnedRouteDeps): void {
  const { owners } = deps;

  v1.post(ROUTE.slice('/v1'.length), async (req: Request, res: Response) => {
    res.locals.route = ROUTE;
    const tenant = deps.tenantOf(res);
    const raw = req.body as Buffer;
    const request = responses.parse(parseJsonBody(raw, responses.schema).sent);
    const { body } = request;
    if (body.conversation !== undefined && body.conversation !== null) {
      throw new TboError('invalid_request', 'conversation: conversations are not served by this gateway; send the input, or continue with previous_response_id', { param: 'conversation' });
    }
    const previous = typeof body.previous_response_id === 'string' ? body.previous_response_id : undefined;
    if (previous !== undefined && (!RESOURCE_ID.test(previous) || !(await owners.owns('response', previous, tenant)))) throw noPreviousResponse(previous);
    const hints = optimizerHeaders(req);
    const decision = deps.router.route(request.model, hints.complexity, 'openai');
    const sink = sinkFor(res);
    await deps.gateway.handle(
      {
        endpoint: ROUTE,
        keyBody: body,
        keyHeaders: pickHeaders(req.headers, responses.keyHeaders),
        route: decision,
        stream: request.stream,
        priority: effectivePriority(hints.priority, deps.priorityCeiling(tenant)),
        tenant,
        sessionId: hints.sessionId,
        cacheMode: stateful(body) ? 'no-store' : cacheModeOf(req),
        sampled: responses.sampled?.(body) ?? false,
        cachePolicy: cachePolicyOf(req),
        clientHeaders: req.headers,
        receivedAt: res.locals.receivedAt as number,
        receivedWall: deps.clock.wall(),
        protocol: responses,
        body: (target) => (target.model === request.model ? raw : JSON.stringify({ ...body, model: target.model })),
        responder: compatResponder(responses, request.stream, false),
      },
      // A response the upstream keeps is the tenant's from the moment it exists.
      body.store === false ? sink : recordingSink(sink, (id) => owners.record('response', id, tenant)),
    );
  });

  /** The caller's own response named in the path, passed through to `path` (query kept), or a 404. */
  const own = (route: string, method: 'GET' | 'POST' | 'DELETE', suffix = '') => async (req: Request, res: Response) => {
    res.locals.route = route;
    const tenant = deps.tenantOf(res);
    const id = String(req.params.id);
    if (!RESOURCE_ID.test(id) || !(await owners.owns('response', id, tenant))) throw noSuchResponse(id);
    const query = method === 'GET' ? rawQuery(req) : '';
    const upstream = await deps.passthrough.call(passRequest(req, res, deps, tenant, responseCall(`/responses/${id}${suffix}${query ? `?${query}` : ''}`, method)));
    if (method === 'DELETE') await owners.forget('response', id);
    await forward(res, upstream);
  };
  const base = ROUTE.slice('/v1'.length);
  // Retrieve passes the answer through as it comes: JSON, or the SSE replay of `?stream=true`.
  v1.get(`${base}/:id`, own(`${ROUTE}/:id`, 'GET'));
  v1.delete(`${base}/:id`, own(`${ROUTE}/:id`, 'DELETE'));
  v1.post(`${base}/:id/cancel`, own(`${ROUTE}/:id/cancel`, 'POST', '/cancel'));
  v1.get(`${base}/:id/input_items`, own(`${ROUTE}/:id/input_items`, 'GET', '/input_items'));
}
