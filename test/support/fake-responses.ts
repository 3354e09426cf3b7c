/**
 * OpenAI's Responses API for the fake upstream, in its wire format: `POST /v1/responses` as JSON or
 * as typed SSE events (`response.created`, `response.in_progress`, `response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta` …, `response.completed`, each with its
 * `sequence_number`), stored responses (`store` is true unless set to false, as in the API) that
 * `GET`, `DELETE`, `cancel` and `input_items` reach, and `previous_response_id` continuations.
 *
 * The answer is `echo: <last user input text>`; with `tools` and a last text containing "use tool" it
 * is a `function_call` of the first tool; `max_output_tokens` below the answer's tokens cuts it
 * (`status: "incomplete"`).
 */
import { openaiProvider } from './fake-openai';
import type { FakeEndpoint, FakeReply } from './fake-endpoints';
import type { StreamPlan } from './fake-upstream';
import { contentText, isRecord, newId, splitChunks, tokenCount, type JsonObject } from './fake-text';

export interface FakeResponses {
  readonly endpoints: readonly FakeEndpoint[];
  /** Ids of the stored responses, oldest first. */
  readonly ids: readonly string[];
  reset(): void;
}

interface Stored {
  readonly response: JsonObject;
  readonly input: readonly JsonObject[];
}

const PATH = '/v1/responses';
const ONE = /^\/v1\/responses\/([^/]+)$/;
const CANCEL = /^\/v1\/responses\/([^/]+)\/cancel$/;
const INPUT_ITEMS = /^\/v1\/responses\/([^/]+)\/input_items$/;

const error = (status: number, message: string, param: string | null = null, code: string | null = null): FakeReply => ({
  status,
  body: { error: { message, type: 'invalid_request_error', param, code } },
});
const notFound = (id: string): FakeReply => error(404, `No response found with id '${id}'.`);
const idIn = (pattern: RegExp, path: string): string => decodeURIComponent((pattern.exec(path) as RegExpExecArray)[1]);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The request's input as the API keeps it: message items with ids, text as `input_text` parts. */
function inputItems(input: unknown): JsonObject[] {
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input.filter(isRecord) : [];
  return items.map((item) => {
    if (item.type !== undefined && item.type !== 'message') return { id: newId('item_'), ...item };
    const content = typeof item.content === 'string' ? [{ type: 'input_text', text: item.content }] : item.content;
    return { id: newId('msg_'), type: 'message', role: item.role, status: 'completed', content };
  });
}

/** Text of the last user message: `input_text` (or `text`) parts, or a string. */
function lastUserText(items: readonly JsonObject[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item.role !== 'user') continue;
    const parts = Array.isArray(item.content) ? item.content.filter(isRecord).map((p) => (p.type === 'input_text' ? { type: 'text', text: p.text } : p)) : item.content;
    return contentText(parts);
  }
  return '';
}

function build(body: JsonObject, input: readonly JsonObject[]): JsonObject {
  const asked = lastUserText(input);
  const tool = Array.isArray(body.tools) && /use tool/i.test(asked) ? body.tools.filter(isRecord).find((t) => t.type === 'function') : undefined;
  let text = `echo: ${asked}`;
  const max = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined;
  const cut = !tool && max !== undefined && tokenCount(text) > max;
  if (cut) text = text.slice(0, max * 4);
  const output: JsonObject[] = tool
    ? [{ id: newId('fc_'), type: 'function_call', status: 'completed', arguments: JSON.stringify({ text: asked }), call_id: newId('call_'), name: tool.name }]
    : [{ id: newId('msg_'), type: 'message', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [], text }], role: 'assistant' }];
  const inputTokens = tokenCount(input.map((item) => contentText(Array.isArray(item.content) ? item.content.filter(isRecord).map((p) => ({ type: 'text', text: p.text })) : item.content)).join('\n'));
  const outputTokens = tokenCount(tool ? String(output[0].arguments) : text);
  const created = nowSeconds();
  return {
    id: newId('resp_'),
    object: 'response',
    created_at: created,
    status: cut ? 'incomplete' : 'completed',
    background: false,
    completed_at: cut ? null : created,
    error: null,
    incomplete_details: cut ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: max ?? null,
    max_tool_calls: null,
    model: body.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: body.tools ?? [],
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens },
    user: null,
    metadata: body.metadata ?? {},
  };
}

/** The live events of a response, as the API streams them (text and arguments in several deltas). */
function events(response: JsonObject): StreamPlan {
  const frames: string[] = [];
  let sequence = 0;
  let cutAfter = 0;
  const emit = (type: string, fields: JsonObject) => frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`);
  const started = { ...response, status: 'in_progress', completed_at: null, incomplete_details: null, output: [], usage: null };
  emit('response.created', { response: started });
  emit('response.in_progress', { response: started });
  (response.output as JsonObject[]).forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'function_call') {
      const args = String(item.arguments);
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of splitChunks(args)) emit('response.function_call_arguments.delta', { item_id, output_index, delta, obfuscation: 'Xy' });
      emit('response.function_call_arguments.done', { item_id, output_index, name: item.name, arguments: args });
    } else {
      const part = (item.content as JsonObject[])[0];
      const at = { item_id, output_index, content_index: 0 };
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
      splitChunks(String(part.text)).forEach((delta, i) => {
        emit('response.output_text.delta', { ...at, delta, logprobs: [], obfuscation: 'Xy' });
        if (i === 1) cutAfter = frames.length;
      });
      emit('response.output_text.done', { ...at, text: part.text, logprobs: [] });
      emit('response.content_part.done', { ...at, part });
    }
    emit('response.output_item.done', { output_index, item });
  });
  emit(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return { frames, cutAfter: cutAfter || 4 };
}

export function fakeResponses(): FakeResponses {
  const stored = new Map<string, Stored>();

  const create: FakeEndpoint = {
    provider: openaiProvider,
    method: 'POST',
    matches: (path) => path === PATH,
    invalid({ body }) {
      if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
      if (typeof body.input !== 'string' && !(Array.isArray(body.input) && body.input.length > 0)) return "Missing required parameter: 'input'.";
      return undefined;
    },
    reply({ body }) {
      const previous = body.previous_response_id;
      if (typeof previous === 'string' && !stored.has(previous)) {
        return error(400, `Previous response with id '${previous}' not found.`, 'previous_response_id', 'previous_response_not_found');
      }
      const input = inputItems(body.input);
      const response = build(body, input);
      if (body.store !== false) stored.set(response.id as string, { response, input });
      return body.stream === true ? { status: 200, stream: events(response) } : { status: 200, body: response };
    },
  };

  const retrieve: FakeEndpoint = {
    provider: openaiProvider,
    method: 'GET',
    matches: (path) => ONE.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const held = stored.get(idIn(ONE, path));
      return held ? { status: 200, body: held.response } : notFound(idIn(ONE, path));
    },
  };

  const remove: FakeEndpoint = {
    provider: openaiProvider,
    method: 'DELETE',
    matches: (path) => ONE.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const id = idIn(ONE, path);
      if (!stored.delete(id)) return notFound(id);
      return { status: 200, body: { id, object: 'response', deleted: true } };
    },
  };

  const cancel: FakeEndpoint = {
    provider: openaiProvider,
    method: 'POST',
    bodyless: true,
    matches: (path) => CANCEL.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const id = idIn(CANCEL, path);
      if (!stored.has(id)) return notFound(id);
      return error(400, 'Only responses created with background=true can be cancelled.');
    },
  };

  const items: FakeEndpoint = {
    provider: openaiProvider,
    method: 'GET',
    matches: (path) => INPUT_ITEMS.test(path),
    invalid: () => undefined,
    reply({ path }) {
      const held = stored.get(idIn(INPUT_ITEMS, path));
      if (!held) return notFound(idIn(INPUT_ITEMS, path));
      const data = [...held.input].reverse();
      return { status: 200, body: { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false } };
    },
  };

  return {
    endpoints: [create, retrieve, remove, cancel, items],
    get ids() {
      return [...stored.keys()];
    },
    reset() {
      stored.clear();
    },
  };
}
