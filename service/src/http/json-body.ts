import type { z } from 'zod';
import { TboError } from '../errors';
import { isObject } from '../protocols/types';

/** Deepest nesting accepted in a request body. */
export const MAX_JSON_DEPTH = 64;
// Strict: invalid bytes are an error, and a BOM is kept (JSON.parse then rejects it, as the APIs do).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Refuses nesting deeper than {@link MAX_JSON_DEPTH} (iteratively: no recursion to overflow). */
function assertDepth(root: unknown): void {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw new TboError('invalid_request', `request JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Object.values(value)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

/**
 * Parses a raw body as a UTF-8 JSON object and validates it; errors name the offending field.
 * Returns the validated data and the object exactly as sent (for hashing: every member counts,
 * `__proto__` included).
 */
export function parseJsonBody<T>(raw: unknown, schema: z.ZodType<T>): { readonly data: T; readonly sent: Record<string, unknown> } {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new TboError('invalid_request', 'request body must be a JSON object');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new TboError('invalid_request', 'request body is not valid JSON: it is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TboError('invalid_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new TboError('invalid_request', 'request body must be a JSON object');
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(body)';
    throw new TboError('invalid_request', `${field}: ${issue.message}`, { param: field });
  }
  assertDepth(parsed);
  return { data: result.data, sent: parsed };
}
