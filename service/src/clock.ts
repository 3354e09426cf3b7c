/** Milliseconds on a monotonic clock; injected wherever time matters so tests need no sleeps. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };
