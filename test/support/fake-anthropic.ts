/** Anthropic Messages API wire format (`POST /v1/messages`) for the fake upstream. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FakeProvider, StreamPlan } from './fake-upstream';
import { answerFor, bearerToken, contentText, isRecord, lastUserText, newId, promptTokens, splitChunks, tokenCount, type JsonObject } from './fake-text';

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
    const f = featuresOf(body);
    const content = blocksOf(body, answer, f);
    return {
      ...messageHead(body),
      content,
      stop_reason: answer.kind === 'text' ? 'end_turn' : 'tool_use',
      stop_sequence: null,
      usage: usageOf(body, content, f, 'final'),
    };
  },

  stream(body: JsonObject): StreamPlan {
    const answer = answerOf(body);
    const f = featuresOf(body);
    const content = blocksOf(body, answer, f);
    const blocks = content.map((block, index) => blockFrames(block, index));
    blocks[0].splice(1, 0, frame('ping', { type: 'ping' })); // the API pings once, after the first content_block_start
    const frames = [
      frame('message_start', {
        type: 'message_start',
        message: {
          ...messageHead(body),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: usageOf(body, content, f, 'start'),
        },
      }),
      ...blocks.flat(),
      frame('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: answer.kind === 'text' ? 'end_turn' : 'tool_use', stop_sequence: null },
        usage: usageOf(body, content, f, 'delta'),
      }),
      frame('message_stop', { type: 'message_stop' }),
    ];
    return { frames, cutAfter: 5 }; // message_start, content_block_start, ping, 2 deltas
  },
};

/**
 * What the request asks for beyond plain text, each answered as the current API answers it, in
 * JSON and in the stream alike:
 * - `thinking: {type: "enabled"}`: a `thinking` block first (thinking_delta pieces, then a signature_delta);
 * - a `web_search_*` server tool: `server_tool_use` and `web_search_tool_result` blocks, then text
 *   with `citations` (streamed as citations_delta), and `usage.server_tool_use`;
 * - any of them, or `cache_control` anywhere in the request: today's full usage (cache tokens,
 *   `cache_creation`, `service_tier`), repeated cumulatively in `message_delta.usage` as the API does.
 */
interface Features {
  readonly thinking: boolean;
  readonly webSearch: boolean;
  readonly full: boolean;
}

function featuresOf(body: JsonObject): Features {
  const thinking = isRecord(body.thinking) && (body.thinking.type === 'enabled' || body.thinking.type === 'adaptive');
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const webSearch = tools.some((t) => typeof t.type === 'string' && t.type.startsWith('web_search'));
  return { thinking, webSearch, full: thinking || webSearch || JSON.stringify(body).includes('"cache_control"') };
}

const SOURCE = { url: 'https://example.com/echo', title: 'Echo, the fake source' };

/** The answer's content blocks, as the JSON answer holds them (the stream is derived from them). */
function blocksOf(body: JsonObject, answer: Answer, f: Features): JsonObject[] {
  const blocks: JsonObject[] = [];
  const text = lastUserText(body);
  if (f.thinking) blocks.push({ type: 'thinking', thinking: `Thinking about: ${text}`, signature: `EqQBCkYIBxgCKkA${newId('')}` });
  if (f.webSearch && answer.kind === 'text') {
    const id = newId('srvtoolu_');
    blocks.push({ type: 'server_tool_use', id, name: 'web_search', input: { query: text } });
    blocks.push({ type: 'web_search_tool_result', tool_use_id: id, content: [{ type: 'web_search_result', ...SOURCE, encrypted_content: `Eq${newId('')}`, page_age: 'April 30, 2025' }] });
    blocks.push({ type: 'text', text: answer.text, citations: [{ type: 'web_search_result_location', ...SOURCE, encrypted_index: `Eo${newId('')}`, cited_text: answer.text }] });
  } else if (answer.kind === 'text') {
    blocks.push({ type: 'text', text: answer.text });
  } else {
    blocks.push({ type: 'tool_use', id: answer.id, name: answer.name, input: answer.input });
  }
  return blocks;
}

/** One block as the stream sends it: its start with empty content, the deltas in pieces, its stop. */
function blockFrames(block: JsonObject, index: number): string[] {
  const start = (content_block: JsonObject) => frame('content_block_start', { type: 'content_block_start', index, content_block });
  const delta = (d: JsonObject) => frame('content_block_delta', { type: 'content_block_delta', index, delta: d });
  const frames: string[] = [];
  if (block.type === 'text') {
    frames.push(start({ type: 'text', text: '' }));
    for (const citation of Array.isArray(block.citations) ? block.citations : []) frames.push(delta({ type: 'citations_delta', citation }));
    frames.push(...splitChunks(String(block.text)).map((text) => delta({ type: 'text_delta', text })));
  } else if (block.type === 'thinking') {
    frames.push(start({ type: 'thinking', thinking: '', signature: '' }));
    frames.push(...splitChunks(String(block.thinking)).map((thinking) => delta({ type: 'thinking_delta', thinking })));
    frames.push(delta({ type: 'signature_delta', signature: block.signature }));
  } else if (block.type === 'tool_use' || block.type === 'server_tool_use') {
    frames.push(start({ ...block, input: {} }));
    frames.push(...['', ...splitChunks(JSON.stringify(block.input))].map((partial_json) => delta({ type: 'input_json_delta', partial_json })));
  } else {
    frames.push(start(block));
  }
  frames.push(frame('content_block_stop', { type: 'content_block_stop', index }));
  return frames;
}

/** Usage as the final answer, `message_start` or `message_delta` carries it. */
function usageOf(body: JsonObject, content: readonly JsonObject[], f: Features, where: 'final' | 'start' | 'delta'): JsonObject {
  const input = promptTokens(body);
  const output = content.reduce((n, b) => n + (b.type === 'text' ? tokenCount(String(b.text)) : b.type === 'thinking' ? tokenCount(String(b.thinking)) : b.type === 'tool_use' ? tokenCount(JSON.stringify(b.input)) : 0), 0);
  if (!f.full) return where === 'final' ? { input_tokens: input, output_tokens: output } : where === 'start' ? { input_tokens: input, output_tokens: 1 } : { output_tokens: output };
  const counters = {
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: body.system === undefined ? 0 : tokenCount(contentText(body.system)),
  };
  const serverTools = f.webSearch ? { server_tool_use: { web_search_requests: 1 } } : {};
  const startOnly = { cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, service_tier: 'standard' };
  if (where === 'start') return { ...counters, ...startOnly, output_tokens: 1 };
  if (where === 'delta') return { ...counters, output_tokens: output, ...serverTools };
  return { ...counters, ...startOnly, output_tokens: output, ...serverTools };
}

function frame(event: string, data: JsonObject): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function messageHead(body: JsonObject): JsonObject {
  return { id: newId('msg_'), type: 'message', role: 'assistant', model: body.model };
}

/** A `tool_use` answer when tools are offered and the last user text says "use tool"; else echo text. */
function answerOf(body: JsonObject): Answer {
  const text = lastUserText(body);
  // Client tools only: server tools (web search …) are answered by the API itself, see `blocksOf`.
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord).filter((t) => t.type === undefined || t.type === 'custom') : [];
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
