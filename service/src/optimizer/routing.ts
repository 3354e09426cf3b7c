import { TboError } from '../errors';
import type { Provider } from '../protocols/types';
import type { ModelCatalog } from './models';

export const TIERS = ['fast', 'balanced', 'strongest'] as const;
export type Tier = (typeof TIERS)[number];

/** One upstream: a provider and a model id. */
export interface ModelRef {
  readonly provider: Provider;
  readonly model: string;
}

export interface RouteDecision {
  /** Where to send the request, in fallback order (the first is the choice). */
  readonly chain: readonly ModelRef[];
  readonly tier: Tier | undefined;
  readonly reason: string;
  /** True when TBO chose the model (`model: "auto"`). */
  readonly routed: boolean;
}

/** Parses `provider:model,provider:model` (already validated by the config schema). */
export function parseModelList(list: string): ModelRef[] {
  return list.split(',').map((entry) => {
    const at = entry.indexOf(':');
    return { provider: entry.slice(0, at) as Provider, model: entry.slice(at + 1) };
  });
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
 * model's chain does too only with `fallbackNamed` (otherwise it is answered by that model or fails). Only providers
 * the service has keys for (and, for provider-specific endpoints, only that provider) are used.
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
    private readonly available: ReadonlySet<Provider>,
    private readonly catalog: ModelCatalog,
    /** Whether a request that names a model may be answered by another (never silently: the answer says so). */
    private readonly fallbackNamed = false,
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
    const usable = (ref: ModelRef) => this.available.has(ref.provider) && (!only || ref.provider === only);
    if (model === 'auto') {
      const tier = tierFor(complexity);
      const chain = this.chainFrom(tier).filter(usable);
      if (!chain.length) throw this.noUpstream(only);
      return { chain: this.fallback === 'down' ? chain : chain.slice(0, 1), tier, reason: `complexity ${complexity} → ${tier} tier`, routed: true };
    }
    const tier = TIERS.find((t) => this.tiers[t].some((ref) => ref.model === model));
    const provider = only ?? this.tiers[tier ?? 'fast'].find((ref) => ref.model === model)?.provider ?? inferProvider(model);
    if (!provider) {
      throw new TboError('invalid_request', `model: cannot tell which provider serves "${model}"; use "auto", a model from the routing table, or a claude-* or gpt-* model`, { param: 'model' });
    }
    const asked: ModelRef = { provider, model };
    if (!this.available.has(provider)) throw this.noUpstream(provider);
    const rest = this.fallback === 'down' && this.fallbackNamed && tier ? this.chainFrom(tier).filter((ref) => ref.model !== model && usable(ref)) : [];
    return { chain: [asked, ...rest], tier, reason: 'requested model', routed: false };
  }

  private chainFrom(tier: Tier): ModelRef[] {
    const start = TIERS.indexOf(tier);
    return TIERS.slice(0, start + 1).reverse().flatMap((t) => this.tiers[t]);
  }

  private noUpstream(provider: Provider | undefined): TboError {
    const env = provider === 'openai' ? 'OPENAI_API_KEY' : provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'ANTHROPIC_API_KEY or OPENAI_API_KEY';
    return new TboError('not_configured', `this TBO service has no upstream for this request: set ${env} on the service`);
  }
}
