import type { CacheStatus } from './ports';

/** What one tenant may see of its own traffic on this instance. */
export interface TenantView {
  readonly hits: number;
  readonly misses: number;
  readonly coalesced: number;
  /** Configured models the tenant asked for (other names are not remembered). */
  readonly models: ReadonlySet<string>;
}

interface Counts {
  hits: number;
  misses: number;
  coalesced: number;
  readonly models: Set<string>;
}

/** Tenants remembered at once; the first seen are forgotten first. */
const MAX_TENANTS = 10_000;

/** Per-tenant cache outcomes and models, bounded, for each tenant's own `/v1/performance`. */
export class TenantStats {
  private readonly byTenant = new Map<string, Counts>();

  private of(tenant: string): Counts {
    let counts = this.byTenant.get(tenant);
    if (!counts) {
      if (this.byTenant.size >= MAX_TENANTS) this.byTenant.delete(this.byTenant.keys().next().value as string);
      this.byTenant.set(tenant, (counts = { hits: 0, misses: 0, coalesced: 0, models: new Set() }));
    }
    return counts;
  }

  cacheResult(tenant: string, status: CacheStatus): void {
    const counts = this.of(tenant);
    if (status === 'hit') counts.hits++;
    else if (status === 'miss') counts.misses++;
    else if (status === 'coalesced') counts.coalesced++;
  }

  /** Notes a configured model the tenant asked for. */
  usedModel(tenant: string, model: string): void {
    this.of(tenant).models.add(model);
  }

  view(tenant: string): TenantView {
    return this.byTenant.get(tenant) ?? { hits: 0, misses: 0, coalesced: 0, models: new Set() };
  }
}
