/** OpenAI Chat Completions wire format (`POST /v1/chat/completions`) for the fake upstream. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FakeProvider, StreamPlan } from './fake-upstream';
import { answerFor, bearerToken, isRecord, lastUserText, newId, promptTokens, splitChunks, tokenCount, type JsonObject } from './fake-text';

const ERRORS: Readonly<Record<number, { readonly type: string; readonly code: string | null }>> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

/**
 * What the request asks for beyond plain text, each answered as the current API answers it, in
 * JSON and in the stream alike:
 * - `tools` and a last user text containing "use tool": a `tool_calls` answer (arguments streamed in pieces);
 * - `logprobs: true` (`top_logprobs: n`): per-token logprobs, one token per content chunk;
 * - `service_tier`: the tier that served it (`auto` → `default`) on the answer and on every chunk;
 * - `web_search_options`: `message.annotations` (a `url_citation`), streamed in a chunk of its own after the text.
 * Any of them also brings the full answer of today's API: `system_fingerprint` and usage details.
 */
interface Features {
  readonly toolCall: { readonly id: string; readonly name: string; readonly arguments: string } | undefined;
  readonly logprobs: boolean;
  readonly topLogprobs: number;
  readonly serviceTier: string | undefined;
  readonly webSearch: boolean;
  readonly full: boolean;
}

export const openaiProvider: FakeProvider = {
  name: 'openai',
  path: '/v1/chat/completions',
  requestIdHeader: 'x-request-id',
  rateLimitHeaders: {
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-reset-requests': '6ms',
    'openai-processing-ms': '42',
  },
  credentialName: 'Authorization: Bearer token',

  credential(headers: IncomingHttpHeaders): string | undefined {
    return bearerToken(headers);
  },

  invalid(body: JsonObject): string | undefined {
    if (typeof body.model !== 'string') return "you must provide a model parameter";
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return "Invalid 'messages': empty array. Expected an array with minimum length 1.";
    }
    return undefined;
  },

  error(status: number, message?: string): JsonObject {
    const { type, code } = ERRORS[status] ?? { type: 'server_error', code: null };
    return { error: { message: message ?? `fake upstream ${type} (HTTP ${status})`, type, param: null, code } };
  },

  reply(body: JsonObject): JsonObject {
    const f = featuresOf(body);
    const content = answerFor(body);
    const message: JsonObject = f.toolCall
      ? { role: 'assistant', content: null, tool_calls: [{ id: f.toolCall.id, type: 'function', function: { name: f.toolCall.name, arguments: f.toolCall.arguments } }], refusal: null }
      : { role: 'assistant', content, refusal: null, ...(f.webSearch ? { annotations: annotationsFor(content) } : {}) };
    const logprobs = f.logprobs && !f.toolCall ? { content: splitChunks(content).map((t, i) => logprobEntry(t, i, f.topLogprobs)), refusal: null } : null;
    return {
      id: newId('chatcmpl-'),
      object: 'chat.completion',
      created: nowSeconds(),
      model: body.model,
      choices: [{ index: 0, message, finish_reason: f.toolCall ? 'tool_calls' : 'stop', logprobs }],
      usage: usage(body, f.toolCall ? f.toolCall.arguments : content, f.full),
      ...topFields(f),
    };
  },

  stream(body: JsonObject): StreamPlan {
    const f = featuresOf(body);
    const content = answerFor(body);
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const head = { id: newId('chatcmpl-'), object: 'chat.completion.chunk', created: nowSeconds(), model: body.model, ...topFields(f) };
    const chunk = (delta: JsonObject, finishReason: string | null, logprobs: JsonObject | null = null): string =>
      data({
        ...head,
        choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
    const withLogprobs = f.logprobs && !f.toolCall;
    const answerChunks = f.toolCall
      ? [
          chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: f.toolCall.id, type: 'function', function: { name: f.toolCall.name, arguments: '' } }], refusal: null }, null),
          ...splitChunks(f.toolCall.arguments).map((piece) => chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null)),
        ]
      : [
          chunk({ role: 'assistant', content: '', refusal: null }, null, withLogprobs ? { content: [], refusal: null } : null),
          ...splitChunks(content).map((piece, i) => chunk({ content: piece }, null, withLogprobs ? { content: [logprobEntry(piece, i, f.topLogprobs)], refusal: null } : null)),
          ...(f.webSearch ? [chunk({ annotations: annotationsFor(content) }, null)] : []),
        ];
    const frames = [
      ...answerChunks,
      chunk({}, f.toolCall ? 'tool_calls' : 'stop'),
      ...(includeUsage ? [data({ ...head, choices: [], usage: usage(body, f.toolCall ? f.toolCall.arguments : content, f.full) })] : []),
      'data: [DONE]\n\n',
    ];
    return { frames, cutAfter: 3 }; // role chunk + 2 content chunks
  },
};

function featuresOf(body: JsonObject): Features {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const text = lastUserText(body);
  const fn = tools.map((t) => (isRecord(t.function) ? t.function : undefined)).find((x) => x !== undefined);
  const toolCall = fn && body.tool_choice !== 'none' && text.toLowerCase().includes('use tool')
    ? { id: newId('call_'), name: String(fn.name), arguments: JSON.stringify(argumentsFor(fn.parameters, text)) }
    : undefined;
  const logprobs = body.logprobs === true;
  const serviceTier = typeof body.service_tier === 'string' ? (body.service_tier === 'auto' ? 'default' : body.service_tier) : undefined;
  const webSearch = isRecord(body.web_search_options);
  return {
    toolCall,
    logprobs,
    topLogprobs: typeof body.top_logprobs === 'number' ? body.top_logprobs : 0,
    serviceTier,
    webSearch,
    full: toolCall !== undefined || logprobs || serviceTier !== undefined || webSearch,
  };
}

function topFields(f: Features): JsonObject {
  return {
    ...(f.serviceTier !== undefined ? { service_tier: f.serviceTier } : {}),
    ...(f.full ? { system_fingerprint: 'fp_fake0001' } : {}),
  };
}

/** A logprobs entry for one token; its alternatives are the token with a suffix. */
function logprobEntry(token: string, i: number, top: number): JsonObject {
  const entry = (t: string, logprob: number) => ({ token: t, logprob, bytes: [...Buffer.from(t, 'utf8')] });
  const logprob = -Math.round((0.01 + i / 100) * 1e6) / 1e6;
  return { ...entry(token, logprob), top_logprobs: Array.from({ length: top }, (_, k) => (k === 0 ? entry(token, logprob) : entry(`${token}~${k}`, logprob - k))) };
}

function annotationsFor(content: string): JsonObject[] {
  return [{ type: 'url_citation', url_citation: { start_index: 0, end_index: content.length, url: 'https://example.com/echo?utm_source=openai', title: 'Echo, the fake source' } }];
}

/** Fills each JSON-schema property by type: strings get the user text, numbers 42, booleans true. */
function argumentsFor(schema: unknown, text: string): JsonObject {
  const properties = isRecord(schema) && isRecord(schema.properties) ? schema.properties : {};
  const args: JsonObject = {};
  for (const [key, prop] of Object.entries(properties)) {
    const type = isRecord(prop) ? prop.type : undefined;
    args[key] = type === 'number' || type === 'integer' ? 42 : type === 'boolean' ? true : type === 'array' ? [] : type === 'object' ? {} : text;
  }
  return args;
}

function data(payload: JsonObject): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function usage(body: JsonObject, output: string, full: boolean): JsonObject {
  const prompt = promptTokens(body);
  const completion = tokenCount(output);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(full
      ? {
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        }
      : {}),
  };
}
