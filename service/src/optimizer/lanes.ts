import type { Clock } from '../clock';
import { TboError } from '../errors';

/** Priority 1 is the highest; ≤ FAST_LANE_MAX waits in the fast lane. */
export const BYPASS_PRIORITY = 1;
export const FAST_LANE_MAX = 3;

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly enqueuedAt: number;
  readonly resolve: (release: () => void) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface LaneOptions {
  /** Upstream calls in flight at once. */
  readonly maxConcurrent: number;
  /** Requests that may wait; beyond this they are turned away. */
  readonly maxQueue: number;
  /** Longest wait, in ms, before a queued request is turned away. */
  readonly maxWaitMs: number;
}

/**
 * Admission for upstream calls: at most `maxConcurrent` in flight; the rest wait in priority
 * order (lower number first, FIFO within a priority). Priority 1 bypasses the limit; a full queue
 * or a wait past the limit answers 503 with Retry-After.
 */
export class PriorityLanes {
  private active = 0;
  private seq = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly opts: LaneOptions,
    private readonly clock: Clock,
    private readonly observe: (queueLength: number, waitedMs: number | undefined) => void = () => undefined,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Waits for a slot; resolves with the function that gives it back (call it exactly once). */
  acquire(priority: number, signal?: AbortSignal): Promise<() => void> {
    if (priority <= BYPASS_PRIORITY || this.active < this.opts.maxConcurrent) return Promise.resolve(this.grant(undefined));
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(this.overloaded('the request queue is full'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { priority, seq: this.seq++, enqueuedAt: this.clock.now(), resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => this.drop(waiter, this.overloaded(`waited ${this.opts.maxWaitMs / 1000} s for an upstream slot`)), this.opts.maxWaitMs);
      waiter.timer.unref();
      signal?.addEventListener('abort', () => this.drop(waiter, new TboError('upstream_unavailable', 'client went away while queued')), { once: true });
      const at = this.queue.findIndex((w) => w.priority > priority);
      this.queue.splice(at === -1 ? this.queue.length : at, 0, waiter);
      this.observe(this.queue.length, undefined);
    });
  }

  private grant(waitedMs: number | undefined): () => void {
    this.active++;
    if (waitedMs !== undefined) this.observe(this.queue.length, waitedMs);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.next();
    };
  }

  private next(): void {
    while (this.active < this.opts.maxConcurrent && this.queue.length) {
      const waiter = this.queue.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.resolve(this.grant(this.clock.now() - waiter.enqueuedAt));
    }
  }

  private drop(waiter: Waiter, err: Error): void {
    const at = this.queue.indexOf(waiter);
    if (at === -1) return;
    this.queue.splice(at, 1);
    clearTimeout(waiter.timer);
    this.observe(this.queue.length, undefined);
    waiter.reject(err);
  }

  private overloaded(why: string): TboError {
    return new TboError('overloaded', `TBO is at capacity: ${why}; retry shortly`, { retryAfterSeconds: Math.max(1, Math.ceil(this.opts.maxWaitMs / 10_000)) });
  }
}
