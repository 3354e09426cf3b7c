/**
 * The tracing bundle (dist/optional-tracing.js): the OpenTelemetry SDK and TBO's spans on it.
 * Loaded by `startTracing` (observability/tracing.ts) through `loadOptional('tracing')`, only when
 * an OTLP endpoint is configured.
 */
export { createSdkTracing as createTracing } from '../observability/tracing-sdk';
