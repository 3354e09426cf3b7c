/**
 * Where the gateway's telemetry goes on Kubernetes: the `OTEL_*` environment of an existing
 * collector (lib/core's `tracingEnvironment`), and the NetworkPolicy egress each telemetry endpoint
 * needs: the OTLP collector (`tracing`), the Pushgateway (`config.prometheusGateway`) and Sentry
 * (`SENTRY_DSN`, a Secret key).
 */
import { DEFAULT_TRACE_SAMPLING_RATIO, OTLP_HTTP_PORT, tracingEnvironment, type ServiceConfig } from '../core';
import type { TboEgressDestination, TboKubernetesServiceProps, TboNetworkPeer } from './props';

/** HTTPS: Sentry's ingest endpoints (sentry.io and self-hosted behind TLS). */
const HTTPS_PORT = 443;

/** One endpoint the gateway sends telemetry to, as its NetworkPolicy egress sees it. */
export interface TelemetryEgress {
  /** The prop that names the endpoint's destination (for messages and docs). */
  readonly prop: string;
  /** Port the receiving pods listen on. */
  readonly port: number;
  /** The pods or addresses it reaches; undefined: any address (as for the model APIs). */
  readonly peer?: TboNetworkPeer;
}

/** Tracing and the egress of every telemetry endpoint, resolved. */
export interface TelemetryPlan {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`, when tracing is on. */
  readonly otlpEndpoint?: string;
  readonly samplingRatio: number;
  readonly egress: readonly TelemetryEgress[];
}

/** `<service>.<namespace>.svc`, optionally `.cluster.local`: a Service, whose pods live in `<namespace>`. */
const CLUSTER_SERVICE_HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?\.?$/;

/**
 * The peer a URL's host names when it is a cluster Service name (`otel-collector.observability.svc`):
 * every pod of its namespace (a Service selects pods of its own namespace only). Undefined for any
 * other host: a short name or an outside address could be anywhere.
 */
export function clusterServicePeer(host: string): TboNetworkPeer | undefined {
  const match = CLUSTER_SERVICE_HOST.exec(host.toLowerCase());
  return match ? { namespaceLabels: { 'kubernetes.io/metadata.name': match[2] } } : undefined;
}

function parse(url: string | undefined): URL | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * The egress to an endpoint URL: the given destination's peer and port, else the peer derived from
 * the URL's host ({@link clusterServicePeer}) and the URL's port (80 / 443 by scheme without one);
 * `fallbackPort` when the URL is not known at synth (a deploy-time token).
 */
export function endpointEgress(prop: string, url: string | undefined, given: TboEgressDestination | undefined, fallbackPort: number): TelemetryEgress {
  const parsed = parse(url);
  const urlPort = parsed && Number(parsed.port || (parsed.protocol === 'https:' ? HTTPS_PORT : 80));
  const peer = given?.peer ?? (parsed ? clusterServicePeer(parsed.hostname) : undefined);
  return { prop, port: given?.port ?? urlPort ?? fallbackPort, ...(peer && { peer }) };
}

/**
 * Resolves `tracing`, the Pushgateway and Sentry destinations (props validated first). Sentry's egress
 * is there whenever the pods read `SENTRY_DSN` (`readsSentryDsn`): with a referenced Secret the key is
 * optional and may be filled at any time, so the construct cannot know whether it is set.
 */
export function resolveTelemetry(props: TboKubernetesServiceProps, config: ServiceConfig, readsSentryDsn: boolean): TelemetryPlan {
  const egress: TelemetryEgress[] = [];
  const otlpEndpoint = props.tracing?.otlpEndpoint;
  if (otlpEndpoint !== undefined) egress.push(endpointEgress('tracing.collector', otlpEndpoint, props.tracing?.collector, OTLP_HTTP_PORT));
  const np = props.networkPolicy || undefined;
  if (config.prometheusGateway !== undefined) egress.push(endpointEgress('networkPolicy.pushgateway', config.prometheusGateway, np?.pushgateway, 80));
  if (readsSentryDsn) egress.push(endpointEgress('networkPolicy.sentry', props.secrets?.values?.sentryDsn, np?.sentry, HTTPS_PORT));
  return { otlpEndpoint, samplingRatio: props.tracing?.samplingRatio ?? DEFAULT_TRACE_SAMPLING_RATIO, egress };
}

/** The gateway container's `OTEL_*` variables: none without an endpoint. */
export function tracingEnv(telemetry: TelemetryPlan, serviceName: string): Record<string, string> {
  return tracingEnvironment(serviceName, telemetry.otlpEndpoint, telemetry.samplingRatio);
}
