/**
 * Failures as data: one kind per failure, mapped once to each API's error shape at the HTTP edge.
 */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_too_large'
  | 'rate_limit'
  | 'overloaded'
  | 'timeout'
  | 'upstream_unavailable'
  | 'not_configured'
  | 'internal';

export const STATUS_OF: Readonly<Record<ErrorKind, number>> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  request_too_large: 413,
  rate_limit: 429,
  overloaded: 503,
  timeout: 504,
  upstream_unavailable: 502,
  not_configured: 503,
  internal: 500,
};

/**
 * A failure TBO itself decided on; its message is safe to show the caller. An `internal` one made
 * from an unexpected error keeps that error as its `cause`, for the error report (never the caller).
 */
export class TboError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: { readonly retryAfterSeconds?: number; readonly param?: string; readonly code?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TboError';
    this.status = STATUS_OF[kind];
  }
}

/** The upstream answered with a non-2xx status; its body is already in the provider's shape. */
export class UpstreamHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly retryAfter: string | undefined,
    /** Upstream response headers the client gets too (request id, rate-limit state, retry advice). */
    readonly headers: Readonly<Record<string, string>> = {},
    /**
     * True when a 401/403 is about the service's API key (a public API); false when the backend
     * explained it itself (a cloud platform's IAM, in the client's API shape).
     */
    readonly apiKeyAuth = true,
  ) {
    super(`upstream answered ${status}`);
    this.name = 'UpstreamHttpError';
  }
}

/** What went wrong, as a span's `error.type` records it: the upstream's HTTP status, a TBO error's kind, else `upstream_unavailable`. */
export function errorType(err: unknown): string {
  if (err instanceof UpstreamHttpError) return String(err.status);
  return err instanceof TboError ? err.kind : 'upstream_unavailable';
}
