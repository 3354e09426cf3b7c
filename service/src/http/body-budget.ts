import { TboError } from '../errors';

/**
 * The request-body bytes one instance holds at once (`TBO_MAX_INFLIGHT_BODY_BYTES`), so large
 * bodies (images, long documents) arriving together are turned away with 503 and Retry-After
 * instead of running the process out of memory. A body is counted at its declared size, from
 * before it is read until its response has ended; a body without a declared size counts as the
 * largest accepted body.
 */
export class BodyBudget {
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly observe: (bytes: number) => void = () => undefined,
  ) {}

  /** Bytes held now. */
  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes` or throws `overloaded`; returns the function that gives them back (call it once). */
  reserve(bytes: number): () => void {
    if (bytes <= 0) return () => undefined;
    if (this.used + bytes > this.limit) {
      throw new TboError('overloaded', `TBO is holding ${this.used} bytes of request bodies (limit ${this.limit}); retry shortly`, { retryAfterSeconds: 1 });
    }
    this.used += bytes;
    this.observe(this.used);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.observe(this.used);
    };
  }
}
