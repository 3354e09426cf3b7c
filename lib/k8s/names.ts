import { createHash } from 'node:crypto';
import { DEFAULT_NAME, MAX_NAME_LENGTH, NAME_HASH_LENGTH } from './defaults';

/**
 * The default `name` of an instance: readable, unique per construct path and the same on every synth.
 * The construct id, lower-cased to DNS label characters, prefixed with `tbo-` unless it already starts
 * with "tbo", then `-` and the first 8 hex digits of SHA-256 over the construct path; at most 40
 * characters, so `<name>-default-deny` still fits a 63-character label.
 */
export function defaultInstanceName(constructPath: string, id: string): string {
  const base = id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  const readable = base.startsWith(DEFAULT_NAME) ? base : `${DEFAULT_NAME}-${base}`.replace(/-+$/, '');
  const hash = createHash('sha256').update(constructPath).digest('hex').slice(0, NAME_HASH_LENGTH);
  const head = readable.slice(0, MAX_NAME_LENGTH - NAME_HASH_LENGTH - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}
