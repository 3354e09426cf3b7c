/**
 * Anthropic's Message Batches API for the fake upstream, in its wire format: create, retrieve, list
 * (newest first, paged by `limit`, `after_id` | `before_id`), cancel, delete and results (JSONL).
 * As upstream, batches are processed asynchronously: they stay `in_progress` until the test ends
 * them with `finishAll()`.
 */
import { anthropicProvider } from './fake-anthropic';
import type { FakeEndpoint, FakeReply } from './fake-endpoints';
import { isRecord, newId, type JsonObject } from './fake-text';

export interface FakeBatches {
  readonly endpoints: readonly FakeEndpoint[];
  /** Ids of the batches held, newest first (the list's order). */
  readonly ids: readonly string[];
  /** Ends every batch still processing: each request succeeds (an echo answer) or errs, or is canceled when its batch was. */
  finishAll(): void;
  /** Creates `count` batches directly (other users of the same upstream workspace); returns their ids. */
  seed(count: number): string[];
  /** List pages hold at most `n` batches whatever `limit` asks; `undefined` restores the limit. */
  setPageCap(n: number | undefined): void;
  reset(): void;
}

interface BatchRequest {
  readonly custom_id: string;
  readonly params: JsonObject;
}

interface HeldBatch {
  readonly id: string;
  readonly createdAt: Date;
  readonly requests: readonly BatchRequest[];
  /** Where the fake was reached (`results_url` points back at it, as the API's points at itself). */
  readonly host: string;
  status: 'in_progress' | 'canceling' | 'ended';
  cancelAt: Date | undefined;
  endedAt: Date | undefined;
  results: JsonObject[] | undefined;
}

const PATH = '/v1/messages/batches';
const ONE = /^\/v1\/messages\/batches\/([^/]+)$/;
const CANCEL = /^\/v1\/messages\/batches\/([^/]+)\/cancel$/;
const RESULTS = /^\/v1\/messages\/batches\/([^/]+)\/results$/;
const DAY_MS = 86_400_000;

const notFound = (id: string): FakeReply => ({ status: 404, body: anthropicProvider.error(404, `message_batch_id: batch ${id} not found`) });
const invalid = (message: string): FakeReply => ({ status: 400, body: anthropicProvider.error(400, message) });
const idIn = (pattern: RegExp, path: string): string => decodeURIComponent((pattern.exec(path) as RegExpExecArray)[1]);

export function fakeBatches(): FakeBatches {
  /** Oldest first. */
  let held: HeldBatch[] = [];
  let pageCap: number | undefined;
  let clock = Date.UTC(2026, 0, 1);
  // Distinct, increasing creation times (the API lists newest first).
  const now = () => new Date((clock += 1000));

  const find = (id: string) => held.find((b) => b.id === id);

  const view = (b: HeldBatch): JsonObject => {
    const count = (type: string) => (b.results ?? []).filter((r) => isRecord(r.result) && r.result.type === type).length;
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: b.status,
      request_counts: {
        processing: b.status === 'ended' ? 0 : b.requests.length,
        succeeded: count('succeeded'),
        errored: count('errored'),
        canceled: count('canceled'),
        expired: 0,
      },
      ended_at: b.endedAt?.toISOString() ?? null,
      created_at: b.createdAt.toISOString(),
      expires_at: new Date(b.createdAt.getTime() + DAY_MS).toISOString(),
      archived_at: null,
      cancel_initiated_at: b.cancelAt?.toISOString() ?? null,
      results_url: b.status === 'ended' ? `http://${b.host}${PATH}/${b.id}/results` : null,
    };
  };

  const add = (requests: readonly BatchRequest[], host: string): HeldBatch => {
    const batch: HeldBatch = { id: newId('msgbatch_'), createdAt: now(), requests, host, status: 'in_progress', cancelAt: undefined, endedAt: undefined, results: undefined };
    held.push(batch);
    return batch;
  };

  const create: FakeEndpoint = {
    provider: anthropicProvider,
    method: 'POST',
    matches: (path) => path === PATH,
    invalid({ body }) {
      if (!Array.isArray(body.requests) || body.requests.length === 0) return 'requests: Field required';
      const bad = body.requests.findIndex((r: unknown) => !isRecord(r) || typeof r.custom_id !== 'string' || !isRecord(r.params));
      return bad === -1 ? undefined : `requests.${bad}: custom_id and params are required`;
    },
    reply({ body, headers }) {
      const requests = (body.requests as JsonObject[]).map((r) => ({ custom_id: r.custom_id as string, params: r.params as JsonObject }));
      return { status: 200, body: view(add(requests, headers?.host ?? '127.0.0.1')) };
    },
  };

  const list: FakeEndpoint = {
    provider: anthropicProvider,
    method: 'GET',
    matches: (path) => path === PATH,
    invalid({ query }) {
      const limit = query.get('limit');
      if (limit !== null && !(Number.isInteger(Number(limit)) && Number(limit) >= 1 && Number(limit) <= 1000)) return 'limit: Input should be less than or equal to 1000';
      return undefined;
    },
    reply({ query }) {
      const all = [...held].reverse();
      const size = Math.min(Number(query.get('limit') ?? 20), pageCap ?? Infinity);
      const after = query.get('after_id');
      const before = query.get('before_id');
      let start = 0;
      let end = Math.min(all.length, size);
      if (after !== null) {
        start = all.findIndex((b) => b.id === after) + 1;
        end = Math.min(all.length, start + size);
      } else if (before !== null) {
        end = Math.max(0, all.findIndex((b) => b.id === before));
        start = Math.max(0, end - size);
      }
      const data = all.slice(start, end).map(view);
      return {
        status: 200,
        body: { data, has_more: before !== null ? start > 0 : end < all.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null },
      };
    },
  };

  const retrieve: FakeEndpoint = {
    provider: anthropicProvider,
    method: 'GET',
    matches: (path) => ONE.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const batch = find(idIn(ONE, path));
      return batch ? { status: 200, body: view(batch) } : notFound(idIn(ONE, path));
    },
  };

  const cancel: FakeEndpoint = {
    provider: anthropicProvider,
    method: 'POST',
    bodyless: true,
    matches: (path) => CANCEL.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const batch = find(idIn(CANCEL, path));
      if (!batch) return notFound(idIn(CANCEL, path));
      if (batch.status === 'ended') return invalid(`message_batch ${batch.id} has already ended`);
      batch.status = 'canceling';
      batch.cancelAt ??= now();
      return { status: 200, body: view(batch) };
    },
  };

  const remove: FakeEndpoint = {
    provider: anthropicProvider,
    method: 'DELETE',
    matches: (path) => ONE.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const batch = find(idIn(ONE, path));
      if (!batch) return notFound(idIn(ONE, path));
      if (batch.status !== 'ended') return invalid(`message_batch ${batch.id} is still processing; cancel it and wait for it to end before deleting it`);
      held = held.filter((b) => b !== batch);
      return { status: 200, body: { id: batch.id, type: 'message_batch_deleted' } };
    },
  };

  const results: FakeEndpoint = {
    provider: anthropicProvider,
    method: 'GET',
    matches: (path) => RESULTS.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const batch = find(idIn(RESULTS, path));
      if (!batch) return notFound(idIn(RESULTS, path));
      if (!batch.results) return invalid(`message_batch ${batch.id} has not ended; its results are not available yet`);
      const text = batch.results.map((r) => `${JSON.stringify(r)}\n`).join('');
      // Sent in pieces that split lines, as a large file arrives.
      const size = Math.max(1, Math.ceil(text.length / 4));
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      return { status: 200, contentType: 'application/binary', chunks };
    },
  };

  const outcome = (request: BatchRequest, canceled: boolean): JsonObject => {
    if (canceled) return { type: 'canceled' };
    const problem = anthropicProvider.invalid(request.params);
    if (problem !== undefined) return { type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: problem } } };
    return { type: 'succeeded', message: anthropicProvider.reply(request.params) };
  };

  return {
    endpoints: [create, list, retrieve, cancel, remove, results],
    get ids() {
      return [...held].reverse().map((b) => b.id);
    },
    finishAll() {
      for (const batch of held) {
        if (batch.status === 'ended') continue;
        const canceled = batch.status === 'canceling';
        batch.results = batch.requests.map((r) => ({ custom_id: r.custom_id, result: outcome(r, canceled) }));
        batch.status = 'ended';
        batch.endedAt = now();
      }
    },
    seed(count) {
      return Array.from({ length: count }, (_, i) => add([{ custom_id: `seeded-${i}`, params: { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'seeded' }] } }], '127.0.0.1').id);
    },
    setPageCap(n) {
      pageCap = n;
    },
    reset() {
      held = [];
      pageCap = undefined;
    },
  };
}
