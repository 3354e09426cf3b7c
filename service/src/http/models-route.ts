import type { Request, Response } from 'express';
import { TboError } from '../errors';
import type { ModelCaller, ModelDirectory } from '../optimizer/model-directory';
import type { Json } from '../protocols/types';
import { effectivePriority, optimizerHeaders } from './call-context';
import { protocolFor } from './error-response';
import type { RouteDeps } from './proxy-route';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;
const LIFECYCLES: ReadonlySet<string> = new Set(['active', 'deprecated', 'retired']);

/** A page of the Anthropic model list, as asked for (`limit`, `after_id` | `before_id`, `lifecycle[]`). */
interface PageRequest {
  readonly limit: number;
  readonly afterId: string | null;
  readonly beforeId: string | null;
  readonly lifecycles: ReadonlySet<string> | undefined;
}

/** The query string as sent (the app parses none: `query parser` is off). */
function queryOf(req: Request): URLSearchParams {
  const at = req.originalUrl.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : req.originalUrl.slice(at + 1));
}

function pageRequest(query: URLSearchParams): PageRequest {
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : /^\d+$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new TboError('invalid_request', `limit: must be an integer from 1 to ${MAX_LIMIT}`, { param: 'limit' });
  }
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  if (afterId !== null && beforeId !== null) throw new TboError('invalid_request', 'after_id, before_id: give at most one of them', { param: 'before_id' });
  // The SDK sends arrays as `lifecycle[]=a&lifecycle[]=b`.
  const stages = [...query.getAll('lifecycle[]'), ...query.getAll('lifecycle')].flatMap((v) => v.split(','));
  const unknown = stages.find((s) => !LIFECYCLES.has(s));
  if (unknown !== undefined) throw new TboError('invalid_request', `lifecycle: "${unknown.slice(0, 50)}" is not one of active, deprecated, retired`, { param: 'lifecycle' });
  return { limit, afterId, beforeId, lifecycles: stages.length ? new Set(stages) : undefined };
}

/**
 * One page of a list ordered newest first: the `limit` models after `after_id`, or before
 * `before_id` (paging backwards), or from the start. An id that is not in the list gives an empty page.
 */
function page(models: readonly Json[], req: PageRequest): Json {
  const { lifecycles } = req;
  const listed = lifecycles ? models.filter((m) => lifecycles.has(typeof m.lifecycle === 'string' ? m.lifecycle : 'active')) : models;
  const indexOf = (id: string) => listed.findIndex((m) => m.id === id);
  let start: number;
  let end: number;
  if (req.beforeId !== null) {
    const at = indexOf(req.beforeId);
    end = at === -1 ? 0 : at;
    start = Math.max(0, end - req.limit);
  } else {
    const at = req.afterId === null ? -1 : indexOf(req.afterId);
    start = req.afterId === null ? 0 : at === -1 ? listed.length : at + 1;
    end = Math.min(listed.length, start + req.limit);
  }
  const data = listed.slice(start, end);
  return {
    data,
    has_more: req.beforeId !== null ? start > 0 : end < listed.length,
    first_id: data.length ? data[0].id : null,
    last_id: data.length ? data[data.length - 1].id : null,
  };
}

/**
 * `GET /v1/models` and `GET /v1/models/{id}` for both SDKs (told apart as errors are: the
 * Anthropic SDK sends `anthropic-version`): the service's own list of the caller's provider, shared
 * by tenants, paginated for Anthropic clients, whole for OpenAI ones. `x-tbo-cache` says whether
 * the list was fetched (miss), fresh (hit) or being fetched for another request (coalesced).
 */
export function modelRoutes(directory: ModelDirectory, deps: RouteDeps) {
  const callerOf = (req: Request, res: Response): ModelCaller => {
    const tenant = deps.tenantOf(res);
    return { tenant, priority: effectivePriority(optimizerHeaders(req).priority, deps.priorityCeiling(tenant)) };
  };
  const send = (res: Response, body: Json, cache: string) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-tbo-cache': cache }).end(JSON.stringify(body));
  };
  return {
    async list(req: Request, res: Response): Promise<void> {
      res.locals.route = '/v1/models';
      const { provider } = protocolFor(req);
      const caller = callerOf(req, res);
      const paging = provider === 'anthropic' ? pageRequest(queryOf(req)) : undefined;
      const listing = await directory.list(provider, caller);
      send(res, paging ? page(listing.models, paging) : { object: 'list', data: listing.models }, listing.cache);
    },

    async retrieve(req: Request, res: Response): Promise<void> {
      res.locals.route = '/v1/models/:id';
      const { provider } = protocolFor(req);
      const { model, cache } = await directory.retrieve(provider, String(req.params.id), callerOf(req, res));
      send(res, model, cache);
    },
  };
}
