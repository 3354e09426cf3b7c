import { z } from 'zod';
import type { ErrorKind } from '../errors';
import { sseFrame, type SseFrame } from './sse';
import { isObject, num, pickHeaders, type Json, type Protocol, type StreamAssembler } from './types';

const KEYED = ['openai-beta', 'openai-organization', 'openai-project'] as const;
/** Forwarded too, but not part of the cache key: it names the attempt, not the question. */
const FORWARDED = [...KEYED, 'idempotency-key'] as const;

const schema = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string().min(1) })), z.null()]).optional(),
      }),
    )
    .min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  tools: z.array(z.looseObject({})).optional(),
});

const ERROR_TYPE: Readonly<Record<ErrorKind, [type: string, code: string | null]>> = {
  invalid_request: ['invalid_request_error', null],
  authentication: ['invalid_request_error', 'invalid_api_key'],
  permission: ['invalid_request_error', 'permission_denied'],
  not_found: ['invalid_request_error', 'not_found'],
  request_too_large: ['invalid_request_error', 'request_too_large'],
  rate_limit: ['requests', 'rate_limit_exceeded'],
  overloaded: ['server_error', 'overloaded'],
  timeout: ['server_error', 'timeout'],
  upstream_unavailable: ['server_error', 'upstream_unavailable'],
  not_configured: ['server_error', 'provider_not_configured'],
  internal: ['server_error', null],
};

interface ToolCall { id?: unknown; type: unknown; function: Json & { name: string; arguments: string } }
interface Logprobs extends Json { content: unknown[] | null; refusal: unknown[] | null }
interface Choice extends Json { index: number; message: Json & { tool_calls?: ToolCall[] }; finish_reason: unknown; logprobs: Logprobs | null }

/** Top-level chunk fields that are not the completion's: the completion has its own `object` and one `usage`. */
const CHUNK_ONLY = new Set(['choices', 'object', 'usage', 'obfuscation']);
/** Choice fields the assembler merges itself; any other (e.g. a provider's filter results) is copied. */
const CHOICE_MERGED = new Set(['index', 'delta', 'logprobs', 'finish_reason']);

function appendText(target: Json, field: string, piece: string): void {
  target[field] = `${typeof target[field] === 'string' ? target[field] : ''}${piece}`;
}

function appendArray(target: Json, field: string, items: readonly unknown[]): void {
  const existing = target[field];
  if (Array.isArray(existing)) existing.push(...items);
  else target[field] = [...items];
}

/**
 * Rebuilds the `chat.completion` the same request would have got as JSON: every top-level field the
 * chunks carry (`service_tier`, `system_fingerprint`, …), per choice the message (content, refusal,
 * tool calls, annotations, audio, any other delta field), `logprobs` with its `content` / `refusal`
 * arrays concatenated across chunks, and the usage chunk's usage with its details.
 */
class OpenAiAssembler implements StreamAssembler {
  private head: Json | undefined;
  private readonly choices: Choice[] = [];
  private usage: unknown = undefined;
  private complete = false;
  private failed = false;

  push(frame: SseFrame): boolean {
    if (this.failed) return false;
    if (frame.data === '[DONE]') {
      this.complete = true;
      return false;
    }
    let chunk: Json;
    try {
      const parsed: unknown = JSON.parse(frame.data);
      if (!isObject(parsed)) return false;
      chunk = parsed;
    } catch {
      this.failed = true;
      return false;
    }
    if (chunk.error !== undefined) {
      this.failed = true;
      return false;
    }
    const head = (this.head ??= {});
    for (const key in chunk) {
      if (!CHUNK_ONLY.has(key) && chunk[key] !== undefined) head[key] = chunk[key];
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const c of choices) if (isObject(c)) this.applyChoice(c);
    return choices.length === 0 && chunk.usage !== undefined && chunk.usage !== null;
  }

  private applyChoice(c: Json): void {
    const index = num(c.index);
    const choice = (this.choices[index] ??= { index, message: { role: 'assistant', content: null, refusal: null }, finish_reason: null, logprobs: null });
    if (isObject(c.delta)) this.applyDelta(choice.message, c.delta);
    if (c.finish_reason) choice.finish_reason = c.finish_reason;
    if (isObject(c.logprobs)) {
      const logprobs = (choice.logprobs ??= { content: null, refusal: null });
      for (const key in c.logprobs) {
        const value = c.logprobs[key];
        if (key === 'content' || key === 'refusal') {
          if (Array.isArray(value)) appendArray(logprobs, key, value);
        } else if (value !== undefined) {
          logprobs[key] = value;
        }
      }
    }
    for (const key in c) {
      if (!CHOICE_MERGED.has(key) && c[key] !== undefined) choice[key] = c[key];
    }
  }

  private applyDelta(message: Choice['message'], delta: Json): void {
    for (const key in delta) {
      const value = delta[key];
      if (value === undefined || value === null) continue;
      switch (key) {
        case 'role':
          message.role = value;
          break;
        case 'tool_calls':
          if (Array.isArray(value)) this.applyToolCalls((message.tool_calls ??= []), value);
          break;
        case 'function_call':
        case 'audio':
          // Objects whose string fields arrive in pieces (arguments, data, transcript).
          if (isObject(value)) {
            const target = isObject(message[key]) ? (message[key] as Json) : (message[key] = {});
            for (const field in value) {
              const piece = value[field];
              if (typeof piece === 'string' && (field === 'arguments' || field === 'data' || field === 'transcript')) appendText(target, field, piece);
              else if (piece !== undefined && piece !== null) target[field] = piece;
            }
          }
          break;
        default:
          // content, refusal and any other text field (e.g. a provider's reasoning_content) arrive in
          // pieces; arrays (annotations) in parts; anything else is the field's value.
          if (typeof value === 'string') appendText(message, key, value);
          else if (Array.isArray(value)) appendArray(message, key, value);
          else message[key] = value;
      }
    }
  }

  private applyToolCalls(calls: ToolCall[], deltas: readonly unknown[]): void {
    for (const tc of deltas) {
      if (!isObject(tc)) continue;
      const call = (calls[num(tc.index)] ??= { type: 'function', function: { name: '', arguments: '' } });
      if (tc.id) call.id = tc.id;
      if (tc.type) call.type = tc.type;
      const fn = isObject(tc.function) ? tc.function : {};
      if (typeof fn.name === 'string') call.function.name += fn.name;
      if (typeof fn.arguments === 'string') call.function.arguments += fn.arguments;
    }
  }

  result(): string | undefined {
    if (!this.complete || this.failed || !this.head || this.choices.length === 0) return undefined;
    if (this.choices.some((c) => !c || !c.finish_reason)) return undefined;
    return JSON.stringify({ ...this.head, object: 'chat.completion', choices: this.choices, usage: this.usage ?? null });
  }
}

/** The tokens of a logprobs list, when they spell `text` exactly (then each can be its own chunk, as live). */
function tokensOf(entries: unknown, text: string): { token: string; entry: unknown }[] | undefined {
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const tokens: { token: string; entry: unknown }[] = [];
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.token !== 'string') return undefined;
    tokens.push({ token: entry.token, entry });
  }
  return tokens.map((t) => t.token).join('') === text ? tokens : undefined;
}

/**
 * The chunks of one choice of a stored completion, in the shapes the live stream uses: the role
 * chunk, the text (one chunk per token with its logprobs when the logprobs spell the text, as the
 * API streams it; else one chunk holding the text and all its logprobs), the refusal likewise, the
 * tool calls, the annotations, any other message field, then the finish chunk.
 */
function choiceChunks(c: Json, chunk: (choice: Json) => string): string[] {
  const { index, message: rawMessage, logprobs: rawLogprobs, finish_reason: finish, ...choiceExtra } = c;
  const message = isObject(rawMessage) ? rawMessage : {};
  const logprobs = isObject(rawLogprobs) ? rawLogprobs : undefined;
  const { role, content, refusal: _refusal, tool_calls: toolCalls, annotations, ...messageExtra } = message;
  const frames: string[] = [];
  const at = (delta: Json, lp: Json | null = null, finishReason: unknown = null, extra: Json = {}) =>
    frames.push(chunk({ index, delta, logprobs: lp, finish_reason: finishReason, ...extra }));
  const emptyLogprobs = logprobs && {
    ...logprobs,
    content: Array.isArray(logprobs.content) ? [] : (logprobs.content ?? null),
    refusal: Array.isArray(logprobs.refusal) ? [] : (logprobs.refusal ?? null),
  };
  at({ role: role ?? 'assistant', content: typeof content === 'string' ? '' : null, refusal: null }, emptyLogprobs ?? null);
  for (const field of ['content', 'refusal'] as const) {
    const text = message[field];
    const entries = logprobs?.[field];
    const lp = (list: unknown[]) => ({ ...emptyLogprobs, [field]: list });
    const tokens = typeof text === 'string' ? tokensOf(entries, text) : undefined;
    if (tokens) {
      for (const t of tokens) at({ [field]: t.token }, lp([t.entry]));
    } else if ((typeof text === 'string' && text) || (Array.isArray(entries) && entries.length > 0)) {
      at(typeof text === 'string' && text ? { [field]: text } : {}, Array.isArray(entries) && entries.length > 0 ? lp(entries) : null);
    }
  }
  if (Array.isArray(toolCalls) && toolCalls.length > 0) {
    at({ tool_calls: toolCalls.map((tc, i) => (isObject(tc) ? { index: i, ...tc } : tc)) });
  }
  if (Array.isArray(annotations) && annotations.length > 0) at({ annotations });
  const rest: Json = {};
  for (const key in messageExtra) if (messageExtra[key] !== null && messageExtra[key] !== undefined) rest[key] = messageExtra[key];
  if (Object.keys(rest).length > 0) at(rest);
  at({}, null, finish ?? 'stop', choiceExtra);
  return frames;
}

export const openai: Protocol = {
  provider: 'openai',
  apiKeyEnv: 'OPENAI_API_KEY',
  upstreamPath: '/chat/completions',
  schema,

  parse(body) {
    const options = isObject(body.stream_options) ? body.stream_options : {};
    return { body, model: String(body.model), stream: body.stream === true, includeUsage: options.include_usage === true };
  },

  upstreamBody(request, raw) {
    // Streams always ask for usage, so tokens are counted and a cached stream can replay it;
    // clients that did not ask never see the usage-only chunk.
    if (!request.stream || request.includeUsage) return raw;
    const options = isObject(request.body.stream_options) ? request.body.stream_options : {};
    return JSON.stringify({ ...request.body, stream_options: { ...options, include_usage: true } });
  },

  forwardedHeaders: FORWARDED,
  keyHeaders: KEYED,
  requestIdHeader: 'x-request-id',
  passedResponseHeaders: /^(x-request-id|retry-after|retry-after-ms|x-should-retry|openai-processing-ms|openai-version|x-ratelimit-[a-z0-9-]+)$/,

  upstreamHeaders(apiKey, client) {
    return { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...pickHeaders(client, FORWARDED) };
  },

  // The API's default temperature is 1: a request that does not set it is sampled.
  sampled(body) {
    return typeof body.temperature !== 'number' || body.temperature > 0;
  },

  isAnswer(body) {
    return body.object === 'chat.completion' && Array.isArray(body.choices);
  },

  newAssembler: () => new OpenAiAssembler(),

  synthesizeStream(finalBody, includeUsage) {
    const completion = JSON.parse(finalBody) as Json;
    // Every chunk carries the completion's top-level fields (service_tier, system_fingerprint …) and
    // `usage: null`, as the upstream's chunks do when usage was asked for (TBO always asks).
    const head: Json = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model };
    for (const key in completion) if (!(key in head) && key !== 'choices' && key !== 'usage') head[key] = completion[key];
    const chunk = (choice: Json) => sseFrame({ ...head, choices: [choice], usage: null });
    const frames: string[] = [];
    for (const c of Array.isArray(completion.choices) ? completion.choices : []) if (isObject(c)) frames.push(...choiceChunks(c, chunk));
    if (includeUsage) frames.push(sseFrame({ ...head, choices: [], usage: completion.usage ?? null }));
    frames.push('data: [DONE]\n\n');
    return frames.join('');
  },

  usage(body) {
    if (!isObject(body.usage)) return undefined;
    return { input: num(body.usage.prompt_tokens), output: num(body.usage.completion_tokens) };
  },

  text(body) {
    const choice = Array.isArray(body.choices) ? (body.choices[0] as unknown) : undefined;
    const message = isObject(choice) && isObject(choice.message) ? choice.message : {};
    return typeof message.content === 'string' ? message.content : '';
  },

  textDelta(frame) {
    if (frame.data === '[DONE]') return undefined;
    try {
      const chunk = JSON.parse(frame.data) as Json;
      const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as unknown) : undefined;
      const delta = isObject(choice) && isObject(choice.delta) ? choice.delta : {};
      return typeof delta.content === 'string' && delta.content ? delta.content : undefined;
    } catch {
      return undefined;
    }
  },

  buildRequest(c) {
    return {
      model: c.model,
      max_tokens: c.maxTokens,
      ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
      messages: c.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(c.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  },

  errorBody(kind, message, extra = {}) {
    const [type, code] = ERROR_TYPE[kind];
    return { error: { message, type, param: extra.param ?? null, code: extra.code ?? code } };
  },

  streamErrorFrame(kind, message) {
    const [type, code] = ERROR_TYPE[kind];
    return sseFrame({ error: { message, type, param: null, code } });
  },
};
