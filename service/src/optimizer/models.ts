import { TboError } from '../errors';

/** The metric label and report name of every model the configuration does not name. */
export const OTHER_MODEL = 'other';
const DATED = /-(\d{8}|latest)$/;

/** A model id without its snapshot date (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`); other ids as they are. */
export function undated(model: string): string {
  return model.replace(DATED, '');
}

/**
 * The models this deployment knows: the routing tiers, the price table and the allow-list. Only
 * these get per-name state (breakers, route memos, metric labels), so memory and `/metrics` do not
 * grow with the model names clients (or upstreams) choose. With an allow-list, other names are
 * refused.
 */
export class ModelCatalog {
  private readonly known: ReadonlySet<string>;
  private readonly allowed: ReadonlySet<string> | undefined;

  /**
   * @param routed models in the routing tiers (always allowed)
   * @param priced models in the price table
   * @param allowList `TBO_MODELS_ALLOWED`, when set
   */
  constructor(routed: readonly string[], priced: readonly string[], allowList: readonly string[] | undefined) {
    this.known = new Set([...routed, ...priced, ...(allowList ?? [])]);
    this.allowed = allowList && new Set([...routed, ...allowList]);
  }

  /** True for a model this deployment keeps state for. */
  has(model: string): boolean {
    return this.known.has(model);
  }

  /** The name a model is accounted under: itself, its undated form when that is known, or "other". */
  label(model: string): string {
    if (this.known.has(model)) return model;
    const base = undated(model);
    return base !== model && this.known.has(base) ? base : OTHER_MODEL;
  }

  /** True when clients may ask for this model: always without an allow-list, else when it (or the routing tiers) names it. */
  allows(model: string): boolean {
    return !this.allowed || this.allowed.has(model);
  }

  /** Refuses a model the allow-list does not name ("auto" is always accepted). */
  check(model: string): void {
    if (model === 'auto' || this.allows(model)) return;
    throw new TboError('invalid_request', `model: "${model.slice(0, 200)}" is not served by this gateway; use "auto" or one of: ${[...(this.allowed ?? [])].join(', ')}`, { param: 'model' });
  }
}
