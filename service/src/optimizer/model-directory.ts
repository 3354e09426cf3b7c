import type { Clock } from '../clock';
import { TboError } from '../errors';
import { MODELS } from '../protocols/endpoints';
import { isObject, type Json, type Protocol, type Provider } from '../protocols/types';
import type { Dispatcher } from './dispatcher';
import { publicApiRef } from './routing';
import { Flight } from './flight';
import { undated, type ModelCatalog } from './models';
import type { CacheStatus } from './ports';

export interface ModelDirectoryOptions {
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  /** The allow-list and routing tiers the lists are filtered by. */
  readonly catalog: ModelCatalog;
  /** Providers the service has keys for. */
  readonly available: ReadonlySet<Provider>;
  /** How long a fetched list is served before it is fetched again, ms. */
  readonly ttlMs: number;
  /** Bound on one upstream call, ms. */
  readonly timeoutMs: number;
}

/** Who asks: the fetch runs in the priority lanes at the caller's priority and share. */
export interface ModelCaller {
  readonly tenant: string;
  readonly priority: number;
}

/** A provider's models as served, and whether this request fetched them, found them fresh or waited on a fetch. */
export interface ModelListing {
  readonly models: readonly Json[];
  readonly cache: Exclude<CacheStatus, 'bypass'>;
}

/** Pages of the upstream list followed at most (1000 models a page). */
const MAX_PAGES = 10;

/**
 * The service's model lists, one per provider: fetched from the upstream with the service's own key
 * (no client headers: the list is the deployment's, shared by every tenant), kept for `ttlMs`, one
 * fetch at a time, and filtered by the allow-list: a client sees the models it may ask for.
 */
export class ModelDirectory {
  private readonly lists = new Map<Provider, { readonly at: number; readonly models: readonly Json[] }>();
  private readonly fetches = new Map<Provider, Promise<readonly Json[]>>();

  constructor(private readonly opts: ModelDirectoryOptions) {}

  async list(provider: Provider, caller: ModelCaller): Promise<ModelListing> {
    this.assertConfigured(provider);
    const held = this.lists.get(provider);
    if (held && this.opts.clock.now() - held.at < this.opts.ttlMs) return { models: held.models, cache: 'hit' };
    const running = this.fetches.get(provider);
    if (running) return { models: await running, cache: 'coalesced' };
    const fetch = this.fetchList(provider, caller);
    this.fetches.set(provider, fetch);
    try {
      return { models: await fetch, cache: 'miss' };
    } finally {
      this.fetches.delete(provider);
    }
  }

  /**
   * One model: from the list when it is there; otherwise (an alias the upstream resolves, a model
   * the list leaves out) asked upstream and not kept, so client-chosen names hold no memory.
   */
  async retrieve(provider: Provider, id: string, caller: ModelCaller): Promise<{ readonly model: Json; readonly cache: ModelListing['cache'] }> {
    this.assertConfigured(provider);
    if (!this.opts.catalog.allows(id)) {
      throw new TboError('not_found', `model: "${id.slice(0, 200)}" is not served by this gateway`, { param: 'model', code: 'model_not_found' });
    }
    const listing = await this.list(provider, caller);
    const listed = listing.models.find((m) => m.id === id);
    if (listed) return { model: listed, cache: listing.cache };
    return { model: await this.get(provider, MODELS[provider].retrieve(id), caller), cache: 'miss' };
  }

  private assertConfigured(provider: Provider): void {
    if (this.opts.available.has(provider)) return;
    const env = MODELS[provider].list().apiKeyEnv;
    throw new TboError('not_configured', `this TBO service has no upstream for this request: set ${env} on the service`);
  }

  private async fetchList(provider: Provider, caller: ModelCaller): Promise<readonly Json[]> {
    const entries: Json[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.get(provider, MODELS[provider].list(after), caller);
      for (const m of body.data as unknown[]) if (isObject(m) && typeof m.id === 'string') entries.push(m);
      after = body.has_more === true && typeof body.last_id === 'string' ? body.last_id : undefined;
      if (after === undefined) break;
    }
    const models = this.servable(entries);
    this.lists.set(provider, { at: this.opts.clock.now(), models });
    return models;
  }

  /**
   * The entries clients may ask for, in the upstream's order: all of them without an allow-list;
   * with one, the allowed ids, and for an allowed alias the upstream lists only in dated form
   * (`claude-sonnet-4-5` → `claude-sonnet-4-5-20250929`) its newest snapshot under the alias, the
   * name the gateway accepts.
   */
  private servable(entries: readonly Json[]): Json[] {
    const { catalog } = this.opts;
    const ids = new Set(entries.map((m) => m.id));
    const named = new Set<string>();
    const out: Json[] = [];
    for (const entry of entries) {
      const id = entry.id as string;
      let name = id;
      if (!catalog.allows(id)) {
        name = undated(id);
        if (name === id || ids.has(name) || !catalog.allows(name)) continue;
      }
      if (named.has(name)) continue;
      named.add(name);
      out.push(name === id ? entry : { ...entry, id: name });
    }
    return out;
  }

  /** One GET through the dispatcher (lanes, retries, 429 back-off), read whole; errors as the upstream gave them. */
  private async get(provider: Provider, protocol: Protocol, caller: ModelCaller): Promise<Json> {
    const flight = new Flight(false, this.opts.clock, () => undefined);
    void flight.run(
      this.opts.dispatcher,
      {
        route: { chain: [publicApiRef(provider)], tier: undefined, reason: 'model list', routed: false },
        stream: false,
        priority: caller.priority,
        tenant: caller.tenant,
        clientHeaders: {},
        body: () => '',
        protocol,
      },
      this.opts.timeoutMs,
    );
    const result = await flight.final;
    const body: unknown = result.cacheable ? JSON.parse(result.body) : undefined;
    if (!isObject(body)) throw new TboError('upstream_unavailable', `the ${provider} API answered GET ${protocol.upstreamPath.split('?')[0]} in an unexpected shape`);
    return body;
  }
}
