import { LRUCache } from 'lru-cache';
import { CACHE_POLICY_PATTERN } from '../config/settings';

/** What the cache does with a sampled request (see `TBO_CACHE_SAMPLED`). */
export type CachePolicy = { readonly kind: 'cache' } | { readonly kind: 'bypass' } | { readonly kind: 'variants'; readonly count: number };

/** Parses `cache`, `bypass` or `variants:N`; undefined for anything else. */
export function parseCachePolicy(text: string): CachePolicy | undefined {
  if (!CACHE_POLICY_PATTERN.test(text)) return undefined;
  if (text === 'cache' || text === 'bypass') return { kind: text };
  return { kind: 'variants', count: Number(text.slice('variants:'.length)) };
}

/** Request keys whose variant counter is remembered at once (least recently used forgotten). */
const MAX_COUNTERS = 10_000;

/**
 * Spreads the requests for one key over its N variant slots, round-robin: the first N requests
 * each find an empty slot (a miss that fills it), later ones are served the stored answers in turn,
 * so "regenerate" sees different answers. Counters are per instance; the slots themselves are in
 * the shared cache.
 */
export class VariantPicker {
  private readonly next = new LRUCache<string, number>({ max: MAX_COUNTERS });

  /** The slot of this request for `key`, from 0 to count − 1. */
  pick(key: string, count: number): number {
    const slot = (this.next.get(key) ?? 0) % count;
    this.next.set(key, slot + 1);
    return slot;
  }
}
