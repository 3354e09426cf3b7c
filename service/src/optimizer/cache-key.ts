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

/** Everything an answer depends on. */
export interface KeyParts {
  readonly tenant: string;
  readonly endpoint: string;
  /** The request as sent (model, system prompt, all messages, tools, sampling, max tokens …). */
  readonly body: Readonly<Record<string, unknown>>;
  /** Forwarded client headers that change the answer (API version, betas, billing project). */
  readonly headers: Readonly<Record<string, string>>;
  /** The upstream that is to answer (`provider:model`): an answer from any other is never stored under this key. */
  readonly target: string;
}

/**
 * The exact-match cache key: SHA-256 over tenant, endpoint, answering upstream, the forwarded
 * headers and the canonical request (everything but delivery: `stream`, `stream_options`).
 */
export function cacheKey(parts: KeyParts): string {
  return hash('sha256', `${parts.tenant}\0${parts.endpoint}\0${parts.target}\0${canonicalJson(parts.headers)}\0${canonicalJson(parts.body, 0, DELIVERY_ONLY)}`, 'hex');
}
