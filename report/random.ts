/** Seeded randomness: a PRNG stream for the workload script, and pure hash-derived draws. */
import { createHash } from 'node:crypto';

/** mulberry32: a small, fast, seeded PRNG with uniform output in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` uniforms in (0, 1) that depend only on the parts (SHA-256 of them joined). */
export function hashUniforms(count: number, ...parts: readonly (string | number)[]): number[] {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  if (count > digest.length / 4) throw new Error(`hashUniforms: at most ${digest.length / 4} values`);
  return Array.from({ length: count }, (_, i) => (digest.readUInt32BE(i * 4) + 0.5) / 4294967296);
}

/** A standard normal from two uniforms in (0, 1) (Box–Muller). */
export function standardNormal(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Uniform in [min, max). */
export function between(random: () => number, min: number, max: number): number {
  return min + (max - min) * random();
}
