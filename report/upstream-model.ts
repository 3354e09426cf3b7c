/**
 * What the upstream does with one call: how long it takes, whether it answers 529 and which answer
 * it gives (the tag it appends, which differs from call to call for a sampled request). A pure
 * function of the seed, the request (path, model, messages) and how many times this upstream has
 * seen that request before, so every run draws the same for the same first-time question however
 * their calls interleave, and every repeat is a fresh draw.
 */
import { hashUniforms, standardNormal } from './random';
import { OVERLOAD_RATE, SEED, UPSTREAM_LATENCY } from './scenario';

export interface UpstreamDraw {
  readonly latencyMs: number;
  readonly overloaded: boolean;
}

export function upstreamDraw(requestKey: string, occurrence: number): UpstreamDraw {
  const [u1, u2, u3] = hashUniforms(3, SEED, 'upstream', requestKey, occurrence);
  const { medianSeconds, sigma, minSeconds, maxSeconds } = UPSTREAM_LATENCY;
  const seconds = Math.min(maxSeconds, Math.max(minSeconds, medianSeconds * Math.exp(sigma * standardNormal(u1, u2))));
  return { latencyMs: Math.round(seconds * 1000), overloaded: u3 < OVERLOAD_RATE };
}

/** The tags {@link answerTag} appends (as they appear in a JSON string). */
const ANSWER_TAGS = / \[answer [0-9a-f]{8}\]/g;

/**
 * The part of a request body the draw depends on (not the credential, not key order of extras, not
 * the temperature, not the tags of earlier answers in the conversation). So a conversation draws
 * the same whichever answers it got: a run at temperature 0, or a session that got another variant,
 * sees the same latencies and 529s as the others.
 */
export function requestKey(path: string, body: unknown): string {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return JSON.stringify([path, b.model ?? null, b.messages ?? null]).replace(ANSWER_TAGS, '');
}

/** A sampled request: no temperature (the API's default, 1, applies) or one above 0. */
export function isSampled(body: unknown): boolean {
  const temperature = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).temperature : undefined;
  return typeof temperature !== 'number' || temperature > 0;
}

/**
 * What the upstream appends to the fake's echo: a tag drawn from the seed and the request and, for a
 * sampled request, how many times this upstream has seen it (`occurrence`), so two calls for the
 * same sampled request answer differently while a deterministic one answers the same every time.
 * Fixed length, so every answer to a question has the same token count in every run, sampled or
 * not, and the runs' tokens and costs stay comparable.
 */
export function answerTag(requestKey: string, occurrence: number | undefined): string {
  const [u] = hashUniforms(1, SEED, 'answer', requestKey, occurrence ?? 'deterministic');
  return ` [answer ${Math.floor(u * 0x1_0000_0000).toString(16).padStart(8, '0')}]`;
}
