import type { Clock } from '../clock';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** p95 time-to-first-token, in ms, at which the breaker opens (≥). */
  readonly ttftThresholdMs: number;
  /** Error rate above which the breaker opens (>). */
  readonly maxErrorRate: number;
  /** Calls in the sliding window; the breaker judges only a full window. */
  readonly windowSize: number;
  /** How long an open breaker rejects calls before letting a probe through. */
  readonly cooldownMs: number;
  /** Consecutive successful probes that close a half-open breaker. */
  readonly probesToClose: number;
}

interface Outcome {
  readonly ok: boolean;
  /** Time to first token; undefined when the call could not tell (a non-streamed answer). */
  readonly ttftMs: number | undefined;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/**
 * A circuit breaker for one upstream (provider + model). Closed → open when, over a full sliding
 * window, the error rate exceeds the limit or p95 time-to-first-token reaches the threshold;
 * open → half-open after the cool-down; half-open → closed after consecutive successful probes,
 * or back to open on any failure.
 */
export class CircuitBreaker {
  private window: Outcome[] = [];
  private stateValue: BreakerState = 'closed';
  private openedAt = 0;
  private probeSuccesses = 0;
  private probeInFlight = false;
  /** Why the breaker last opened. */
  reason = '';

  constructor(
    readonly name: string,
    private readonly opts: BreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: (breaker: CircuitBreaker) => void = () => undefined,
  ) {}

  get state(): BreakerState {
    if (this.stateValue === 'open' && this.clock.now() - this.openedAt >= this.opts.cooldownMs) this.transition('half_open');
    return this.stateValue;
  }

  /** True when a call may go ahead now (in half-open, one probe at a time). */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /**
   * Records a finished call: `ok` false for upstream failures (429, 5xx, timeouts, connection
   * errors). `ttftMs` only for streamed calls: a non-streamed answer arrives whole, so its wait is
   * generation time, not time to first token, and must not open the breaker.
   */
  record(ok: boolean, ttftMs?: number): void {
    if (this.stateValue === 'half_open') {
      this.probeInFlight = false;
      if (!ok) return this.open('a probe failed in half-open');
      if (++this.probeSuccesses >= this.opts.probesToClose) this.transition('closed');
      return;
    }
    if (this.stateValue === 'open') return;
    this.window.push({ ok, ttftMs });
    if (this.window.length > this.opts.windowSize) this.window.shift();
    if (this.window.length < this.opts.windowSize) return;
    const stats = this.stats();
    if (stats.errorRate > this.opts.maxErrorRate) this.open(`error rate ${(stats.errorRate * 100).toFixed(1)} % over the last ${this.window.length} calls`);
    else if (stats.p95TtftMs >= this.opts.ttftThresholdMs) this.open(`p95 time to first token ${(stats.p95TtftMs / 1000).toFixed(2)} s over the last ${this.window.length} calls`);
  }

  /** A half-open probe ended without an outcome (the client left): let another probe through. */
  cancelProbe(): void {
    this.probeInFlight = false;
  }

  /** Error rate and p95 time-to-first-token (successful calls) over the window. */
  stats(): { readonly calls: number; readonly errorRate: number; readonly p95TtftMs: number; readonly meanTtftMs: number } {
    const calls = this.window.length;
    const errors = this.window.filter((o) => !o.ok).length;
    const ttfts = this.window.flatMap((o) => (o.ok && o.ttftMs !== undefined ? [o.ttftMs] : [])).sort((a, b) => a - b);
    const meanTtftMs = ttfts.length ? ttfts.reduce((a, b) => a + b, 0) / ttfts.length : 0;
    return { calls, errorRate: calls ? errors / calls : 0, p95TtftMs: percentile(ttfts, 0.95), meanTtftMs };
  }

  private open(reason: string): void {
    this.reason = reason;
    this.openedAt = this.clock.now();
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.probeSuccesses = 0;
    this.probeInFlight = false;
    if (state === 'closed') this.window = [];
    this.onChange(this);
  }
}

export { percentile };
