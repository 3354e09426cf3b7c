import type { z } from 'zod';
import { TboError } from '../errors';
import { isObject } from '../protocols/types';

/** Parses a raw body as a JSON object and validates it; errors name the offending field. */
export function parseJsonBody<T>(raw: unknown, schema: z.ZodType<T>): T {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new TboError('invalid_request', 'request body must be a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
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
  return result.data;
}
