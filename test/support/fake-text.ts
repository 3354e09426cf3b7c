/** What the fake upstream reads from requests and derives from them: answer text, tokens, chunks, ids. */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text of a message `content` in either API: a string, or an array of parts of which the
 * `{type:"text", text}` ones count (Anthropic `tool_result` parts count through their own content).
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') parts.push(part.text);
    else if (part.type === 'tool_result') parts.push(contentText(part.content));
  }
  return parts.filter((p) => p !== '').join(' ');
}

/** Text of the last `role: "user"` message of a request body, or '' when there is none. */
export function lastUserText(body: JsonObject): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (isRecord(m) && m.role === 'user') return contentText(m.content);
  }
  return '';
}

/** The answer both fake providers give: different prompts give different answers. */
export function answerFor(body: JsonObject): string {
  return `echo: ${lastUserText(body)}`;
}

/** A stable token estimate (~4 characters a token, at least 1). */
export function tokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Prompt tokens: every message's text plus an Anthropic-style `system` prompt. */
export function promptTokens(body: JsonObject): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const texts = messages.map((m: unknown) => (isRecord(m) ? contentText(m.content) : ''));
  return tokenCount([contentText(body.system), ...texts].join('\n'));
}

/** Splits text into at least 3 pieces (when it has 3+ characters) of at most 8 characters. */
export function splitChunks(text: string): string[] {
  const size = Math.max(1, Math.min(8, Math.ceil(text.length / 3)));
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return chunks.length > 0 ? chunks : [''];
}

/** A random id with the provider's prefix, e.g. `msg_…`, `toolu_…`, `chatcmpl-…`, `req_…`. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
}
