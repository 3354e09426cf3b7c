import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock';

/** A cached answer and when the shared tier's TTL was last refreshed for it. */
export interface MemoryEntry {
  readonly value: string;
  sharedTouchedAt: number;
}

/** The in-memory tier: an LRU bounded by entries and bytes, TTL refreshed on every hit. */
export class MemoryCache {
  private readonly lru: LRUCache<string, MemoryEntry> | undefined;

  constructor(opts: { readonly maxEntries: number; readonly maxBytes: number; readonly clock: Clock }) {
    this.lru =
      opts.maxEntries > 0
        ? new LRUCache<string, MemoryEntry>({
            max: opts.maxEntries,
            maxSize: opts.maxBytes,
            sizeCalculation: (entry, key) => entry.value.length * 2 + key.length * 2 + 96,
            ttlAutopurge: false,
            updateAgeOnGet: true,
            perf: { now: () => opts.clock.now() },
          })
        : undefined;
  }

  get(key: string): MemoryEntry | undefined {
    return this.lru?.get(key);
  }

  set(key: string, value: string, ttlSeconds: number, sharedTouchedAt: number): void {
    this.lru?.set(key, { value, sharedTouchedAt }, { ttl: ttlSeconds * 1000 });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get capacity(): number {
    return this.lru?.max ?? 0;
  }
}
