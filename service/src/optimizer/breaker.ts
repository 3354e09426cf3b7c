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
  /** Successful probes that close a half-open breaker. */
  readonly probesToClose: number;
}

interface Outcome {
  readonly ok: boolean;
  /** Time to first token; undefined when the call could not tell (a non-streamed answer, a long prompt). */
  readonly ttftMs: number | undefined;
  /** Who made the call. */
  readonly tenant: string;
}

/** Tenants remembered as waiting on an open breaker (only "someone else" matters). */
const MAX_WAITING_TENANTS = 4;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/**
 * A circuit breaker for one upstream (provider + model), shared by every tenant, that measures the
 * upstream rather than one caller.
 *
 * Closed → open when, over a full sliding window, the error rate exceeds the limit or p95
 * time-to-first-token reaches the threshold; open → half-open after the cool-down; half-open →
 * closed after successful probes, or back to open on a failed probe. One tenant's trouble never
 * takes the upstream away from the others: when every bad outcome (an error or a slow first token)
 * comes from a single tenant while another tenant is being served well (or is waiting on the open
 * breaker), the breaker neither opens nor re-opens. Rate limits (429) and other 4xx are not upstream
 * failures and are never recorded; a 429 backs the upstream off for its `retry-after` instead.
 */
export class CircuitBreaker {
  private window: Outcome[] = [];
  private stateValue: BreakerState = 'closed';
  private openedAt = 0;
  private probeSuccesses = 0;
  private probeInFlight = false;
  /** Tenants refused while open or while a probe was out: demand from callers other than the failing one. */
  private waiting = new Set<string>();
  private backedOffUntil = 0;
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

  /** Milliseconds the upstream asked us to wait (a 429's retry-after) that are still left; 0 when none. */
  backoffLeftMs(): number {
    return Math.max(0, this.backedOffUntil - this.clock.now());
  }

  /** The upstream rate-limited us: no call to it until `ms` from now. */
  backOff(ms: number): void {
    this.backedOffUntil = Math.max(this.backedOffUntil, this.clock.now() + ms);
  }

  /** True when a call for `tenant` may go ahead now (in half-open, one probe at a time). */
  allow(tenant: string): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probeInFlight) {
      if (this.waiting.size < MAX_WAITING_TENANTS) this.waiting.add(tenant);
      return false;
    }
    this.probeInFlight = true;
    return true;
  }

  /**
   * Records a finished call: `ok` false for upstream failures (5xx, 529, timeouts, connection
   * errors). `ttftMs` only for calls whose first token says something about the upstream:
   * streamed, with a prompt of ordinary size.
   */
  record(ok: boolean, tenant: string, ttftMs?: number): void {
    const state = this.stateValue;
    if (state === 'open') return;
    this.push({ ok, ttftMs, tenant });
    if (state === 'half_open') {
      this.probeInFlight = false;
      if (ok) {
        if (++this.probeSuccesses >= this.opts.probesToClose) this.transition('closed');
      } else if (!this.oneTenantsTrouble()) {
        this.open('a probe failed in half-open');
      }
      return;
    }
    if (this.window.length < this.opts.windowSize) return;
    const stats = this.stats();
    let reason: string | undefined;
    if (stats.errorRate > this.opts.maxErrorRate) reason = `error rate ${(stats.errorRate * 100).toFixed(1)} % over the last ${this.window.length} calls`;
    else if (stats.p95TtftMs >= this.opts.ttftThresholdMs) reason = `p95 time to first token ${(stats.p95TtftMs / 1000).toFixed(2)} s over the last ${this.window.length} calls`;
    if (reason && !this.oneTenantsTrouble()) this.open(reason);
  }

  /** A call ended without an outcome for the upstream's health (client left, 4xx): frees a half-open probe. */
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

  private push(outcome: Outcome): void {
    this.window.push(outcome);
    if (this.window.length > this.opts.windowSize) this.window.shift();
  }

  private bad(o: Outcome): boolean {
    return !o.ok || (o.ttftMs !== undefined && o.ttftMs >= this.opts.ttftThresholdMs);
  }

  /**
   * True when every bad outcome in the window comes from one tenant, and another tenant was served
   * well in the window or waited on this breaker: that tenant's trouble is its own.
   */
  private oneTenantsTrouble(): boolean {
    let culprit: string | undefined;
    for (const o of this.window) {
      if (!this.bad(o)) continue;
      if (culprit === undefined) culprit = o.tenant;
      else if (o.tenant !== culprit) return false;
    }
    if (culprit === undefined) return false;
    return this.window.some((o) => o.tenant !== culprit && !this.bad(o)) || [...this.waiting].some((t) => t !== culprit);
  }

  private open(reason: string): void {
    this.reason = reason;
    this.openedAt = this.clock.now();
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    if (state === this.stateValue) return;
    const from = this.stateValue;
    this.stateValue = state;
    this.probeSuccesses = 0;
    this.probeInFlight = false;
    if (state === 'closed') this.window = [];
    // Demand is remembered from opening until the breaker closes (it is what half-open judges by).
    if (state === 'closed' || (state === 'open' && from === 'closed')) this.waiting = new Set();
    this.onChange(this);
  }
}

export { percentile };
