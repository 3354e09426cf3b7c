import { z } from 'zod';
import { openai } from './openai';
import { sseFrame, type SseFrame } from './sse';
import { isObject, num, type Json, type Protocol, type StreamAssembler } from './types';

/**
 * OpenAI's Responses API (`POST /v1/responses`): the request TBO validates, the final `response`
 * object, and its typed SSE events (`response.created` … `response.output_text.delta` …
 * `response.completed`, each with a `sequence_number`). Authentication, forwarded and passed headers
 * and the error shape are the OpenAI API's.
 */
const schema = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(z.looseObject({}))]).optional(),
  instructions: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  background: z.boolean().nullable().optional(),
  previous_response_id: z.string().min(1).max(256).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  tools: z.array(z.looseObject({})).optional(),
});

/** Terminal events that carry the final `response`. */
const FINAL_EVENTS: ReadonlySet<string> = new Set(['response.completed', 'response.incomplete']);
/** Events after which the stream holds no answer worth keeping. */
const FAILED_EVENTS: ReadonlySet<string> = new Set(['response.failed', 'error']);

function parseEvent(data: string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The final response of a Responses stream is the `response` of its `response.completed` (or
 * `response.incomplete`) event. Only those frames (and failures) are parsed: the API names every
 * event in its `event:` line.
 */
class ResponsesAssembler implements StreamAssembler {
  private final: Json | undefined;
  private failed = false;

  push(frame: SseFrame): boolean {
    if (this.failed) return false;
    const named = frame.event;
    if (named !== undefined && !FINAL_EVENTS.has(named) && !FAILED_EVENTS.has(named)) return false;
    const event = parseEvent(frame.data);
    const type = named ?? (typeof event?.type === 'string' ? event.type : undefined);
    if (type === undefined) return false;
    if (FAILED_EVENTS.has(type) || (FINAL_EVENTS.has(type) && !isObject(event?.response))) this.failed = true;
    else if (FINAL_EVENTS.has(type)) this.final = event?.response as Json;
    return false;
  }

  result(): string | undefined {
    return this.failed || !this.final ? undefined : JSON.stringify(this.final);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/**
 * The typed events that stream a final response, numbered from 0 as the API numbers them: the
 * response created and in progress (no output, no usage), each output item added, its parts and
 * their text as one delta each (output text with its logprobs and annotations, refusals, function
 * call arguments, reasoning summaries and text), each item done, and `response.completed` (or
 * `response.incomplete`) with the whole response.
 */
function replayEvents(response: Json): string {
  const frames: string[] = [];
  let sequence = 0;
  const emit = (type: string, fields: Json) => frames.push(sseFrame({ type, sequence_number: sequence++, ...fields }, type));
  const started: Json = { ...response, status: 'in_progress', output: [], usage: null };
  for (const field of ['completed_at', 'incomplete_details', 'error'] as const) if (field in response) started[field] = null;
  emit('response.created', { response: started });
  emit('response.in_progress', { response: started });
  objects(response.output).forEach((item, output_index) => {
    const item_id = item.id;
    const inProgress = 'status' in item ? { status: 'in_progress' } : {};
    switch (item.type) {
      case 'message':
        emit('response.output_item.added', { output_index, item: { ...item, ...inProgress, content: [] } });
        objects(item.content).forEach((part, content_index) => {
          const at = { item_id, output_index, content_index };
          if (part.type === 'output_text') {
            const text = str(part.text);
            const logprobs = Array.isArray(part.logprobs) ? part.logprobs : [];
            emit('response.content_part.added', { ...at, part: { ...part, text: '', annotations: [], ...('logprobs' in part ? { logprobs: [] } : {}) } });
            if (text) emit('response.output_text.delta', { ...at, delta: text, logprobs });
            objects(part.annotations).forEach((annotation, annotation_index) => emit('response.output_text.annotation.added', { ...at, annotation_index, annotation }));
            emit('response.output_text.done', { ...at, text, logprobs });
          } else if (part.type === 'refusal') {
            const refusal = str(part.refusal);
            emit('response.content_part.added', { ...at, part: { ...part, refusal: '' } });
            if (refusal) emit('response.refusal.delta', { ...at, delta: refusal });
            emit('response.refusal.done', { ...at, refusal });
          } else {
            emit('response.content_part.added', { ...at, part });
          }
          emit('response.content_part.done', { ...at, part });
        });
        break;
      case 'function_call': {
        const args = str(item.arguments);
        emit('response.output_item.added', { output_index, item: { ...item, ...inProgress, arguments: '' } });
        if (args) emit('response.function_call_arguments.delta', { item_id, output_index, delta: args });
        emit('response.function_call_arguments.done', { item_id, output_index, ...(item.name !== undefined ? { name: item.name } : {}), arguments: args });
        break;
      }
      case 'reasoning': {
        const content = objects(item.content);
        emit('response.output_item.added', { output_index, item: { ...item, ...inProgress, summary: [], ...(Array.isArray(item.content) ? { content: [] } : {}) } });
        objects(item.summary).forEach((part, summary_index) => {
          const at = { item_id, output_index, summary_index };
          const text = str(part.text);
          emit('response.reasoning_summary_part.added', { ...at, part: { ...part, text: '' } });
          if (text) emit('response.reasoning_summary_text.delta', { ...at, delta: text });
          emit('response.reasoning_summary_text.done', { ...at, text });
          emit('response.reasoning_summary_part.done', { ...at, part });
        });
        content.forEach((part, content_index) => {
          const at = { item_id, output_index, content_index };
          const text = str(part.text);
          emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
          if (text) emit('response.reasoning_text.delta', { ...at, delta: text });
          emit('response.reasoning_text.done', { ...at, text });
          emit('response.content_part.done', { ...at, part });
        });
        break;
      }
      default:
        emit('response.output_item.added', { output_index, item: { ...item, ...inProgress } });
        break;
    }
    emit('response.output_item.done', { output_index, item });
  });
  emit(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return frames.join('');
}

/** The Responses API: OpenAI's authentication, headers and errors; its own path, request, answer and events. */
export const responses: Protocol = {
  ...openai,
  upstreamPath: '/responses',
  schema,

  parse(body) {
    return { body, model: String(body.model), stream: body.stream === true, includeUsage: false };
  },

  upstreamBody(_request, raw) {
    return raw;
  },

  // The API's default temperature is 1: a request that does not set it is sampled.
  sampled(body) {
    return typeof body.temperature !== 'number' || body.temperature > 0;
  },

  /** A finished response: completed, or incomplete (a `max_output_tokens` cut is that request's answer). */
  isAnswer(body) {
    return body.object === 'response' && Array.isArray(body.output) && (body.status === 'completed' || body.status === 'incomplete');
  },

  newAssembler: () => new ResponsesAssembler(),

  synthesizeStream(finalBody) {
    return replayEvents(JSON.parse(finalBody) as Json);
  },

  usage(body) {
    if (!isObject(body.usage)) return undefined;
    return { input: num(body.usage.input_tokens), output: num(body.usage.output_tokens) };
  },

  text(body) {
    return objects(body.output)
      .filter((item) => item.type === 'message')
      .flatMap((item) => objects(item.content))
      .map((part) => (part.type === 'output_text' ? str(part.text) : ''))
      .join('');
  },

  textDelta(frame) {
    if (frame.event !== undefined && frame.event !== 'response.output_text.delta') return undefined;
    const event = parseEvent(frame.data);
    return event?.type === 'response.output_text.delta' && typeof event.delta === 'string' && event.delta ? event.delta : undefined;
  },

  buildRequest(c) {
    const instructions = c.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    return {
      model: c.model,
      max_output_tokens: c.maxTokens,
      ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
      ...(instructions ? { instructions } : {}),
      input: c.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
      store: false,
      ...(c.stream ? { stream: true } : {}),
    };
  },

  /**
   * The API's `error` event, with the error object too: typed consumers see `type: "error"`, and the
   * SDK's stream reader throws an APIError for a frame that carries `error`.
   */
  streamErrorFrame(kind, message) {
    const { error } = openai.errorBody(kind, message);
    const code = isObject(error) ? (error.code ?? null) : null;
    return sseFrame({ type: 'error', code, message, param: null, error }, 'error');
  },
};
