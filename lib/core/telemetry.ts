/**
 * Trace export, as every target renders it: the service is configured only by the standard
 * OpenTelemetry environment variables, so the targets differ only in where the collector is (a
 * sidecar on localhost, or an existing collector the user names).
 */
import type { PropValidator } from './validate';

/** The OTLP/HTTP port collectors listen on by convention (receiver `otlp`, protocol `http`). */
export const OTLP_HTTP_PORT = 4318;

/** Where a collector sidecar listens, from the gateway container in the same task/pod/instance. */
export const SIDECAR_OTLP_ENDPOINT = `http://localhost:${OTLP_HTTP_PORT}`;

/** Default share of new traces sampled (a client's sampled `traceparent` is always followed). */
export const DEFAULT_TRACE_SAMPLING_RATIO = 0.1;

/** Trace settings every construct accepts (`tracing` prop); each target adds its own collector option. */
export interface TboTracingOptions {
  /**
   * OTLP/HTTP endpoint of an existing OpenTelemetry collector (`OTEL_EXPORTER_OTLP_ENDPOINT`),
   * e.g. `http://otel-collector.observability:4318`.
   * @default - the target's collector sidecar when enabled, else no tracing
   */
  readonly otlpEndpoint?: string;
  /**
   * Share of new traces recorded, 0–1 (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`).
   * @default 0.1
   */
  readonly samplingRatio?: number;
}

/**
 * The `OTEL_*` environment of the gateway container: empty (tracing off) without an endpoint.
 * @param serviceName the service name spans carry (`OTEL_SERVICE_NAME`)
 * @param endpoint the collector's OTLP/HTTP base URL (no `/v1/traces`)
 */
export function tracingEnvironment(serviceName: string, endpoint: string | undefined, samplingRatio = DEFAULT_TRACE_SAMPLING_RATIO): Record<string, string> {
  if (!endpoint) return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: serviceName,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(samplingRatio),
  };
}

/**
 * Synth-time checks of {@link TboTracingOptions} every target shares: the endpoint is an http(s)
 * URL, the ratio in 0–1. Each problem is recorded on `v`, naming the prop under `propPath` and the
 * accepted values; targets add their own checks (a collector sidecar, a required endpoint) to the same `v`.
 */
export function validateTracing(v: PropValidator, options: TboTracingOptions | undefined, propPath = 'tracing'): void {
  if (!options) return;
  const { otlpEndpoint, samplingRatio } = options;
  if (otlpEndpoint !== undefined && !otlpEndpoint.startsWith('${')) {
    v.check(/^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(otlpEndpoint), `${propPath}.otlpEndpoint`, otlpEndpoint,
      `must be an http:// or https:// URL (the collector's OTLP/HTTP base, e.g. http://otel-collector.observability:${OTLP_HTTP_PORT})`);
  }
  if (samplingRatio !== undefined) v.check(samplingRatio >= 0 && samplingRatio <= 1, `${propPath}.samplingRatio`, samplingRatio, 'must be a number from 0 to 1');
}
