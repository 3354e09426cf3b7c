/**
 * Where a run sends its turns: TBO's `POST /v1/collaborate` (with `context.session_id`, and the
 * run's temperature if it has one), or the upstream's `POST /v1/messages` directly, with the same
 * model, messages and max_tokens.
 */
import { CLIENT_TIMEOUT_MS, MAX_TOKENS, MODEL } from './scenario';

/** `direct`, or the label of a TBO run (scenario.ts `TBO_RUNS`). */
export type RunName = string;

export const DIRECT: RunName = 'direct';

export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** TBO's per-session numbers as it reported them in `bandwidth_metrics`. */
export interface TboBandwidth {
  readonly turns: number;
  readonly turnsPerSecond: number;
  readonly secondsPerTurn: number;
  readonly degradation: number;
}

export interface Reply {
  readonly ok: boolean;
  readonly status: number;
  readonly content?: string;
  readonly usage?: { readonly input: number; readonly output: number };
  /** `x-tbo-cache` (TBO run). */
  readonly cache?: string;
  /** `usage.cost_usd` (TBO run). */
  readonly costUsd?: number | null;
  readonly bandwidth?: TboBandwidth;
  /** `optimization_applied` (TBO run), e.g. "cache_hit", "coalesced", "retried". */
  readonly applied?: readonly string[];
  readonly error?: string;
}

export interface Target {
  readonly name: RunName;
  send(sessionId: string, messages: readonly ChatMessage[]): Promise<Reply>;
}

type Json = Record<string, unknown>;

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; json: Json | undefined; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
  const text = await res.text();
  let json: Json | undefined;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function failure(err: unknown): Reply {
  return { ok: false, status: 0, error: err instanceof Error ? err.message : String(err) };
}

/** `temperature`: sent in every request when set; without it the request is sampled (the API's default). */
export function tboTarget(name: RunName, baseUrl: string, clientKey: string, temperature?: number): Target {
  return {
    name,
    async send(sessionId, messages) {
      try {
        const r = await post(`${baseUrl}/v1/collaborate`, { authorization: `Bearer ${clientKey}` }, {
          messages,
          max_tokens: MAX_TOKENS,
          ...(temperature === undefined ? {} : { temperature }),
          context: { session_id: sessionId, complexity: 1 },
        });
        const cache = r.headers.get('x-tbo-cache') ?? undefined;
        if (r.status !== 200 || !r.json) return { ok: false, status: r.status, cache, error: r.text.slice(0, 300) };
        const usage = r.json.usage as { input_tokens: number; output_tokens: number; cost_usd: number | null };
        const b = r.json.bandwidth_metrics as { turns: number; turns_per_second: number; seconds_per_turn: number; bandwidth_degradation: number };
        return {
          ok: true,
          status: r.status,
          content: String(r.json.content),
          usage: { input: usage.input_tokens, output: usage.output_tokens },
          costUsd: usage.cost_usd,
          cache,
          applied: Array.isArray(r.json.optimization_applied) ? (r.json.optimization_applied as string[]) : [],
          bandwidth: { turns: b.turns, turnsPerSecond: b.turns_per_second, secondsPerTurn: b.seconds_per_turn, degradation: b.bandwidth_degradation },
        };
      } catch (err) {
        return failure(err);
      }
    },
  };
}

export function directTarget(upstreamUrl: string, apiKey: string): Target {
  return {
    name: DIRECT,
    async send(_sessionId, messages) {
      try {
        const r = await post(`${upstreamUrl}/v1/messages`, { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' }, { model: MODEL, max_tokens: MAX_TOKENS, messages });
        if (r.status !== 200 || !r.json) return { ok: false, status: r.status, error: r.text.slice(0, 300) };
        const content = (r.json.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('');
        const usage = r.json.usage as { input_tokens: number; output_tokens: number };
        return { ok: true, status: r.status, content, usage: { input: usage.input_tokens, output: usage.output_tokens } };
      } catch (err) {
        return failure(err);
      }
    },
  };
}
