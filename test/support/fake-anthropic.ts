/** Anthropic Messages API wire format (`POST /v1/messages`) for the fake upstream. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FakeProvider, StreamPlan } from './fake-upstream';
import { answerFor, bearerToken, isRecord, lastUserText, newId, promptTokens, splitChunks, tokenCount, type JsonObject } from './fake-text';

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

type Answer =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tool'; readonly id: string; readonly name: string; readonly input: JsonObject };

export const anthropicProvider: FakeProvider = {
  name: 'anthropic',
  path: '/v1/messages',
  requestIdHeader: 'request-id',
  rateLimitHeaders: {
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:01Z',
    'anthropic-ratelimit-tokens-remaining': '399000',
  },
  credentialName: 'x-api-key header or Authorization: Bearer token',

  /** `x-api-key`, or `Authorization: Bearer` (what @anthropic-ai/sdk >= 1.x sends for `apiKey`). */
  credential(headers: IncomingHttpHeaders): string | undefined {
    const key = headers['x-api-key'];
    return typeof key === 'string' && key !== '' ? key : bearerToken(headers);
  },

  invalid(body: JsonObject): string | undefined {
    if (typeof body.model !== 'string') return 'model: Field required';
    if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
    if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
    return undefined;
  },

  error(status: number, message?: string): JsonObject {
    const type = ERROR_TYPES[status] ?? 'api_error';
    return { type: 'error', error: { type, message: message ?? `fake upstream ${type} (HTTP ${status})` } };
  },

  reply(body: JsonObject): JsonObject {
    const answer = answerOf(body);
    const content = answer.kind === 'text'
      ? [{ type: 'text', text: answer.text }]
      : [{ type: 'tool_use', id: answer.id, name: answer.name, input: answer.input }];
    return {
      ...messageHead(body),
      content,
      stop_reason: answer.kind === 'text' ? 'end_turn' : 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: promptTokens(body), output_tokens: outputTokens(answer) },
    };
  },

  stream(body: JsonObject): StreamPlan {
    const answer = answerOf(body);
    const deltas = answer.kind === 'text'
      ? splitChunks(answer.text).map((text) => ({ type: 'text_delta', text }))
      : ['', ...splitChunks(JSON.stringify(answer.input))].map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    const block = answer.kind === 'text'
      ? { type: 'text', text: '' }
      : { type: 'tool_use', id: answer.id, name: answer.name, input: {} };
    const frames = [
      frame('message_start', {
        type: 'message_start',
        message: {
          ...messageHead(body),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: promptTokens(body), output_tokens: 1 },
        },
      }),
      frame('content_block_start', { type: 'content_block_start', index: 0, content_block: block }),
      frame('ping', { type: 'ping' }),
      ...deltas.map((delta) => frame('content_block_delta', { type: 'content_block_delta', index: 0, delta })),
      frame('content_block_stop', { type: 'content_block_stop', index: 0 }),
      frame('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: answer.kind === 'text' ? 'end_turn' : 'tool_use', stop_sequence: null },
        usage: { output_tokens: outputTokens(answer) },
      }),
      frame('message_stop', { type: 'message_stop' }),
    ];
    return { frames, cutAfter: 5 }; // message_start, content_block_start, ping, 2 deltas
  },
};

function frame(event: string, data: JsonObject): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function messageHead(body: JsonObject): JsonObject {
  return { id: newId('msg_'), type: 'message', role: 'assistant', model: body.model };
}

function outputTokens(answer: Answer): number {
  return tokenCount(answer.kind === 'text' ? answer.text : JSON.stringify(answer.input));
}

/** A `tool_use` answer when tools are offered and the last user text says "use tool"; else echo text. */
function answerOf(body: JsonObject): Answer {
  const text = lastUserText(body);
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const choice = isRecord(body.tool_choice) ? body.tool_choice : {};
  if (tools.length === 0 || choice.type === 'none' || !text.toLowerCase().includes('use tool')) {
    return { kind: 'text', text: answerFor(body) };
  }
  const tool = tools.find((t) => choice.type === 'tool' && t.name === choice.name) ?? tools[0];
  return { kind: 'tool', id: newId('toolu_'), name: String(tool.name), input: toolInput(tool.input_schema, text) };
}

/** Fills each schema property by type: strings get the user text, numbers 42, booleans true. */
function toolInput(schema: unknown, text: string): JsonObject {
  const properties = isRecord(schema) && isRecord(schema.properties) ? schema.properties : {};
  const input: JsonObject = {};
  for (const [key, prop] of Object.entries(properties)) {
    const type = isRecord(prop) ? prop.type : undefined;
    input[key] = type === 'number' || type === 'integer' ? 42
      : type === 'boolean' ? true
      : type === 'array' ? []
      : type === 'object' ? {}
      : text;
  }
  return input;
}
