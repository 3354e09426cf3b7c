/** OpenAI Chat Completions wire format (`POST /v1/chat/completions`) for the fake upstream. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FakeProvider, StreamPlan } from './fake-upstream';
import { answerFor, bearerToken, isRecord, newId, promptTokens, splitChunks, tokenCount, type JsonObject } from './fake-text';

const ERRORS: Readonly<Record<number, { readonly type: string; readonly code: string | null }>> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

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
    const content = answerFor(body);
    return {
      id: newId('chatcmpl-'),
      object: 'chat.completion',
      created: nowSeconds(),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: usage(body, content),
    };
  },

  stream(body: JsonObject): StreamPlan {
    const content = answerFor(body);
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const head = { id: newId('chatcmpl-'), object: 'chat.completion.chunk', created: nowSeconds(), model: body.model };
    const chunk = (delta: JsonObject, finishReason: string | null): string =>
      data({
        ...head,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
    const frames = [
      chunk({ role: 'assistant', content: '', refusal: null }, null),
      ...splitChunks(content).map((piece) => chunk({ content: piece }, null)),
      chunk({}, 'stop'),
      ...(includeUsage ? [data({ ...head, choices: [], usage: usage(body, content) })] : []),
      'data: [DONE]\n\n',
    ];
    return { frames, cutAfter: 3 }; // role chunk + 2 content chunks
  },
};

function data(payload: JsonObject): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function usage(body: JsonObject, content: string): JsonObject {
  const prompt = promptTokens(body);
  const completion = tokenCount(content);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
