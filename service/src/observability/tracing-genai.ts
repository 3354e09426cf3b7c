/**
 * What a request and its answer say in the GenAI semantic conventions' terms: the operation, the
 * provider, the response id and finish reasons, and (only with TBO_TRACE_CONTENT) the messages in
 * the conventions' JSON form (`gen_ai.input.messages`, `gen_ai.output.messages`,
 * `gen_ai.system_instructions`), bounded in size. Part of the tracing bundle (loaded only when
 * tracing is on).
 */
import {
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from '@opentelemetry/semantic-conventions/incubating';
import type { Backend } from '../config/backends';
import { isObject, type Json } from '../protocols/types';

/** Characters of prompt or completion text one attribute holds at most (the rest is cut, and the span says so). */
export const MAX_CONTENT_CHARS = 16_384;

/** `gen_ai.operation.name` of a TBO endpoint; undefined for endpoints that are no GenAI operation (token counting, moderations). */
export function operationOf(endpoint: string): string | undefined {
  switch (endpoint) {
    case '/v1/messages':
    case '/v1/chat/completions':
    case '/v1/responses':
    case '/v1/collaborate':
      return GEN_AI_OPERATION_NAME_VALUE_CHAT;
    case '/v1/embeddings':
      return GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS;
    default:
      return undefined;
  }
}

/** `gen_ai.provider.name` of a backend. */
export function providerOf(backend: Backend): string {
  switch (backend) {
    case 'anthropic':
      return GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC;
    case 'openai':
      return GEN_AI_PROVIDER_NAME_VALUE_OPENAI;
    case 'bedrock':
      return GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK;
    case 'vertex':
    case 'vertex-openai':
      return GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI;
  }
}

/** An answer as JSON (the providers' response shapes, or the native endpoint's); undefined when it is none. */
export function parseAnswer(value: string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `gen_ai.response.id`: the message, completion or response id. */
export function responseIdOf(answer: Json): string | undefined {
  return str(answer.id);
}

/** `gen_ai.response.finish_reasons`: Anthropic's stop reason, each choice's finish reason, or why a response is incomplete. */
export function finishReasonsOf(answer: Json): string[] {
  const stop = str(answer.stop_reason);
  if (stop) return [stop];
  if (Array.isArray(answer.choices)) return answer.choices.flatMap((c) => (isObject(c) && typeof c.finish_reason === 'string' ? [c.finish_reason] : []));
  const incomplete = isObject(answer.incomplete_details) ? str(answer.incomplete_details.reason) : undefined;
  return incomplete ? [incomplete] : [];
}

/** Hands out at most `MAX_CONTENT_CHARS` characters of text across one attribute's parts. */
class Budget {
  private left = MAX_CONTENT_CHARS;
  truncated = false;

  take(text: string): string {
    if (text.length <= this.left) {
      this.left -= text.length;
      return text;
    }
    this.truncated = true;
    const kept = text.slice(0, Math.max(0, this.left));
    this.left = 0;
    return kept;
  }

  json(value: unknown): string {
    return this.take(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  }
}

type Part = Record<string, unknown>;
interface Message {
  role: string;
  parts: Part[];
  finish_reason?: string;
}

/** A text of a content block list or string (tool results), concatenated. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return list(content).map((b) => (isObject(b) ? (str(b.text) ?? '') : '')).join('');
}

/** One content block (Anthropic, OpenAI chat or Responses API) as a part; binary and media blocks keep only their type. */
function partOf(block: unknown, budget: Budget): Part | undefined {
  if (typeof block === 'string') return { type: 'text', content: budget.take(block) };
  if (!isObject(block)) return undefined;
  const type = str(block.type) ?? 'unknown';
  switch (type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return { type: 'text', content: budget.take(str(block.text) ?? '') };
    case 'thinking':
      return { type: 'reasoning', content: budget.take(str(block.thinking) ?? '') };
    case 'tool_use':
      return { type: 'tool_call', id: str(block.id), name: str(block.name), arguments: budget.json(block.input ?? {}) };
    case 'function_call':
      return { type: 'tool_call', id: str(block.call_id), name: str(block.name), arguments: budget.take(str(block.arguments) ?? '') };
    case 'tool_result':
      return { type: 'tool_call_response', id: str(block.tool_use_id), response: budget.take(textOf(block.content)) };
    case 'function_call_output':
      return { type: 'tool_call_response', id: str(block.call_id), response: budget.take(textOf(block.output)) };
    default:
      return { type };
  }
}

function partsOf(content: unknown, budget: Budget): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content: budget.take(content) }];
  return list(content).flatMap((b): Part[] => {
    const part = partOf(b, budget);
    return part ? [part] : [];
  });
}

/** A chat message (Anthropic, OpenAI chat, Responses API input item) in the conventions' form. */
function messageOf(m: unknown, budget: Budget): Message | undefined {
  if (!isObject(m)) return undefined;
  if (m.role === undefined) {
    // A Responses API item that is no message (a function call or its output).
    const part = partOf(m, budget);
    return part && { role: m.type === 'function_call_output' ? 'tool' : 'assistant', parts: [part] };
  }
  const role = str(m.role) ?? 'user';
  const parts = role === 'tool' ? [{ type: 'tool_call_response', id: str(m.tool_call_id), response: budget.take(textOf(m.content)) }] : partsOf(m.content, budget);
  for (const call of list(m.tool_calls)) {
    if (isObject(call) && isObject(call.function)) parts.push({ type: 'tool_call', id: str(call.id), name: str(call.function.name), arguments: budget.take(str(call.function.arguments) ?? '') });
  }
  return { role, parts };
}

/** The recorded form of some content: JSON text, and whether the bound cut it. */
export interface Content {
  readonly json: string;
  readonly truncated: boolean;
}

function recorded(value: unknown, budget: Budget): Content {
  return { json: JSON.stringify(value), truncated: budget.truncated };
}

/** `gen_ai.system_instructions` and `gen_ai.input.messages` of a request body (chat APIs only). */
export function inputContent(body: Readonly<Record<string, unknown>>): { readonly system: Content | undefined; readonly messages: Content | undefined } {
  const systemBudget = new Budget();
  const system = body.system ?? body.instructions;
  const systemParts = system === undefined || system === null ? [] : partsOf(system, systemBudget);
  const budget = new Budget();
  let messages: Message[] | undefined;
  if (Array.isArray(body.messages)) messages = body.messages.flatMap((m) => messageOf(m, budget) ?? []);
  else if (typeof body.input === 'string') messages = [{ role: 'user', parts: [{ type: 'text', content: budget.take(body.input) }] }];
  else if (Array.isArray(body.input)) messages = body.input.flatMap((m) => messageOf(m, budget) ?? []);
  return {
    system: systemParts.length ? recorded(systemParts, systemBudget) : undefined,
    messages: messages ? recorded(messages, budget) : undefined,
  };
}

/** `gen_ai.output.messages` of an answer: Anthropic's content, each chat choice, a response's output, or the native endpoint's text. */
export function outputContent(answer: Json): Content | undefined {
  const budget = new Budget();
  const reasons = finishReasonsOf(answer);
  let messages: Message[] | undefined;
  if (Array.isArray(answer.choices)) {
    messages = answer.choices.flatMap((c) => {
      if (!isObject(c)) return [];
      const m = messageOf(c.message, budget);
      return m ? [{ ...m, finish_reason: str(c.finish_reason) ?? '' }] : [];
    });
  } else if (Array.isArray(answer.output)) {
    const parts = answer.output.flatMap((item): Part[] => {
      if (isObject(item) && item.type === 'message') return partsOf(item.content, budget);
      const part = partOf(item, budget);
      return part ? [part] : [];
    });
    messages = [{ role: 'assistant', parts, finish_reason: reasons[0] ?? str(answer.status) ?? '' }];
  } else if (answer.content !== undefined) {
    messages = [{ role: 'assistant', parts: partsOf(answer.content, budget), finish_reason: reasons[0] ?? '' }];
  }
  return messages && recorded(messages, budget);
}
