import { hash } from 'node:crypto';
import { TboError } from '../errors';

/** Fields that change how an answer is delivered, not what it is. */
const DELIVERY_ONLY = new Set(['stream', 'stream_options']);
const MAX_DEPTH = 64;

/**
 * Canonical JSON: object keys sorted, no whitespace. Writes text directly (never assigns keys onto
 * objects, so `__proto__` is just a key) and refuses nesting deeper than {@link MAX_DEPTH}.
 */
export function canonicalJson(value: unknown, depth = 0, skip?: ReadonlySet<string>): string {
  if (depth > MAX_DEPTH) throw new TboError('invalid_request', `request JSON is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  const keys = Object.keys(value).filter((k) => !skip?.has(k)).sort();
  const record = value as Record<string, unknown>;
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k], depth + 1)}`).join(',')}}`;
}

/**
 * The exact-match cache key: SHA-256 over tenant, endpoint and the canonical request (model,
 * system prompt, all messages, tools, sampling parameters, max tokens — everything but delivery).
 */
export function cacheKey(tenant: string, endpoint: string, body: Readonly<Record<string, unknown>>): string {
  return hash('sha256', `${tenant}\0${endpoint}\0${canonicalJson(body, 0, DELIVERY_ONLY)}`, 'hex');
}
