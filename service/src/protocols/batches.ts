import { z } from 'zod';
import { anthropic } from './anthropic';
import type { Json, Protocol } from './types';

/**
 * Anthropic's Message Batches API (`/v1/messages/batches`): the create request TBO validates and
 * the calls it passes through. Authentication, forwarded and passed headers and the error shape are
 * the Messages API's.
 */
export const BATCHES_PATH = '/v1/messages/batches';

/** Most requests one batch may hold. */
export const MAX_BATCH_REQUESTS = 100_000;

/** Most batches one list page may hold (`limit`). */
export const MAX_BATCH_PAGE = 1000;

export const batchCreateSchema = z.looseObject({
  requests: z
    .array(
      z.looseObject({
        custom_id: z.string().min(1).max(64),
        params: z.looseObject({ model: z.string().min(1).max(256) }),
      }),
    )
    .min(1)
    .max(MAX_BATCH_REQUESTS),
});

const none = (): undefined => undefined;

/** A batch call: `path` under the Anthropic base URL, query included. */
export function batchCall(path: string, method: 'GET' | 'POST' | 'DELETE'): Protocol {
  return { ...anthropic, upstreamPath: path, upstreamMethod: method, isAnswer: () => true, usage: none };
}

/**
 * A batch as the client sees it: its `results_url` points at this gateway (a path, which the SDKs
 * resolve against their base URL), never at the upstream, which would take the client's TBO key.
 */
export function clientBatch(batch: Json): Json {
  if (typeof batch.results_url !== 'string' || typeof batch.id !== 'string') return batch;
  return { ...batch, results_url: `${BATCHES_PATH}/${encodeURIComponent(batch.id)}/results` };
}
