import { z } from 'zod';
import type { ErrorKind } from '../errors';
import { sseFrame, type SseFrame } from './sse';
import { isObject, num, pickHeaders, type Json, type Protocol, type StreamAssembler } from './types';

const KEYED = ['anthropic-version', 'anthropic-beta'] as const;
/** Forwarded too, but not part of the cache key: it names the attempt, not the question. */
const FORWARDED = [...KEYED, 'idempotency-key'] as const;
const DEFAULT_VERSION = '2023-06-01';

const block = z.looseObject({ type: z.string().min(1) });
const schema = z.looseObject({
  model: z.string().min(1).max(256),
  max_tokens: z.number().int().positive(),
  messages: z
    .array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(block)]) }))
    .min(1),
  system: z.union([z.string(), z.array(block)]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z.array(z.looseObject({})).optional(),
  metadata: z.looseObject({}).optional(),
});

const ERROR_TYPE: Readonly<Record<ErrorKind, string>> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  overloaded: 'overloaded_error',
  timeout: 'timeout_error',
  upstream_unavailable: 'api_error',
  not_configured: 'api_error',
  internal: 'api_error',
};

/** Usage fields only `message_start` carries; the rest are cumulative counters `message_delta` repeats. */
const START_ONLY_USAGE = new Set(['cache_creation', 'service_tier', 'inference_geo', 'speed']);

/**
 * Rebuilds the `message` the same request would have got as JSON: `message_start`'s message with
 * `message_delta`'s delta fields (stop reason, stop sequence, stop details, container) and usage
 * counters (input, output, cache, server tool use …; absent or null ones keep the start's value, as
 * the SDK merges them) and any other top-level field of it, every content block with its text,
 * thinking and signature, tool input and citations.
 */
class AnthropicAssembler implements StreamAssembler {
  private message: Json | undefined;
  private readonly blocks: Json[] = [];
  private readonly partialJson = new Map<number, string>();
  private complete = false;
  private failed = false;

  push(frame: SseFrame): boolean {
    if (this.failed) return false;
    let ev: Json;
    try {
      const parsed: unknown = JSON.parse(frame.data);
      if (!isObject(parsed)) return false;
      ev = parsed;
    } catch {
      this.failed = true;
      return false;
    }
    const index = num(ev.index);
    switch (ev.type) {
      case 'message_start':
        this.message = isObject(ev.message) ? { ...ev.message } : {};
        if (isObject(this.message.usage)) this.message.usage = { ...this.message.usage };
        break;
      case 'content_block_start':
        this.blocks[index] = isObject(ev.content_block) ? { ...ev.content_block } : {};
        break;
      case 'content_block_delta':
        this.applyDelta(index, isObject(ev.delta) ? ev.delta : {});
        break;
      case 'content_block_stop': {
        const partial = this.partialJson.get(index);
        if (partial !== undefined && this.blocks[index]) {
          try {
            this.blocks[index].input = partial ? JSON.parse(partial) : {};
          } catch {
            this.failed = true;
          }
        }
        break;
      }
      case 'message_delta':
        if (this.message) this.applyMessageDelta(this.message, ev);
        break;
      case 'message_stop':
        this.complete = true;
        break;
      case 'error':
        this.failed = true;
        break;
      default:
        break;
    }
    return false;
  }

  private applyMessageDelta(message: Json, ev: Json): void {
    for (const key in ev) {
      const value = ev[key];
      if (key === 'type' || value === undefined) continue;
      if (key === 'delta' && isObject(value)) Object.assign(message, value);
      else if (key === 'usage' && isObject(value)) {
        const usage = isObject(message.usage) ? message.usage : (message.usage = {});
        for (const field in value) if (value[field] !== null && value[field] !== undefined) usage[field] = value[field];
      } else message[key] = value;
    }
  }

  private applyDelta(index: number, delta: Json): void {
    const target = this.blocks[index];
    if (!target) return;
    const append = (field: string, piece: unknown) => {
      target[field] = `${typeof target[field] === 'string' ? target[field] : ''}${typeof piece === 'string' ? piece : ''}`;
    };
    switch (delta.type) {
      case 'text_delta': append('text', delta.text); break;
      case 'thinking_delta': append('thinking', delta.thinking); break;
      case 'signature_delta': target.signature = delta.signature; break;
      // Any block with an input (tool_use, server_tool_use, mcp_tool_use …) streams it as JSON text.
      case 'input_json_delta': this.partialJson.set(index, `${this.partialJson.get(index) ?? ''}${String(delta.partial_json ?? '')}`); break;
      case 'citations_delta': target.citations = [...(Array.isArray(target.citations) ? target.citations : []), delta.citation]; break;
      default: break;
    }
  }

  result(): string | undefined {
    if (!this.complete || this.failed || !this.message) return undefined;
    return JSON.stringify({ ...this.message, content: this.blocks.filter(Boolean) });
  }
}

/** The events of one stored content block, in the delta types the live stream uses for it. */
function blockFrames(content: Json, index: number): string[] {
  const frames: string[] = [];
  const start = (content_block: Json) => frames.push(sseFrame({ type: 'content_block_start', index, content_block }, 'content_block_start'));
  const delta = (d: Json) => frames.push(sseFrame({ type: 'content_block_delta', index, delta: d }, 'content_block_delta'));
  const citations = Array.isArray(content.citations) && content.citations.length > 0 ? (content.citations as unknown[]) : undefined;
  if (content.type === 'text') {
    const { citations: _cited, ...block } = content;
    start(citations ? { ...block, text: '' } : { ...content, text: '' });
    for (const citation of citations ?? []) delta({ type: 'citations_delta', citation });
    if (content.text) delta({ type: 'text_delta', text: content.text });
  } else if (content.type === 'thinking') {
    start({ ...content, thinking: '', signature: '' });
    if (content.thinking) delta({ type: 'thinking_delta', thinking: content.thinking });
    if (content.signature) delta({ type: 'signature_delta', signature: content.signature });
  } else if (typeof content.type === 'string' && content.type.endsWith('tool_use') && isObject(content.input)) {
    start({ ...content, input: {} });
    delta({ type: 'input_json_delta', partial_json: JSON.stringify(content.input) });
  } else {
    start(content); // redacted thinking, tool results …: whole in their start event, as live
  }
  frames.push(sseFrame({ type: 'content_block_stop', index }, 'content_block_stop'));
  return frames;
}

const PING = sseFrame({ type: 'ping' }, 'ping');

export const anthropic: Protocol = {
  provider: 'anthropic',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  upstreamPath: '/v1/messages',
  schema,

  parse(body) {
    return { body, model: String(body.model), stream: body.stream === true, includeUsage: false };
  },

  upstreamBody(_request, raw) {
    return raw;
  },

  forwardedHeaders: FORWARDED,
  keyHeaders: KEYED,
  requestIdHeader: 'request-id',
  passedResponseHeaders: /^(request-id|retry-after|x-should-retry|anthropic-ratelimit-[a-z0-9-]+)$/,

  upstreamHeaders(apiKey, client) {
    return { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': DEFAULT_VERSION, ...pickHeaders(client, FORWARDED) };
  },

  // The API's default temperature is 1: a request that does not set it is sampled.
  sampled(body) {
    return typeof body.temperature !== 'number' || body.temperature > 0;
  },

  isAnswer(body) {
    return body.type === 'message' && Array.isArray(body.content);
  },

  newAssembler: () => new AnthropicAssembler(),

  synthesizeStream(finalBody) {
    const message = JSON.parse(finalBody) as Json;
    const usage = isObject(message.usage) ? message.usage : {};
    const content = Array.isArray(message.content) ? (message.content as Json[]) : [];
    const { stop_reason: stopReason, stop_sequence: stopSequence, ...rest } = message;
    // message_start: the message before its content, with the whole usage but no output yet.
    const started: Json = { ...rest, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } };
    if ('stop_details' in message) started.stop_details = null;
    // message_delta: how it stopped, and the usage counters (cumulative totals, as the API sends them).
    const delta: Json = { stop_reason: stopReason ?? null, stop_sequence: stopSequence ?? null };
    if ('stop_details' in message) delta.stop_details = message.stop_details;
    if (message.container !== undefined && message.container !== null) delta.container = message.container;
    const deltaUsage: Json = {};
    for (const key in usage) if (!START_ONLY_USAGE.has(key)) deltaUsage[key] = usage[key];
    deltaUsage.output_tokens = num(usage.output_tokens);
    const blocks = content.map((c, i) => blockFrames(c, i));
    // The API pings once, right after the first content_block_start.
    if (blocks.length > 0) blocks[0].splice(1, 0, PING);
    else blocks.push([PING]);
    return [
      sseFrame({ type: 'message_start', message: started }, 'message_start'),
      ...blocks.flat(),
      sseFrame({ type: 'message_delta', delta, usage: deltaUsage }, 'message_delta'),
      sseFrame({ type: 'message_stop' }, 'message_stop'),
    ].join('');
  },

  usage(body) {
    if (!isObject(body.usage)) return undefined;
    return { input: num(body.usage.input_tokens), output: num(body.usage.output_tokens) };
  },

  text(body) {
    const content = Array.isArray(body.content) ? (body.content as unknown[]) : [];
    return content.map((b) => (isObject(b) && b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
  },

  textDelta(frame) {
    if (frame.event !== 'content_block_delta') return undefined;
    try {
      const ev = JSON.parse(frame.data) as Json;
      return isObject(ev.delta) && ev.delta.type === 'text_delta' && typeof ev.delta.text === 'string' ? ev.delta.text : undefined;
    } catch {
      return undefined;
    }
  },

  buildRequest(c) {
    const system = c.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    return {
      model: c.model,
      max_tokens: c.maxTokens,
      ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
      ...(system ? { system } : {}),
      messages: c.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
      ...(c.stream ? { stream: true } : {}),
    };
  },

  errorBody(kind, message, extra = {}) {
    return { type: 'error', error: { type: ERROR_TYPE[kind], message }, ...(extra.requestId ? { request_id: extra.requestId } : {}) };
  },

  streamErrorFrame(kind, message) {
    return sseFrame({ type: 'error', error: { type: ERROR_TYPE[kind], message } }, 'error');
  },
};
