import { z } from 'zod';
import type { ErrorKind } from '../errors';
import { sseFrame, type SseFrame } from './sse';
import { isObject, num, pickHeaders, type Json, type Protocol, type StreamAssembler } from './types';

const FORWARDED = ['openai-beta', 'openai-organization', 'openai-project'] as const;

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

interface ToolCall { id?: unknown; type: unknown; function: { name: string; arguments: string } }
interface Choice { index: number; message: Json & { tool_calls?: ToolCall[] }; finish_reason: unknown; logprobs: unknown }

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
    this.head ??= { id: chunk.id, created: chunk.created, model: chunk.model, system_fingerprint: chunk.system_fingerprint, service_tier: chunk.service_tier };
    if (chunk.usage) this.usage = chunk.usage;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const c of choices) if (isObject(c)) this.applyChoice(c);
    return choices.length === 0 && chunk.usage !== undefined && chunk.usage !== null;
  }

  private applyChoice(c: Json): void {
    const index = num(c.index);
    const choice = (this.choices[index] ??= { index, message: { role: 'assistant', content: null, refusal: null }, finish_reason: null, logprobs: null });
    const delta = isObject(c.delta) ? c.delta : {};
    if (typeof delta.role === 'string') choice.message.role = delta.role;
    for (const field of ['content', 'refusal'] as const) {
      if (typeof delta[field] === 'string') choice.message[field] = `${typeof choice.message[field] === 'string' ? choice.message[field] : ''}${delta[field]}`;
    }
    if (Array.isArray(delta.tool_calls)) {
      const calls = (choice.message.tool_calls ??= []);
      for (const tc of delta.tool_calls) {
        if (!isObject(tc)) continue;
        const call = (calls[num(tc.index)] ??= { type: 'function', function: { name: '', arguments: '' } });
        if (tc.id) call.id = tc.id;
        if (tc.type) call.type = tc.type;
        const fn = isObject(tc.function) ? tc.function : {};
        if (typeof fn.name === 'string') call.function.name += fn.name;
        if (typeof fn.arguments === 'string') call.function.arguments += fn.arguments;
      }
    }
    if (c.finish_reason) choice.finish_reason = c.finish_reason;
    if (c.logprobs) choice.logprobs = c.logprobs;
  }

  result(): string | undefined {
    if (!this.complete || this.failed || !this.head || this.choices.length === 0) return undefined;
    if (this.choices.some((c) => !c || !c.finish_reason)) return undefined;
    return JSON.stringify({ ...this.head, object: 'chat.completion', choices: this.choices, usage: this.usage ?? null });
  }
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
    const head = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, system_fingerprint: completion.system_fingerprint ?? null };
    const chunk = (choices: Json[], extra: Json = {}) => sseFrame({ ...head, choices, ...extra });
    const frames: string[] = [];
    for (const c of (Array.isArray(completion.choices) ? completion.choices : []) as Json[]) {
      const message = isObject(c.message) ? c.message : {};
      const at = (delta: Json, finish: unknown = null) => chunk([{ index: c.index, delta, logprobs: null, finish_reason: finish }]);
      frames.push(at({ role: message.role ?? 'assistant', content: '', refusal: null }));
      if (typeof message.content === 'string' && message.content) frames.push(at({ content: message.content }));
      if (typeof message.refusal === 'string' && message.refusal) frames.push(at({ refusal: message.refusal }));
      if (Array.isArray(message.tool_calls)) {
        frames.push(at({ tool_calls: (message.tool_calls as Json[]).map((tc, index) => ({ index, ...tc })) }));
      }
      frames.push(at({}, c.finish_reason ?? 'stop'));
    }
    if (includeUsage) frames.push(chunk([], { usage: completion.usage ?? null }));
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
