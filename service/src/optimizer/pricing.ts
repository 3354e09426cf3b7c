import type { TokenUsage } from '../protocols/types';

interface Price {
  readonly input: number;
  readonly output: number;
}

/** USD per 1k tokens by model; a dated model id (`claude-sonnet-4-5-20250929`) uses its base price. */
export class PriceTable {
  private readonly prices: ReadonlyMap<string, Price>;

  constructor(json: string) {
    this.prices = new Map(Object.entries(JSON.parse(json) as Record<string, Price>));
  }

  /** The models that have a price. */
  get models(): readonly string[] {
    return [...this.prices.keys()];
  }

  /** Cost in USD, or undefined when the model has no price. */
  cost(model: string, usage: TokenUsage): number | undefined {
    const price = this.prices.get(model) ?? this.prices.get(model.replace(/-(\d{8}|latest)$/, ''));
    if (!price) return undefined;
    return (usage.input * price.input + usage.output * price.output) / 1000;
  }
}
