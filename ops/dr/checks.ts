/** The pass/fail checks a drill reports next to its numbers. */

/** One check: what was expected, whether it held, and what was seen. */
export interface DrillCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was measured, e.g. `40 of 40 hits`. */
  readonly detail: string;
}

/** Collects checks in order. */
export class Checks {
  readonly list: DrillCheck[] = [];

  /** Records `name` as passed when `ok`; returns `ok`. */
  add(name: string, ok: boolean, detail: string): boolean {
    this.list.push({ name, ok, detail });
    return ok;
  }

  /** Records whether `actual` equals `expected`. */
  equal<T>(name: string, actual: T, expected: T, unit = ''): boolean {
    const u = unit ? ` ${unit}` : '';
    return this.add(name, actual === expected, actual === expected ? `${String(actual)}${u}` : `${String(actual)}${u}, expected ${String(expected)}${u}`);
  }

  get failed(): DrillCheck[] {
    return this.list.filter((c) => !c.ok);
  }
}
