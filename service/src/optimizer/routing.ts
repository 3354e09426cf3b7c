import { BACKEND_FORMAT, isPublicApi, parseRouteList, type Backend } from '../config/backends';
import { TboError } from '../errors';
import type { Provider } from '../protocols/types';
import type { ModelCatalog } from './models';

export const TIERS = ['fast', 'balanced', 'strongest'] as const;
export type Tier = (typeof TIERS)[number];

/** One upstream: the backend that answers, its wire format, and the model. */
export interface ModelRef {
  /** The wire format the backend speaks (the client's API surface). */
  readonly provider: Provider;
  /** Where the call goes: a public API or a cloud platform. */
  readonly backend: Backend;
  /** The model as clients name it (`claude-sonnet-4-5`). */
  readonly model: string;
  /** The backend's concrete model id (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`); the client's name on the public APIs. */
  readonly id: string;
}

/** The backend's concrete model id of a client's model name. */
export type ModelResolver = (backend: Backend, model: string) => string;

/** The public API of a wire format, for calls to its other endpoints (model lists, batches …). */
export function publicApiRef(provider: Provider, model = ''): ModelRef {
  return { provider, backend: provider, model, id: model };
}

export interface RouteDecision {
  /** Where to send the request, in fallback order (the first is the choice). */
  readonly chain: readonly ModelRef[];
  readonly tier: Tier | undefined;
  readonly reason: string;
  /** True when TBO chose the model (`model: "auto"`). */
  readonly routed: boolean;
}

/** Parses `backend:model,backend:model` (already validated by the config schema) into routes. */
export function parseModelList(list: string, resolve: ModelResolver = (_b, m) => m): ModelRef[] {
  return parseRouteList(list).map(({ backend, model }) => ({ provider: BACKEND_FORMAT[backend], backend, model, id: resolve(backend, model) }));
}

/** The guide's complexity table: ≤ 2 fast, ≤ 4 balanced, 5 the strongest. */
export function tierFor(complexity: number): Tier {
  if (complexity <= 2) return 'fast';
  if (complexity <= 4) return 'balanced';
  return 'strongest';
}

function inferProvider(model: string): Provider | undefined {
  if (/^claude/i.test(model)) return 'anthropic';
  if (/^(gpt|o\d|chatgpt)/i.test(model)) return 'openai';
  return undefined;
}

/**
 * Chooses upstreams: `model: "auto"` by task complexity; a named model as asked. With fallback
 * "down", an "auto" chain continues with the rest of the tier and then the weaker tiers; a named
 * model's chain holds every backend its tier routes that model to (Vertex, then the public API …),
 * and the tier's other models only with `fallbackNamed` (otherwise it is answered by that model or
 * fails). Only backends the service can call (and, for provider-specific endpoints, only that
 * provider's) are used.
 */
export class Router {
  /**
   * Decisions are pure functions of (model, complexity, provider): computed once each, for the
   * models the configuration names only (other names come from clients and are not remembered).
   */
  private readonly decided = new Map<string, RouteDecision>();

  constructor(
    private readonly tiers: Readonly<Record<Tier, readonly ModelRef[]>>,
    private readonly fallback: 'down' | 'none',
    private readonly available: ReadonlySet<Backend>,
    private readonly catalog: ModelCatalog,
    /** Whether a request that names a model may be answered by another (never silently: the answer says so). */
    private readonly fallbackNamed = false,
    /** Concrete model ids of names the tiers do not route. */
    private readonly resolve: ModelResolver = (_b, m) => m,
  ) {}

  route(model: string, complexity: number, only?: Provider): RouteDecision {
    this.catalog.check(model);
    if (model !== 'auto' && !this.catalog.has(model)) return this.decide(model, complexity, only);
    const id = `${model}\0${complexity}\0${only ?? ''}`;
    let decision = this.decided.get(id);
    if (!decision) {
      decision = this.decide(model, complexity, only);
      this.decided.set(id, decision);
    }
    return decision;
  }

  /** Every model in the routing tiers. */
  get models(): readonly ModelRef[] {
    return TIERS.flatMap((t) => this.tiers[t]);
  }

  private decide(model: string, complexity: number, only?: Provider): RouteDecision {
    const usable = (ref: ModelRef) => this.available.has(ref.backend) && (!only || ref.provider === only);
    if (model === 'auto') {
      const tier = tierFor(complexity);
      const chain = this.chainFrom(tier).filter(usable);
      if (!chain.length) throw this.noUpstream(only);
      return { chain: this.fallback === 'down' ? chain : chain.slice(0, 1), tier, reason: `complexity ${complexity} → ${tier} tier`, routed: true };
    }
    const tier = TIERS.find((t) => this.tiers[t].some((ref) => ref.model === model && (!only || ref.provider === only)));
    // The model on every backend its tier routes it to, in order (fallback across backends keeps the model).
    const routed = tier ? this.tiers[tier].filter((ref) => ref.model === model && usable(ref)) : [];
    const asked = routed.length ? routed : [this.unrouted(model, only)];
    const rest = this.fallback === 'down' && this.fallbackNamed && tier ? this.chainFrom(tier).filter((ref) => ref.model !== model && usable(ref)) : [];
    return { chain: [...asked, ...rest], tier, reason: 'requested model', routed: false };
  }

  /**
   * A model the tiers do not route (or route only on backends this service cannot call): its
   * provider's public API when configured, else the first backend of that provider the tiers use.
   */
  private unrouted(model: string, only: Provider | undefined): ModelRef {
    const provider = only ?? inferProvider(model);
    if (!provider) {
      throw new TboError('invalid_request', `model: cannot tell which provider serves "${model}"; use "auto", a model from the routing table, or a claude-* or gpt-* model`, { param: 'model' });
    }
    const backend = this.available.has(provider) ? provider : this.models.find((ref) => ref.provider === provider && this.available.has(ref.backend))?.backend;
    if (!backend) throw this.noUpstream(provider);
    return { provider, backend, model, id: isPublicApi(backend) ? model : this.resolve(backend, model) };
  }

  private chainFrom(tier: Tier): ModelRef[] {
    const start = TIERS.indexOf(tier);
    return TIERS.slice(0, start + 1).reverse().flatMap((t) => this.tiers[t]);
  }

  private noUpstream(provider: Provider | undefined): TboError {
    const how = provider === 'openai'
      ? 'set OPENAI_API_KEY, or route models to vertex-openai'
      : provider === 'anthropic'
        ? 'set ANTHROPIC_API_KEY, or route models to bedrock or vertex'
        : 'set ANTHROPIC_API_KEY or OPENAI_API_KEY, or route models to bedrock, vertex or vertex-openai';
    return new TboError('not_configured', `this TBO service has no upstream for this request: ${how} (TBO_MODELS_FAST, TBO_MODELS_BALANCED, TBO_MODELS_STRONGEST)`);
  }
}
