import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock';

/** The in-memory tier: an LRU bounded by entries and bytes, TTL refreshed on every hit. */
export class MemoryCache {
  private readonly lru: LRUCache<string, string> | undefined;

  constructor(opts: { readonly maxEntries: number; readonly maxBytes: number; readonly clock: Clock }) {
    this.lru =
      opts.maxEntries > 0
        ? new LRUCache<string, string>({
            max: opts.maxEntries,
            maxSize: opts.maxBytes,
            sizeCalculation: (value, key) => value.length * 2 + key.length * 2 + 64,
            ttlAutopurge: false,
            updateAgeOnGet: true,
            perf: { now: () => opts.clock.now() },
          })
        : undefined;
  }

  get(key: string): string | undefined {
    return this.lru?.get(key);
  }

  set(key: string, value: string, ttlSeconds: number): void {
    this.lru?.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get capacity(): number {
    return this.lru?.max ?? 0;
  }
}
