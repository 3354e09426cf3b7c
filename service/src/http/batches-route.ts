import type { Request, Response, Router } from 'express';
import { TboError } from '../errors';
import { BATCHES_PATH, MAX_BATCH_PAGE, batchCall, batchCreateSchema, clientBatch } from '../protocols/batches';
import { isObject, type Json } from '../protocols/types';
import { parseJsonBody } from './json-body';
import { RESOURCE_ID, forward, passRequest, rawQuery, sendJson, type OwnedRouteDeps } from './pass-through';

/** Upstream list pages (of {@link MAX_BATCH_PAGE} batches) read to fill one client page. */
export const MAX_UPSTREAM_PAGES = 10;
/** Upstream list pages read at most while none of the caller's batches was found (100 000 batches). */
export const MAX_SCAN_PAGES = 100;
const DEFAULT_LIMIT = 20;
/** The batches path under the `/v1` router. */
const MOUNTED = BATCHES_PATH.slice('/v1'.length);

/** What a tenant may not see answers like what does not exist. */
function noSuchBatch(id: string): TboError {
  return new TboError('not_found', `message_batch_id: no message batch "${id.slice(0, 128)}" found`, { param: 'message_batch_id' });
}

interface ListRequest {
  readonly limit: number;
  readonly afterId: string | null;
  readonly beforeId: string | null;
}

function listRequest(query: URLSearchParams): ListRequest {
  const text = query.get('limit');
  const limit = text === null ? DEFAULT_LIMIT : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BATCH_PAGE) {
    throw new TboError('invalid_request', `limit: must be an integer from 1 to ${MAX_BATCH_PAGE}`, { param: 'limit' });
  }
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  if (afterId !== null && beforeId !== null) throw new TboError('invalid_request', 'after_id, before_id: give at most one of them', { param: 'before_id' });
  return { limit, afterId, beforeId };
}

/**
 * Anthropic's Message Batches API, scoped to the tenant that created each batch: the upstream
 * holds every batch under the service's key, so TBO records the creator of each (Redis or memory,
 * see {@link ResourceOwners}) and answers another tenant's batch exactly like one that does not
 * exist (404, no upstream call). Nothing is cached: a batch changes while it runs.
 */
export function mountBatches(v1: Router, deps: OwnedRouteDeps): void {
  /** The caller's own batch named in the path, or a 404. */
  const ownBatch = async (req: Request, res: Response, route: string): Promise<{ readonly tenant: string; readonly id: string }> => {
    res.locals.route = route;
    const tenant = deps.tenantOf(res);
    const id = String(req.params.id);
    if (!RESOURCE_ID.test(id) || !(await deps.owners.owns('batch', id, tenant))) throw noSuchBatch(id);
    return { tenant, id };
  };

  // Create: every request's model passes the same checks as a message would (allow-list, provider).
  v1.post(MOUNTED, async (req: Request, res: Response) => {
    res.locals.route = BATCHES_PATH;
    const tenant = deps.tenantOf(res);
    const raw = req.body as Buffer;
    const { data } = parseJsonBody(raw, batchCreateSchema);
    for (const model of new Set(data.requests.map((r) => r.params.model))) {
      const at = data.requests.findIndex((r) => r.params.model === model);
      const param = `requests.${at}.params.model`;
      if (model === 'auto') throw new TboError('invalid_request', `${param}: "auto" is not available in batches; name a model`, { param });
      try {
        deps.router.route(model, 1, 'anthropic');
      } catch (err) {
        if (err instanceof TboError && err.kind === 'invalid_request') throw new TboError('invalid_request', `requests.${at}.params.${err.message}`, { param });
        throw err;
      }
    }
    const { body, headers } = await deps.passthrough.json(passRequest(req, res, deps, tenant, batchCall(BATCHES_PATH, 'POST'), raw));
    if (typeof body.id !== 'string') throw new TboError('upstream_unavailable', 'the anthropic API answered a batch without an id');
    // Recorded before the client learns the id: its next call may land on another instance.
    await deps.owners.record('batch', body.id, tenant);
    sendJson(res, clientBatch(body), headers);
  });

  /**
   * The caller's batches, newest first, paged as the API pages (`limit`, `after_id` | `before_id`).
   * The upstream lists every tenant's batches: its pages (1000 batches each) are read from the
   * cursor on and filtered to the caller's until the page is full (and one more batch tells
   * `has_more`), the list ends, or {@link MAX_UPSTREAM_PAGES} pages were read with at least one of
   * the caller's batches found (then `has_more` stays true and the next page goes on from
   * `last_id`, always one of the caller's). While none is found reading goes on, up to
   * {@link MAX_SCAN_PAGES} pages. A cursor that is not one of the caller's batches gives an empty page.
   */
  v1.get(MOUNTED, async (req: Request, res: Response) => {
    res.locals.route = BATCHES_PATH;
    const tenant = deps.tenantOf(res);
    const page = listRequest(new URLSearchParams(rawQuery(req)));
    const backwards = page.beforeId !== null;
    const cursor = page.beforeId ?? page.afterId;
    const empty = { data: [], has_more: false, first_id: null, last_id: null };
    if (cursor !== null && (!RESOURCE_ID.test(cursor) || !(await deps.owners.owns('batch', cursor, tenant)))) {
      sendJson(res, empty, {});
      return;
    }
    let found: Json[] = [];
    let at = cursor;
    let upstreamHasMore = true;
    let headers: Readonly<Record<string, string>> = {};
    for (let read = 0; upstreamHasMore && found.length <= page.limit && (read < MAX_UPSTREAM_PAGES || found.length === 0) && read < MAX_SCAN_PAGES; read++) {
      const query = new URLSearchParams({ limit: String(MAX_BATCH_PAGE) });
      if (at !== null) query.set(backwards ? 'before_id' : 'after_id', at);
      const answer = await deps.passthrough.json(passRequest(req, res, deps, tenant, batchCall(`${BATCHES_PATH}?${query}`, 'GET')));
      headers = answer.headers;
      const batches = (Array.isArray(answer.body.data) ? answer.body.data : []).filter((b): b is Json => isObject(b) && typeof b.id === 'string');
      const mine = await deps.owners.ownedAmong('batch', batches.map((b) => b.id as string), tenant);
      const own = batches.filter((b) => mine.has(b.id as string));
      // Pages before the cursor come nearest-first from the end: the newest page goes in front.
      found = backwards ? [...own, ...found] : [...found, ...own];
      const next = backwards ? answer.body.first_id : answer.body.last_id;
      upstreamHasMore = answer.body.has_more === true && typeof next === 'string';
      at = typeof next === 'string' ? next : null;
    }
    const data = (backwards ? found.slice(-page.limit) : found.slice(0, page.limit)).map(clientBatch);
    sendJson(res, {
      data,
      // More of the caller's batches exist, or may exist beyond the pages read (a cursor is needed to go on).
      has_more: found.length > page.limit || (upstreamHasMore && data.length > 0),
      first_id: data.length ? data[0].id : null,
      last_id: data.length ? data[data.length - 1].id : null,
    }, headers);
  });

  v1.get(`${MOUNTED}/:id`, async (req: Request, res: Response) => {
    const { tenant, id } = await ownBatch(req, res, `${BATCHES_PATH}/:id`);
    const { body, headers } = await deps.passthrough.json(passRequest(req, res, deps, tenant, batchCall(`${BATCHES_PATH}/${id}`, 'GET')));
    sendJson(res, clientBatch(body), headers);
  });

  v1.post(`${MOUNTED}/:id/cancel`, async (req: Request, res: Response) => {
    const { tenant, id } = await ownBatch(req, res, `${BATCHES_PATH}/:id/cancel`);
    const { body, headers } = await deps.passthrough.json(passRequest(req, res, deps, tenant, batchCall(`${BATCHES_PATH}/${id}/cancel`, 'POST')));
    sendJson(res, clientBatch(body), headers);
  });

  v1.delete(`${MOUNTED}/:id`, async (req: Request, res: Response) => {
    const { tenant, id } = await ownBatch(req, res, `${BATCHES_PATH}/:id`);
    const { body, headers } = await deps.passthrough.json(passRequest(req, res, deps, tenant, batchCall(`${BATCHES_PATH}/${id}`, 'DELETE')));
    await deps.owners.forget('batch', id);
    sendJson(res, body, headers);
  });

  // Results: JSONL streamed through as the upstream sends it (a batch's results can be large).
  v1.get(`${MOUNTED}/:id/results`, async (req: Request, res: Response) => {
    const { tenant, id } = await ownBatch(req, res, `${BATCHES_PATH}/:id/results`);
    await forward(res, await deps.passthrough.call(passRequest(req, res, deps, tenant, batchCall(`${BATCHES_PATH}/${id}/results`, 'GET'))));
  });
}
