import type { Breadcrumb, ErrorEvent } from '@sentry/node';

/**
 * What leaves the process in an error report, decided here and nowhere else: every event and
 * breadcrumb goes through {@link scrubEvent} / {@link scrubBreadcrumb} (the SDK's `beforeSend` and
 * `beforeBreadcrumb`) whatever added it, an integration or our own code.
 *
 * - No prompt or completion text: fields named like the APIs' text fields (`messages`, `system`,
 *   `input`, `prompt`, `content` …) and bodies (`body`, `data`) are dropped at any depth; in
 *   exception messages, double-quoted text is replaced (V8's JSON errors quote the input they
 *   failed on).
 * - No credentials: a string equal to or containing one the service holds (decided by the
 *   service's own `redact`, the one list of its secrets) is replaced whole; fields named like
 *   credentials (`authorization`, `x-api-key`, `password`, `token` …) are dropped.
 * - Request data: method, URL without query and an allow-list of headers ({@link SAFE_HEADERS});
 *   no body, cookies, query string or environment. No `user` (no IP address), none of the SDK's
 *   scratch data (`sdkProcessingMetadata`).
 * - Breadcrumbs keep their type, category, level, time and message: never their `data`, and none
 *   of HTTP calls (their URLs and headers).
 */

/** Request headers an error report may carry (values still checked for credentials). */
export const SAFE_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'anthropic-beta',
  'anthropic-version',
  'content-length',
  'content-type',
  'openai-beta',
  'traceparent',
  'user-agent',
  'x-request-id',
  'x-tbo-cache-policy',
  'x-tbo-priority',
]);

/** Fields that hold prompt or completion text, or a body, in the APIs' shapes and Sentry's: dropped at any depth. */
const TEXT_FIELDS = new Set(['messages', 'system', 'input', 'inputs', 'prompt', 'prompts', 'instructions', 'content', 'contents', 'completion', 'text', 'body', 'data', 'vars']);
/** Fields named like credentials, or that carry them wholesale (cookies, the environment): dropped at any depth. */
const SECRET_FIELD = /authorization|api[-_]?key|password|passwd|secret|token|cookie|credential|dsn|^env$|^query_string$/i;
/** Breadcrumb categories of outgoing calls: their messages are URLs. */
const CALL_CATEGORIES = new Set(['http', 'fetch', 'xhr', 'undici']);
/** Double-quoted text in an exception message. */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const MAX_DEPTH = 12;
const REDACTED = '[redacted]';

/** Removes the service's credentials from a text (the service's `redact`). */
export type Redact = (text: string) => string;

/** A string with a credential in it is replaced whole: what is left around a secret can still identify it. */
function scrubString(value: string, redact: Redact): string {
  return redact(value) === value ? value : REDACTED;
}

/** A copy of `value` without text fields, credential fields or credentials (cycles and depth bounded). */
function scrubValue(value: unknown, redact: Redact, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value, redact);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return '[dropped]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, redact, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (TEXT_FIELDS.has(key.toLowerCase()) || SECRET_FIELD.test(key) || scrubString(key, redact) !== key) continue;
    out[key] = scrubValue(item, redact, depth + 1, seen);
  }
  return out;
}

/** Path of a URL (absolute or not), without query or fragment. */
function pathOnly(url: string): string {
  return url.replace(/[?#].*$/s, '');
}

function scrubRequest(request: NonNullable<ErrorEvent['request']>, redact: Redact): ErrorEvent['request'] {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (SAFE_HEADERS.has(name.toLowerCase()) && typeof value === 'string') headers[name.toLowerCase()] = scrubString(value, redact);
  }
  return {
    ...(request.method ? { method: scrubString(request.method, redact) } : {}),
    ...(request.url ? { url: scrubString(pathOnly(request.url), redact) } : {}),
    headers,
  };
}

function scrubMessage(message: string, redact: Redact): string {
  return scrubString(message.replace(QUOTED, '"[text]"'), redact);
}

/** The event as it may leave the process; the SDK's `beforeSend`. */
export function scrubEvent(event: ErrorEvent, redact: Redact): ErrorEvent {
  // `user` would carry an IP address; `sdkProcessingMetadata` is the SDK's scratch space (a request
  // an integration saw, scopes): neither is needed, so neither can leak.
  const { request, exception, breadcrumbs, message, user: _user, sdkProcessingMetadata: _scratch, ...rest } = event;
  const out = scrubValue(rest, redact) as ErrorEvent;
  if (request) out.request = scrubRequest(request, redact);
  if (typeof message === 'string') out.message = scrubMessage(message, redact);
  if (exception?.values) {
    out.exception = {
      values: exception.values.map((e) => ({
        ...(scrubValue(e, redact) as typeof e),
        ...(typeof e.value === 'string' ? { value: scrubMessage(e.value, redact) } : {}),
      })),
    };
  }
  if (breadcrumbs) out.breadcrumbs = breadcrumbs.flatMap((b) => scrubBreadcrumb(b, redact) ?? []);
  return out;
}

/** The breadcrumb as it may be recorded, or null to drop it; the SDK's `beforeBreadcrumb`. */
export function scrubBreadcrumb(breadcrumb: Breadcrumb, redact: Redact): Breadcrumb | null {
  if (breadcrumb.category && CALL_CATEGORIES.has(breadcrumb.category.toLowerCase())) return null;
  if (breadcrumb.type === 'http') return null;
  const { type, category, level, timestamp, message } = breadcrumb;
  return {
    ...(type ? { type } : {}),
    ...(category ? { category: scrubString(category, redact) } : {}),
    ...(level ? { level } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(typeof message === 'string' ? { message: scrubMessage(message, redact) } : {}),
  };
}
