import type { ServiceConfig } from '../../service/src/config/settings';

const MiB = 1024 ** 2;

/** Memory Node.js, express and ioredis take before any cache entry or request body. */
export const RUNTIME_BASELINE_BYTES = 256 * MiB;

/**
 * Resident memory per byte of request body in flight: the body as received, the parsed request
 * and the canonical form the cache key hashes. `npm run bench` ("Resident memory with 100
 * concurrent 8 MB bodies" in BENCHMARKS.md) measures 2.0–2.4 × with all bodies admitted; 3 leaves
 * room for what rejected requests cost meanwhile.
 */
export const BODY_MEMORY_FACTOR = 3;

/**
 * Bytes one service instance needs at the least for a configuration: the in-memory cache bound
 * (`cacheMaxBytes`), one largest request body (`maxBodyBytes`, × {@link BODY_MEMORY_FACTOR}) and
 * the runtime baseline. Every target checks its memory limit against this at synth time; what its
 * limit holds beyond it becomes the body budget ({@link inflightBodyBudgetBytes}).
 */
export function requiredMemoryBytes(config: ServiceConfig): number {
  return config.cacheMaxBytes + BODY_MEMORY_FACTOR * config.maxBodyBytes + RUNTIME_BASELINE_BYTES;
}

/** {@link requiredMemoryBytes} in whole MiB, rounded up. */
export function requiredMemoryMiB(config: ServiceConfig): number {
  return Math.ceil(requiredMemoryBytes(config) / MiB);
}

/**
 * `TBO_MAX_INFLIGHT_BODY_BYTES` for an instance with `memoryBytes`: what the memory holds beyond
 * the cache and the runtime, divided by {@link BODY_MEMORY_FACTOR}, so bodies arriving together
 * are turned away (503) before they could run the instance out of memory.
 */
export function inflightBodyBudgetBytes(config: ServiceConfig, memoryBytes: number): number {
  return Math.max(config.maxBodyBytes, Math.floor((memoryBytes - config.cacheMaxBytes - RUNTIME_BASELINE_BYTES) / BODY_MEMORY_FACTOR));
}
