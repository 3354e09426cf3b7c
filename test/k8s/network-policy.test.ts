import 'cdktf/lib/testing/adapters/jest';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Testing } from 'cdktf';
import { blockOf, blocksOf, synthService } from './support/synth';

Testing.setupJest();

const gatewayLabels = { 'app.kubernetes.io/name': 'tbo', 'app.kubernetes.io/instance': 'tbo-service', 'app.kubernetes.io/component': 'gateway' };
const redisLabels = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'tbo-redis', 'app.kubernetes.io/component': 'cache' };
type Spec = { ingress: unknown[]; egress: unknown[]; [key: string]: unknown };
const gatewaySpec = (json: string) => blockOf(json, 'kubernetes_network_policy_v1', 'GatewayPolicy').spec as Spec;
const ns = (name: string) => ({ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': name } } });
const PUBLIC_PORT = [{ port: '8000', protocol: 'TCP' }];
const ADMIN_PORT = [{ port: '9464', protocol: 'TCP' }];
/** Every port the rules admitting `from` open, for the rules whose sources include it. */
const portsOpenTo = (spec: Spec, source: unknown) =>
  (spec.ingress as { from: unknown[]; ports: unknown[] }[]).filter((r) => r.from.some((f) => JSON.stringify(f) === JSON.stringify(source))).flatMap((r) => r.ports);
const DNS_RULE = {
  to: [{ ...ns('kube-system'), pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } } }],
  ports: [
    { port: '53', protocol: 'UDP' },
    { port: '53', protocol: 'TCP' },
  ],
};

describe('NetworkPolicies (default)', () => {
  const json = synthService();

  it('deny all ingress and egress for every pod in the namespace', () => {
    expect(json).toHaveResourceWithProperties(NetworkPolicyV1, {
      metadata: expect.objectContaining({ name: 'tbo-default-deny' }),
      spec: { pod_selector: {}, policy_types: ['Ingress', 'Egress'] },
    });
  });

  it('let the gateway receive on the public port only from the ingress controller\'s namespace, and on the admin port only from monitoring', () => {
    const spec = gatewaySpec(json);
    expect(spec.pod_selector).toEqual({ match_labels: gatewayLabels });
    expect(spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(spec.ingress).toEqual([
      { from: [ns('ingress-nginx')], ports: PUBLIC_PORT },
      { from: [ns('monitoring')], ports: ADMIN_PORT },
    ]);
  });

  it('open 9464 to monitoring alone, and nothing else to monitoring', () => {
    const spec = gatewaySpec(json);
    const admitting9464 = (spec.ingress as { from: unknown[]; ports: { port: string }[] }[]).filter((r) => r.ports.some((p) => p.port === '9464'));
    expect(admitting9464.flatMap((r) => r.from)).toEqual([ns('monitoring')]);
    expect(portsOpenTo(spec, ns('monitoring'))).toEqual(ADMIN_PORT);
    expect(portsOpenTo(spec, ns('ingress-nginx'))).toEqual(PUBLIC_PORT);
  });

  it('let the gateway reach cluster DNS on 53 UDP and TCP, the LLM APIs on 443, and Redis on 6379 only', () => {
    expect(gatewaySpec(json).egress).toEqual([
      DNS_RULE,
      { ports: [{ port: '443', protocol: 'TCP' }] },
      { to: [{ pod_selector: { match_labels: redisLabels } }], ports: [{ port: '6379', protocol: 'TCP' }] },
    ]);
  });
});

describe('NetworkPolicy options', () => {
  it('selectors for the ingress controller, monitoring, DNS, and extra client namespaces', () => {
    const spec = gatewaySpec(
      synthService({
        networkPolicy: {
          ingressControllerNamespaceLabels: { 'kubernetes.io/metadata.name': 'traefik' },
          monitoringNamespaceLabels: { team: 'observability' },
          clientNamespaceLabels: [{ 'kubernetes.io/metadata.name': 'apps' }],
          dnsNamespaceLabels: { 'kubernetes.io/metadata.name': 'dns' },
          dnsPodLabels: { app: 'coredns' },
        },
      }),
    );
    expect(spec.ingress).toEqual([
      { from: [ns('traefik'), ns('apps')], ports: PUBLIC_PORT },
      { from: [{ namespace_selector: { match_labels: { team: 'observability' } } }], ports: ADMIN_PORT },
    ]);
    expect(spec.egress[0]).toEqual({ ...DNS_RULE, to: [{ ...ns('dns'), pod_selector: { match_labels: { app: 'coredns' } } }] });
  });

  it('egress follows the upstream base URLs\' ports', () => {
    const spec = gatewaySpec(synthService({ config: { anthropicBaseUrl: 'http://llm-proxy.internal:8080', openaiBaseUrl: 'https://api.openai.com/v1' }, redis: false }));
    expect(spec.egress).toEqual([DNS_RULE, { ports: [{ port: '443', protocol: 'TCP' }, { port: '8080', protocol: 'TCP' }] }]);
  });

  it('monitoringPodLabels narrows the admin port to those pods of the monitoring namespace', () => {
    const spec = gatewaySpec(synthService({ networkPolicy: { monitoringPodLabels: { 'app.kubernetes.io/name': 'prometheus' } } }));
    expect(spec.ingress[1]).toEqual({
      from: [{ ...ns('monitoring'), pod_selector: { match_labels: { 'app.kubernetes.io/name': 'prometheus' } } }],
      ports: ADMIN_PORT,
    });
  });

  it('metrics off: monitoring still reaches the admin port alone (/health/details), and the public port is unchanged', () => {
    expect(gatewaySpec(synthService({ config: { enableMetrics: false } })).ingress).toEqual([
      { from: [ns('ingress-nginx')], ports: PUBLIC_PORT },
      { from: [ns('monitoring')], ports: ADMIN_PORT },
    ]);
  });

  it('defaultDeny: false keeps the gateway and Redis policies only', () => {
    const names = Object.values(blocksOf(synthService({ networkPolicy: { defaultDeny: false } }), 'kubernetes_network_policy_v1')).map((b) => (b.metadata as { name: string }).name);
    expect(names.sort()).toEqual(['tbo-redis', 'tbo-service']);
  });

  it('networkPolicy: false creates none', () => {
    expect(synthService({ networkPolicy: false })).not.toHaveResource(NetworkPolicyV1);
  });
});
