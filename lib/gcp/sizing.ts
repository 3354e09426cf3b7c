import { RUNTIME_BASELINE_BYTES, requiredMemoryMiB } from '../core';

/** Memory Node.js, express and ioredis take before any cache entry or request body, MiB. */
export const RUNTIME_BASELINE_MIB = RUNTIME_BASELINE_BYTES / 1024 ** 2;

/** The memory a Cloud Run instance needs (the shared rule, with its container concurrency). */
export { requiredMemoryMiB };

/** Cloud Run's smallest memory limit for an instance with at least one whole vCPU. */
export const CLOUD_RUN_MIN_MEMORY_MIB = 512;

/** vCPU counts this construct accepts (whole CPUs: fractional CPUs force a concurrency of 1). */
export const CLOUD_RUN_CPUS = [1, 2, 4, 6, 8] as const;

/** Cloud Run's largest memory limit per vCPU count. */
export const CLOUD_RUN_MAX_MEMORY_MIB: Readonly<Record<(typeof CLOUD_RUN_CPUS)[number], number>> = {
  1: 4 * 1024,
  2: 8 * 1024,
  4: 16 * 1024,
  6: 24 * 1024,
  8: 32 * 1024,
};

/** A Cloud Run memory limit string: `2Gi` for whole GiB, `1536Mi` otherwise. */
export function memoryLimit(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}
