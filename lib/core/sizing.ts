import type { ServiceConfig } from '../../service/src/config/settings';

const MiB = 1024 ** 2;

/** Memory Node.js, express and ioredis take before any cache entry or request body. */
export const RUNTIME_BASELINE_BYTES = 256 * MiB;

/**
 * Bytes one service instance needs for a configuration: the in-memory cache bound
 * (`cacheMaxBytes`), one largest request body per concurrent request, and the runtime baseline.
 * Every target checks its memory limit against this at synth time.
 *
 * @param concurrentRequests requests one instance holds at once. @default config.maxConcurrentRequests
 */
export function requiredMemoryBytes(config: ServiceConfig, concurrentRequests: number = config.maxConcurrentRequests): number {
  return config.cacheMaxBytes + concurrentRequests * config.maxBodyBytes + RUNTIME_BASELINE_BYTES;
}

/** {@link requiredMemoryBytes} in whole MiB, rounded up. */
export function requiredMemoryMiB(config: ServiceConfig, concurrentRequests?: number): number {
  return Math.ceil(requiredMemoryBytes(config, concurrentRequests) / MiB);
}
