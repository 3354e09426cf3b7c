import type { Clock } from '../../service/src/clock';

/** A clock tests move by hand: monotonic and wall time advance together. */
export class FakeClock implements Clock {
  private ms = 0;

  constructor(private readonly epoch = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.ms;
  }

  wall(): number {
    return this.epoch + this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
