import type { Clock } from '../clock';
import { TboError } from '../errors';

interface Waiter {
  readonly priority: number;
  readonly tenant: string;
  readonly seq: number;
  readonly enqueuedAt: number;
  readonly resolve: (release: () => void) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface LaneOptions {
  /** Upstream calls in flight at once. */
  readonly maxConcurrent: number;
  /** Upstream calls one tenant may have in flight at once. */
  readonly maxConcurrentPerTenant: number;
  /** Requests that may wait; beyond this they are turned away. */
  readonly maxQueue: number;
  /** Requests one tenant may have waiting. */
  readonly maxQueuePerTenant: number;
  /** Longest wait, in ms, before a queued request is turned away. */
  readonly maxWaitMs: number;
}

/**
 * The lane options for a configuration: per-tenant shares default to half of each bound, or all of
 * it when the service has a single tenant.
 */
export function laneOptions(config: { readonly maxConcurrentRequests: number; readonly tenantMaxConcurrent: number; readonly queueMax: number; readonly queueTimeout: number }, singleTenant: boolean): LaneOptions {
  const share = (total: number) => (singleTenant ? total : Math.max(1, Math.ceil(total / 2)));
  return {
    maxConcurrent: config.maxConcurrentRequests,
    maxConcurrentPerTenant: Math.min(config.maxConcurrentRequests, config.tenantMaxConcurrent || share(config.maxConcurrentRequests)),
    maxQueue: config.queueMax,
    maxQueuePerTenant: share(config.queueMax),
    maxWaitMs: config.queueTimeout * 1000,
  };
}

function bump(counts: Map<string, number>, key: string, by: 1 | -1): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

/**
 * Admission for upstream calls: at most `maxConcurrent` in flight, and at most
 * `maxConcurrentPerTenant` for any one tenant; the rest wait in priority order (lower number
 * first, FIFO within a priority), skipping tenants at their cap, so one tenant cannot take every
 * slot. Nobody bypasses the limit. A full queue (or a tenant's full share of it) or a wait past
 * the limit answers 503 with Retry-After.
 */
export class PriorityLanes {
  private active = 0;
  private seq = 0;
  private readonly queue: Waiter[] = [];
  /** In flight and waiting per tenant; a tenant's entry exists only while it has some. */
  private readonly activeBy = new Map<string, number>();
  private readonly waitingBy = new Map<string, number>();
  /** False when the per-tenant bounds equal the global ones (one tenant): nothing to count per tenant. */
  private readonly perTenant: boolean;

  constructor(
    private readonly opts: LaneOptions,
    private readonly clock: Clock,
    private readonly observe: (queueLength: number, waitedMs: number | undefined) => void = () => undefined,
  ) {
    this.perTenant = opts.maxConcurrentPerTenant < opts.maxConcurrent || opts.maxQueuePerTenant < opts.maxQueue;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** True when a call for `tenant` would get a slot at once (nobody waits in between). */
  admitsNow(tenant: string): boolean {
    return this.active < this.opts.maxConcurrent && this.underCap(tenant);
  }

  /** Waits for a slot; resolves with the function that gives it back (call it exactly once). */
  acquire(priority: number, tenant: string, signal?: AbortSignal): Promise<() => void> {
    if (this.admitsNow(tenant)) return Promise.resolve(this.grant(tenant, undefined));
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(this.overloaded('the request queue is full'));
    if (this.perTenant && (this.waitingBy.get(tenant) ?? 0) >= this.opts.maxQueuePerTenant) return Promise.reject(this.overloaded('this tenant\'s share of the request queue is full'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { priority, tenant, seq: this.seq++, enqueuedAt: this.clock.now(), resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => this.drop(waiter, this.overloaded(`waited ${this.opts.maxWaitMs / 1000} s for an upstream slot`)), this.opts.maxWaitMs);
      waiter.timer.unref();
      signal?.addEventListener('abort', () => this.drop(waiter, new TboError('upstream_unavailable', 'client went away while queued')), { once: true });
      const at = this.queue.findIndex((w) => w.priority > priority);
      this.queue.splice(at === -1 ? this.queue.length : at, 0, waiter);
      if (this.perTenant) bump(this.waitingBy, tenant, 1);
      this.observe(this.queue.length, undefined);
    });
  }

  private underCap(tenant: string): boolean {
    return !this.perTenant || (this.activeBy.get(tenant) ?? 0) < this.opts.maxConcurrentPerTenant;
  }

  private grant(tenant: string, waitedMs: number | undefined): () => void {
    this.active++;
    if (this.perTenant) bump(this.activeBy, tenant, 1);
    if (waitedMs !== undefined) this.observe(this.queue.length, waitedMs);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.perTenant) bump(this.activeBy, tenant, -1);
      this.next();
    };
  }

  /** Hands free slots to the first waiters (in priority order) whose tenants are under their cap. */
  private next(): void {
    while (this.active < this.opts.maxConcurrent) {
      const at = this.queue.findIndex((w) => this.underCap(w.tenant));
      if (at === -1) return;
      const [waiter] = this.queue.splice(at, 1);
      if (this.perTenant) bump(this.waitingBy, waiter.tenant, -1);
      clearTimeout(waiter.timer);
      waiter.resolve(this.grant(waiter.tenant, this.clock.now() - waiter.enqueuedAt));
    }
  }

  private drop(waiter: Waiter, err: Error): void {
    const at = this.queue.indexOf(waiter);
    if (at === -1) return;
    this.queue.splice(at, 1);
    if (this.perTenant) bump(this.waitingBy, waiter.tenant, -1);
    clearTimeout(waiter.timer);
    this.observe(this.queue.length, undefined);
    waiter.reject(err);
  }

  private overloaded(why: string): TboError {
    return new TboError('overloaded', `TBO is at capacity: ${why}; retry shortly`, { retryAfterSeconds: Math.max(1, Math.ceil(this.opts.maxWaitMs / 10_000)) });
  }
}
