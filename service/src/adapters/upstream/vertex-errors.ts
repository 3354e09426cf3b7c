/**
 * Vertex AI's errors in the client's API shape. Vertex answers with Google API errors
 * (`google.rpc.Status` as JSON: `{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED"}}`,
 * sometimes inside a one-element array, see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/api-errors);
 * for Claude it also passes some of Anthropic's own errors through, which stay as they are.
 */
import type { ErrorKind } from '../../errors';
import { anthropic } from '../../protocols/anthropic';
import { openai } from '../../protocols/openai';
import { isObject, type Json } from '../../protocols/types';

/**
 * Seconds a client is told to wait after a 429 that carries no `retry-after` (Vertex's do not):
 * Google asks for truncated exponential backoff with a minimum delay of one second
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/api-errors,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429).
 */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Longest piece of Vertex's own message quoted in ours. */
const MAX_QUOTED_CHARS = 1000;

/** What an error message can say about the call that failed. */
export interface VertexCall {
  /** The client's wire format: the shape the error is written in. */
  readonly format: 'anthropic' | 'openai';
  /** The Vertex model id (`claude-sonnet-4-5@20250929`, `google/gemini-2.5-flash`). */
  readonly model: string;
  readonly project: string;
  readonly region: string;
  /** The identity that called (a service account's email), when known. */
  readonly principal?: string;
}

/** A Google API error's fields. */
interface GoogleStatus {
  readonly code?: number;
  readonly message: string;
  readonly status?: string;
  /** `ErrorInfo.reason` of its details (`IAM_PERMISSION_DENIED`, `SERVICE_DISABLED` …). */
  readonly reason?: string;
}

/** A translated error: the status and body the client gets. */
export interface ClientError {
  readonly status: number;
  readonly body: string;
  /** Set on 429s: Vertex's `retry-after`, else {@link DEFAULT_RETRY_AFTER_SECONDS}. */
  readonly retryAfter?: string;
}

/**
 * The error a client gets for a non-2xx Vertex answer: an error already in its API's shape as it
 * is; a Google error (or anything else) rewritten in that shape with the same status and a message
 * that says what to do (which permission, which role, Model Garden, the credentials).
 */
export function clientError(status: number, raw: string, call: VertexCall, retryAfter: string | undefined): ClientError {
  const rateLimited = status === 429 ? { retryAfter: retryAfter ?? String(DEFAULT_RETRY_AFTER_SECONDS) } : {};
  const parsed = parseJson(raw);
  if (isClientShape(parsed, call.format)) return { status, body: raw, ...rateLimited };
  const google = googleStatus(parsed);
  return { status, body: errorBody(call.format, kindOf(status), messageFor(status, google, call)), ...rateLimited };
}

/** An error body in the client's API shape. */
export function errorBody(format: 'anthropic' | 'openai', kind: ErrorKind, message: string): string {
  return JSON.stringify((format === 'anthropic' ? anthropic : openai).errorBody(kind, message));
}

function kindOf(status: number): ErrorKind {
  switch (status) {
    case 400: return 'invalid_request';
    case 401: return 'authentication';
    case 403: return 'permission';
    case 404: return 'not_found';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit';
    case 503:
    case 529: return 'overloaded';
    case 504: return 'timeout';
    default: return status >= 500 || status === 499 ? 'upstream_unavailable' : 'invalid_request';
  }
}

function messageFor(status: number, google: GoogleStatus | undefined, call: VertexCall): string {
  const said = google?.message ? ` Vertex AI said: ${quote(google.message)}` : '';
  const where = `${call.model} in ${call.region} (project ${call.project})`;
  const who = call.principal ?? "the service's identity";
  if (status === 403 && (google?.reason === 'SERVICE_DISABLED' || /has not been used|is disabled/i.test(google?.message ?? ''))) {
    return `Vertex AI API (aiplatform.googleapis.com) is not enabled in project ${call.project}: enable it, then retry.${said}`;
  }
  switch (status) {
    case 400:
      if (google?.status === 'FAILED_PRECONDITION' || /not allowed to use Publisher Model/i.test(google?.message ?? '')) {
        return `Vertex AI cannot serve ${where}: the model must be enabled for the project in Vertex AI Model Garden.${said}`;
      }
      return `Vertex AI rejected the request for ${where}.${said}`;
    case 401:
      return `Vertex AI did not accept the access token from Application Default Credentials; check the credentials the service runs with (the metadata server's service account, or GOOGLE_APPLICATION_CREDENTIALS).${said}`;
    case 403:
      return `Vertex AI denied ${who} access to ${where}: it needs the permission aiplatform.endpoints.predict on the project (role roles/aiplatform.user), and the model must be enabled in Vertex AI Model Garden.${said}`;
    case 404:
      return `Vertex AI has no model ${where}: the model id is wrong, the model is not offered in this region, or it is not enabled in Vertex AI Model Garden for the project.${said}`;
    case 429:
      return `Vertex AI is rate-limiting ${where} (quota or shared capacity exhausted); retry after a backoff.${said}`;
    default:
      return `Vertex AI answered ${status}${google?.status ? ` ${google.status}` : ''} for ${where}.${said}`;
  }
}

/** True when the body is already an error of the client's API (Anthropic's as Vertex passes it, or OpenAI's). */
function isClientShape(parsed: unknown, format: 'anthropic' | 'openai'): boolean {
  if (!isObject(parsed) || !isObject(parsed.error)) return false;
  const error = parsed.error;
  if (format === 'anthropic') return parsed.type === 'error' && typeof error.type === 'string';
  // OpenAI's errors have a string type; Google's have a numeric code and a status instead.
  return typeof error.type === 'string' && typeof error.message === 'string' && typeof error.status !== 'string';
}

/** The Google error in a body (`{"error":{…}}` or `[{"error":{…}}]`), if it is one. */
function googleStatus(parsed: unknown): GoogleStatus | undefined {
  const top = Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
  if (!isObject(top) || !isObject(top.error)) return undefined;
  const error: Json = top.error;
  if (typeof error.message !== 'string') return undefined;
  const details = Array.isArray(error.details) ? error.details : [];
  const info = details.find((d): d is Json => isObject(d) && typeof d.reason === 'string');
  return {
    message: error.message,
    ...(typeof error.code === 'number' ? { code: error.code } : {}),
    ...(typeof error.status === 'string' ? { status: error.status } : {}),
    ...(info ? { reason: info.reason as string } : {}),
  };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function quote(message: string): string {
  const text = message.replace(/\s+/g, ' ').trim();
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}
