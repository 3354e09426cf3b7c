import type { z } from 'zod';
import type { ErrorKind } from '../errors';
import type { SseFrame } from './sse';

export type Provider = 'anthropic' | 'openai';

/** Token counts taken from an upstream response. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
}

/** Rebuilds one final response out of a stream, frame by frame. */
export interface StreamAssembler {
  /** Consumes a frame; returns true when the frame is optional for this client (OpenAI's usage-only chunk). */
  push(frame: SseFrame): boolean;
  /** The final response as JSON text once the stream completed cleanly, else undefined. */
  result(): string | undefined;
}

/** A provider-neutral conversation: the TBO-native API's request. */
export interface Conversation {
  readonly model: string;
  readonly maxTokens: number;
  readonly messages: readonly { readonly role: 'system' | 'user' | 'assistant'; readonly content: string }[];
  readonly stream: boolean;
  /** Sampling temperature (0 to 1). @default the provider's */
  readonly temperature?: number;
}

/** A parsed request, as the optimizer needs it. */
export interface ParsedRequest {
  readonly body: Readonly<Record<string, unknown>>;
  readonly model: string;
  readonly stream: boolean;
  /** OpenAI `stream_options.include_usage`; always false for Anthropic. */
  readonly includeUsage: boolean;
}

/** Everything TBO knows about one provider's wire format. */
export interface Protocol {
  readonly provider: Provider;
  /** Env var holding the service's key for this provider. */
  readonly apiKeyEnv: string;
  /** Path appended to the provider's base URL. */
  readonly upstreamPath: string;
  /** HTTP method of the upstream call. @default 'POST' */
  readonly upstreamMethod?: 'GET' | 'POST' | 'DELETE';
  /** Request schema: validates what TBO relies on, passes the rest through. */
  readonly schema: z.ZodType<Record<string, unknown>>;
  parse(body: Record<string, unknown>): ParsedRequest;
  /** Body sent upstream (may ask for more than the client did, e.g. usage in OpenAI streams). */
  upstreamBody(request: ParsedRequest, raw: Buffer): Buffer | string;
  /** Client headers passed upstream as they are (an explicit allow-list). */
  readonly forwardedHeaders: readonly string[];
  /**
   * The forwarded headers that can change the answer (API version, beta features, the billing
   * project's fine-tunes): part of the cache key. (`idempotency-key` is forwarded, not keyed.)
   */
  readonly keyHeaders: readonly string[];
  /** Headers that authenticate the service, plus the client's {@link forwardedHeaders}. */
  upstreamHeaders(apiKey: string, clientHeaders: Readonly<Record<string, string | string[] | undefined>>): Record<string, string>;
  /** The response header that carries the upstream's request id (what the SDK reports as the request id). */
  readonly requestIdHeader: string;
  /**
   * Upstream response headers passed to the client on live answers and upstream errors: the request
   * id, rate-limit state and retry advice the SDKs read.
   */
  readonly passedResponseHeaders: RegExp;
  /**
   * True when the request's answer is sampled: temperature > 0, or unset where the API's default
   * is > 0. Absent for APIs whose answers are deterministic (embeddings, moderations, …).
   */
  sampled?(body: Readonly<Record<string, unknown>>): boolean;
  /** True when a 200 body is this API's success shape (not an error object, not something else). */
  isAnswer(finalBody: Readonly<Record<string, unknown>>): boolean;
  newAssembler(): StreamAssembler;
  /** A complete SSE stream that replays a final response. */
  synthesizeStream(finalBody: string, includeUsage: boolean): string;
  usage(finalBody: Readonly<Record<string, unknown>>): TokenUsage | undefined;
  /** The answer's text (all text blocks / the first choice's content). */
  text(finalBody: Readonly<Record<string, unknown>>): string;
  /** The text a stream frame adds, if any. */
  textDelta(frame: SseFrame): string | undefined;
  /** A request in this wire format for a plain conversation (used by the TBO-native API). */
  buildRequest(conversation: Conversation): Record<string, unknown>;
  /** An error body in this API's shape. */
  errorBody(kind: ErrorKind, message: string, extra?: { readonly code?: string; readonly param?: string; readonly requestId?: string }): Record<string, unknown>;
  /** An SSE frame that tells this API's SDK the stream failed. */
  streamErrorFrame(kind: ErrorKind, message: string): string;
}

export type Json = Record<string, unknown>;

/** The upstream response headers a protocol passes to its clients (string values only). */
export function passedHeaders(protocol: Protocol, upstream: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (typeof value === 'string' && protocol.passedResponseHeaders.test(name)) passed[name] = value;
  }
  return passed;
}

/** The client's values of the named headers (string values only). */
export function pickHeaders(client: Readonly<Record<string, string | string[] | undefined>>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = client[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
