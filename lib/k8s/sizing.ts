/** Memory sizing of the gateway container: the shared rule from lib/core. */
export { RUNTIME_BASELINE_BYTES, requiredMemoryBytes } from '../core';
