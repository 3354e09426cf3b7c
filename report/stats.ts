/** Small descriptive statistics over plain number arrays. */

/** Nearest-rank percentile of an ascending array (p in [0, 1]); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function median(values: readonly number[]): number {
  return percentile(ascending(values), 0.5);
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
