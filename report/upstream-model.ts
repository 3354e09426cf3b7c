/**
 * What the upstream does with one call: how long it takes and whether it answers 529. A pure
 * function of the seed, the request (path, model, messages) and how many times this upstream has
 * seen that request before, so both runs draw the same latency for the same first-time question
 * however their calls interleave, and every repeat is a fresh draw.
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

/** The part of a request body the draw depends on (not the credential, not key order of extras). */
export function requestKey(path: string, body: unknown): string {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return JSON.stringify([path, b.model ?? null, b.messages ?? null]);
}
