import { TboConfigValidationError } from './render';

/**
 * Synth-time checks for construct props. Each failure names the prop, the value received and what
 * is accepted, e.g. `minCapacity: received 5; must be ≤ maxCapacity (3)`.
 */
export class PropValidator {
  private readonly problems: string[] = [];

  /** Records a problem unless `ok` holds. */
  check(ok: boolean, prop: string, received: unknown, accepted: string): this {
    if (!ok) this.problems.push(`${prop}: received ${JSON.stringify(received)}; ${accepted}`);
    return this;
  }

  /** An integer within [min, max] (when given). */
  integer(prop: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): this {
    if (value === undefined) return this;
    return this.check(Number.isInteger(value) && value >= min && value <= max, prop, value, `must be an integer from ${min} to ${max}`);
  }

  /** One of the accepted values. */
  oneOf<T>(prop: string, value: T | undefined, accepted: readonly T[]): this {
    if (value === undefined) return this;
    return this.check(accepted.includes(value), prop, value, `accepted values: ${accepted.join(', ')}`);
  }

  /** Throws one error listing every problem found, if any. */
  throwIfInvalid(construct: string): void {
    if (this.problems.length) throw new TboConfigValidationError(this.problems.map((p) => `${construct}: ${p}`));
  }
}
