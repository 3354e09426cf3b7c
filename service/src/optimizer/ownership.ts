import { LRUCache } from 'lru-cache';
import type { RedisPool } from '../adapters/redis-pool';
import type { Clock } from '../clock';

/**
 * Upstream objects a tenant creates through TBO and may later read, cancel or delete: Anthropic
 * message batches and OpenAI responses. The upstream holds them under the service's own key, so
 * the upstream cannot tell tenants apart: TBO records who created each one.
 */
export type ResourceKind = 'batch' | 'response';

/** How long the upstream keeps each kind (and so how long its owner is remembered), ms. */
export const RESOURCE_RETENTION_MS: Readonly<Record<ResourceKind, number>> = {
  // Batch results are available for 29 days after creation.
  batch: 29 * 86_400_000,
  // Stored responses are kept for 30 days.
  response: 30 * 86_400_000,
};

/** Where owners are kept. */
export interface OwnerStore {
  set(kind: ResourceKind, id: string, tenant: string, ttlMs: number): Promise<void>;
  /** The owners of `ids`, in order (undefined where none is recorded). */
  get(kind: ResourceKind, ids: readonly string[]): Promise<readonly (string | undefined)[]>;
  delete(kind: ResourceKind, id: string): Promise<void>;
}

/** Owners in this instance's memory, the least recently used forgotten beyond `maxEntries`. */
export class MemoryOwnerStore implements OwnerStore {
  private readonly owners: LRUCache<string, string>;

  constructor(clock: Clock, maxEntries = 100_000) {
    this.owners = new LRUCache<string, string>({ max: maxEntries, perf: { now: () => clock.now() } });
  }

  async set(kind: ResourceKind, id: string, tenant: string, ttlMs: number): Promise<void> {
    this.owners.set(`${kind}:${id}`, tenant, { ttl: ttlMs });
  }

  async get(kind: ResourceKind, ids: readonly string[]): Promise<readonly (string | undefined)[]> {
    return ids.map((id) => this.owners.get(`${kind}:${id}`));
  }

  async delete(kind: ResourceKind, id: string): Promise<void> {
    this.owners.delete(`${kind}:${id}`);
  }
}

/**
 * Owners in Redis, shared by every instance: `<prefix>:batch:<id>` and `<prefix>:response:<id>`
 * hold the tenant and expire with the upstream's retention. Lookups of many ids are one GET per id,
 * pipelined (they may live in different cluster slots).
 */
export class RedisOwnerStore implements OwnerStore {
  constructor(
    private readonly pool: RedisPool,
    private readonly keyPrefix: string,
  ) {}

  private key(kind: ResourceKind, id: string): string {
    return `${this.keyPrefix}:${kind}:${id}`;
  }

  async set(kind: ResourceKind, id: string, tenant: string, ttlMs: number): Promise<void> {
    await this.pool.next().set(this.key(kind, id), tenant, 'PX', Math.round(ttlMs));
  }

  async get(kind: ResourceKind, ids: readonly string[]): Promise<readonly (string | undefined)[]> {
    const client = this.pool.next();
    const values = await Promise.all(ids.map((id) => client.get(this.key(kind, id))));
    return values.map((v) => v ?? undefined);
  }

  async delete(kind: ResourceKind, id: string): Promise<void> {
    await this.pool.next().del(this.key(kind, id));
  }
}

/**
 * Who owns which upstream object. Every record goes to this instance's memory and, when Redis is
 * configured, to Redis (so any instance answers); a lookup asks Redis and falls back to memory when
 * Redis has no record (it was down when the object was created) or is unreachable. An object nobody
 * is recorded for belongs to no tenant: it is answered like one that does not exist.
 */
export class ResourceOwners {
  constructor(
    private readonly memory: OwnerStore,
    private readonly shared: OwnerStore | undefined,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** Records `tenant` as the owner of a new object; never fails (a Redis failure leaves the memory record). */
  async record(kind: ResourceKind, id: string, tenant: string): Promise<void> {
    const ttlMs = RESOURCE_RETENTION_MS[kind];
    await this.memory.set(kind, id, tenant, ttlMs);
    await this.shared?.set(kind, id, tenant, ttlMs).catch((err: Error) => this.onError(err));
  }

  async owns(kind: ResourceKind, id: string, tenant: string): Promise<boolean> {
    return (await this.ownedAmong(kind, [id], tenant)).has(id);
  }

  /** The ids among `ids` that `tenant` owns. */
  async ownedAmong(kind: ResourceKind, ids: readonly string[], tenant: string): Promise<ReadonlySet<string>> {
    if (ids.length === 0) return new Set();
    const remembered = await this.memory.get(kind, ids);
    let shared: readonly (string | undefined)[] = [];
    if (this.shared) {
      try {
        shared = await this.shared.get(kind, ids);
      } catch (err) {
        this.onError(err as Error);
      }
    }
    return new Set(ids.filter((_id, i) => (shared[i] ?? remembered[i]) === tenant));
  }

  /** Forgets a deleted object. */
  async forget(kind: ResourceKind, id: string): Promise<void> {
    await this.memory.delete(kind, id);
    await this.shared?.delete(kind, id).catch((err: Error) => this.onError(err));
  }
}
