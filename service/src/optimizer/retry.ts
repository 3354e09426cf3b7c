/** Statuses worth another try: rate limited, overloaded, server errors. Other 4xx never are. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 529 || (status >= 500 && status <= 599);
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from `nowWall`. */
export function retryAfterMs(header: string | undefined, nowWall: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowWall);
}

export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^attempt)). */
export function backoffMs(attempt: number, opts: BackoffOptions, random: () => number): number {
  return random() * Math.min(opts.capMs, opts.baseMs * 2 ** attempt);
}
