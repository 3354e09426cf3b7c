/** Kubernetes resource quantities ("250m", "0.5", "512Mi", "1G"), parsed for synth-time checks. */

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** The value of a quantity in base units (cores, bytes), or undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * SUFFIX[match[2] ?? ''];
}

/** A byte count the way people read it, rounded up to two decimals (so it works as a minimum): 1Gi, 50.5Gi, 1.04Gi, 512Mi. */
export function formatBytes(bytes: number): string {
  for (const unit of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    if (bytes >= SUFFIX[unit]) return `${Math.ceil((bytes / SUFFIX[unit]) * 100 - 1e-9) / 100}${unit}`;
  }
  return String(bytes);
}
