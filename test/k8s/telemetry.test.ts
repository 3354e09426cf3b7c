/**
 * Observability on Kubernetes (issue 15): OpenTelemetry traces to an existing collector (`tracing`),
 * the Pushgateway (`config.prometheusGateway`) and Sentry (`SENTRY_DSN`), each with the gateway's
 * NetworkPolicy egress it needs, and the synth-time checks.
 */
import 'cdktf/lib/testing/adapters/jest';
import { TerraformVariable, Testing } from 'cdktf';
import { OTLP_HTTP_PORT, tracingEnvironment } from '../../lib/core';
import { clusterServicePeer, TboKubernetesService, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth } from './support/manifest';
import { blockOf, N, NAME, synthProblems, synthService } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

type Rule = { to?: unknown[]; ports: { port: string; protocol: string }[] };
const egress = (json: string) => (blockOf(json, 'kubernetes_network_policy_v1', 'GatewayPolicy').spec as { egress: Rule[] }).egress;
/** The rule that opens ports to any address (the model APIs'). */
const anywhere = (json: string) => egress(json).filter((r) => r.to === undefined).flatMap((r) => r.ports.map((p) => p.port));
/** Rules with destinations, other than DNS and Redis. */
const toPeers = (json: string) => egress(json).filter((r) => r.to !== undefined && !r.ports.some((p) => p.port === '53' || p.port === '6379'));
const env = (json: string) =>
  Object.fromEntries(
    (blockOf(json, 'kubernetes_deployment_v1') as { spec: { template: { spec: { container: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.container[0].env
      .filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value]),
  );
const inNamespace = (name: string) => ({ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': name } } });
const tcp = (port: number) => [{ port: String(port), protocol: 'TCP' }];

const problems = synthProblems;

/** Base URLs on a port other than 443, so only what the telemetry adds opens 443. */
const NO_HTTPS_UPSTREAM = { anthropicBaseUrl: 'http://llm-proxy.internal:8080', openaiBaseUrl: 'http://llm-proxy.internal:8080/v1' };

describe('tracing: OTLP/HTTP to a collector in the cluster', () => {
  const endpoint = `http://otel-collector.observability.svc:${OTLP_HTTP_PORT}`;
  let json: string;
  beforeAll(() => {
    json = synthService({ tracing: { otlpEndpoint: endpoint, samplingRatio: 0.25 }, config: { traceContent: true } });
  });

  it('gives the gateway the standard OTEL_* variables from lib/core, with the instance\'s service name', () => {
    expect(env(json)).toMatchObject(tracingEnvironment(NAME, endpoint, 0.25));
    expect(env(json)).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: NAME, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', TBO_TRACE_CONTENT: 'true' });
  });

  it('lets the gateway reach the collector\'s namespace on the endpoint\'s port, and nothing else more', () => {
    expect(toPeers(json)).toEqual([{ to: [inNamespace('observability')], ports: tcp(OTLP_HTTP_PORT) }]);
    expect(anywhere(json)).toEqual(['443']);
  });

  it('the policy is valid for kubernetes-models', () => {
    const policy = manifestsFromSynth(json).find((m) => m.manifest.kind === 'NetworkPolicy' && m.manifest.metadata.name === N.service)!;
    expect(() => validateManifest(policy.manifest)).not.toThrow();
  });
});

describe('tracing: where the collector is', () => {
  it('default sampling ratio 0.1; no tracing, no OTEL_* variables and no collector egress', () => {
    expect(env(synthService({ tracing: { otlpEndpoint: 'http://otel.observability.svc.cluster.local:4318' } }))).toMatchObject({ OTEL_TRACES_SAMPLER_ARG: '0.1' });
    const plain = synthService();
    expect(Object.keys(env(plain)).filter((k) => k.startsWith('OTEL_'))).toEqual([]);
    expect(toPeers(plain)).toEqual([]);
  });

  it('derives the namespace only from a cluster Service name; any other host is opened by port, like the model APIs', () => {
    expect(clusterServicePeer('otel-collector.observability.svc')).toEqual({ namespaceLabels: { 'kubernetes.io/metadata.name': 'observability' } });
    expect(clusterServicePeer('otel.tracing.svc.cluster.local')).toEqual({ namespaceLabels: { 'kubernetes.io/metadata.name': 'tracing' } });
    for (const host of ['otel-collector', 'otel.example.com', 'otel-collector.observability', '10.0.0.7']) expect(clusterServicePeer(host)).toBeUndefined();
    const outside = synthService({ tracing: { otlpEndpoint: 'https://otlp.example.com' }, config: NO_HTTPS_UPSTREAM, redis: false });
    expect(toPeers(outside)).toEqual([]);
    expect(anywhere(outside)).toEqual(['443', '8080']);
  });

  it('collector.peer and collector.port name the pods and the port they listen on (a Service may map 80 to 4318)', () => {
    const json = synthService({
      tracing: { otlpEndpoint: 'http://otel-collector.observability.svc', collector: { peer: { namespaceLabels: { team: 'o11y' }, podLabels: { app: 'otel-collector' } }, port: 4318 } },
    });
    expect(toPeers(json)).toEqual([{ to: [{ namespace_selector: { match_labels: { team: 'o11y' } }, pod_selector: { match_labels: { app: 'otel-collector' } } }], ports: tcp(4318) }]);
  });

  it('an endpoint known only at deploy (a token) uses the OTLP/HTTP port', () => {
    const json = Testing.synthScope((scope) => {
      const endpoint = new TerraformVariable(scope, 'otlp', { type: 'string' }).stringValue;
      new TboKubernetesService(scope, 'Tbo', { image: 'i', tracing: { otlpEndpoint: endpoint } });
    });
    expect(anywhere(json)).toEqual(['443', String(OTLP_HTTP_PORT)]);
    expect(env(json).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('${var.otlp}');
  });
});

describe('Pushgateway (config.prometheusGateway)', () => {
  it('sets PROMETHEUS_GATEWAY and lets the gateway reach it: its namespace for a cluster Service, by port otherwise', () => {
    const inCluster = synthService({ config: { prometheusGateway: 'http://pushgateway.monitoring.svc:9091' } });
    expect(env(inCluster).PROMETHEUS_GATEWAY).toBe('http://pushgateway.monitoring.svc:9091');
    expect(toPeers(inCluster)).toEqual([{ to: [inNamespace('monitoring')], ports: tcp(9091) }]);
    const outside = synthService({ config: { prometheusGateway: 'https://push.example.com', ...NO_HTTPS_UPSTREAM }, redis: false });
    expect(anywhere(outside)).toEqual(['443', '8080']);
  });

  it('networkPolicy.pushgateway names its pods', () => {
    const json = synthService({ config: { prometheusGateway: 'http://pushgateway.monitoring.svc:9091' }, networkPolicy: { pushgateway: { peer: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { app: 'pushgateway' } } } } });
    expect(toPeers(json)).toEqual([{ to: [{ ...inNamespace('monitoring'), pod_selector: { match_labels: { app: 'pushgateway' } } }], ports: tcp(9091) }]);
  });

  it('a collector and a Pushgateway in one namespace on one port share one rule', () => {
    const json = synthService({ tracing: { otlpEndpoint: 'http://otel.monitoring.svc:9091' }, config: { prometheusGateway: 'http://pushgateway.monitoring.svc:9091' } });
    expect(toPeers(json)).toEqual([{ to: [inNamespace('monitoring')], ports: tcp(9091) }]);
  });
});

describe('Sentry (SENTRY_DSN, Secret key sentry-dsn)', () => {
  it('HTTPS stays open for it by default, also when no model API uses 443', () => {
    expect(anywhere(synthService({ config: NO_HTTPS_UPSTREAM, redis: false }))).toEqual(['443', '8080']);
  });

  it('not when the Secret is created from values without a DSN: the pods do not read one', () => {
    const values = { jwtSecretKey: 'j'.repeat(32) };
    expect(anywhere(synthService({ config: NO_HTTPS_UPSTREAM, redis: false, secrets: { values } }))).toEqual(['8080']);
    expect(anywhere(synthService({ config: NO_HTTPS_UPSTREAM, redis: false, secrets: { values: { ...values, sentryDsn: 'http://key@sentry.sentry.svc:9000/1' } } }))).toEqual(['8080']);
    expect(toPeers(synthService({ config: NO_HTTPS_UPSTREAM, redis: false, secrets: { values: { ...values, sentryDsn: 'http://key@sentry.sentry.svc:9000/1' } } }))).toEqual([
      { to: [inNamespace('sentry')], ports: tcp(9000) },
    ]);
  });

  it('networkPolicy.sentry: a self-hosted Sentry (the DSN itself is secret, so the construct cannot read it)', () => {
    const json = synthService({ config: NO_HTTPS_UPSTREAM, redis: false, networkPolicy: { sentry: { peer: { namespaceLabels: { 'kubernetes.io/metadata.name': 'sentry' } }, port: 9000 } } });
    expect(toPeers(json)).toEqual([{ to: [inNamespace('sentry')], ports: tcp(9000) }]);
    expect(anywhere(json)).toEqual(['8080']);
  });
});

describe('without NetworkPolicies', () => {
  it('the variables are set all the same', () => {
    const json = synthService({ networkPolicy: false, tracing: { otlpEndpoint: 'http://otel.observability.svc:4318' }, config: { prometheusGateway: 'http://pushgateway.monitoring.svc:9091' } });
    expect(env(json)).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel.observability.svc:4318', PROMETHEUS_GATEWAY: 'http://pushgateway.monitoring.svc:9091' });
  });
});

describe('telemetry synth-time checks name the prop and what it accepts', () => {
  it.each<[string, Partial<TboKubernetesServiceProps>, RegExp]>([
    ['tracing without an endpoint', { tracing: { samplingRatio: 0.5 } }, /tracing\.otlpEndpoint: received undefined; required on Kubernetes \(there is no collector sidecar\): the OTLP\/HTTP base URL of your collector, e\.g\. http:\/\/otel-collector\.observability\.svc:4318/],
    ['endpoint scheme', { tracing: { otlpEndpoint: 'grpc://otel:4317' } }, /tracing\.otlpEndpoint: received "grpc:\/\/otel:4317"; must be an http:\/\/ or https:\/\/ URL/],
    ['sampling ratio', { tracing: { otlpEndpoint: 'http://otel.o.svc:4318', samplingRatio: 2 } }, /tracing\.samplingRatio: received 2; must be a number from 0 to 1$/m],
    ['collector port', { tracing: { otlpEndpoint: 'http://otel.o.svc:4318', collector: { port: 70000 } } }, /tracing\.collector\.port: received 70000; must be an integer from 1 to 65535/],
    ['collector peer', { tracing: { otlpEndpoint: 'http://otel.o.svc:4318', collector: { peer: { podLabels: {} } } } }, /tracing\.collector\.peer\.podLabels: received \{\}; must name at least one label/],
    ['pushgateway without its URL', { networkPolicy: { pushgateway: { port: 9091 } } }, /networkPolicy\.pushgateway: received \{"port":9091\}; only applies with config\.prometheusGateway/],
    ['sentry peer', { networkPolicy: { sentry: { peer: { ipBlock: { cidr: '10.0.0.0/33' } } } } }, /networkPolicy\.sentry\.peer\.ipBlock\.cidr: received "10\.0\.0\.0\/33"; must be an IPv4 or IPv6 CIDR block/],
    ['pushgateway URL', { config: { prometheusGateway: 'pushgateway:9091' } }, /config\.prometheusGateway/],
  ])('%s', (_, props, expected) => {
    expect(problems(props)).toMatch(expected);
  });
});
