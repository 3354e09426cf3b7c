/** Synth-time checks of `tracing` and the telemetry endpoints' egress destinations. */
import { OTLP_HTTP_PORT, validateTracing, type PropValidator, type ServiceConfig } from '../core';
import type { TboEgressDestination, TboKubernetesServiceProps } from './props';
import { validatePeer } from './validate-common';

function validateDestination(v: PropValidator, prop: string, given: TboEgressDestination | undefined): void {
  if (!given) return;
  if (given.peer) validatePeer(v, `${prop}.peer`, given.peer);
  v.integer(`${prop}.port`, given.port, 1, 65535);
}

/** `tracing` (lib/core's checks, plus the endpoint Kubernetes needs), and the telemetry endpoints' destinations. */
export function validateTelemetry(v: PropValidator, props: TboKubernetesServiceProps, config: ServiceConfig): void {
  const tracing = props.tracing;
  if (tracing) {
    validateTracing(v, tracing);
    v.check(tracing.otlpEndpoint !== undefined, 'tracing.otlpEndpoint', tracing.otlpEndpoint,
      `required on Kubernetes (there is no collector sidecar): the OTLP/HTTP base URL of your collector, e.g. http://otel-collector.observability.svc:${OTLP_HTTP_PORT}`);
    validateDestination(v, 'tracing.collector', tracing.collector);
  }
  const np = props.networkPolicy || undefined;
  validateDestination(v, 'networkPolicy.pushgateway', np?.pushgateway);
  validateDestination(v, 'networkPolicy.sentry', np?.sentry);
  if (np?.pushgateway) {
    v.check(config.prometheusGateway !== undefined, 'networkPolicy.pushgateway', np.pushgateway, 'only applies with config.prometheusGateway (the Pushgateway URL the service pushes to); set it, or drop networkPolicy.pushgateway');
  }
}
