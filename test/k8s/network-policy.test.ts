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

  it('let the gateway receive only from the ingress controller\'s namespace, and from monitoring, on the service port', () => {
    const spec = gatewaySpec(json);
    expect(spec.pod_selector).toEqual({ match_labels: gatewayLabels });
    expect(spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(spec.ingress).toEqual([
      { from: [ns('ingress-nginx')], ports: [{ port: '8000', protocol: 'TCP' }] },
      { from: [ns('monitoring')], ports: [{ port: '8000', protocol: 'TCP' }] },
    ]);
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
      { from: [ns('traefik'), ns('apps')], ports: [{ port: '8000', protocol: 'TCP' }] },
      { from: [{ namespace_selector: { match_labels: { team: 'observability' } } }], ports: [{ port: '8000', protocol: 'TCP' }] },
    ]);
    expect(spec.egress[0]).toEqual({ ...DNS_RULE, to: [{ ...ns('dns'), pod_selector: { match_labels: { app: 'coredns' } } }] });
  });

  it('egress follows the upstream base URLs\' ports', () => {
    const spec = gatewaySpec(synthService({ config: { anthropicBaseUrl: 'http://llm-proxy.internal:8080', openaiBaseUrl: 'https://api.openai.com/v1' }, redis: false }));
    expect(spec.egress).toEqual([DNS_RULE, { ports: [{ port: '443', protocol: 'TCP' }, { port: '8080', protocol: 'TCP' }] }]);
  });

  it('metrics off: monitoring gets nothing', () => {
    expect(gatewaySpec(synthService({ config: { enableMetrics: false } })).ingress).toHaveLength(1);
  });

  it('defaultDeny: false keeps the gateway and Redis policies only', () => {
    const names = Object.values(blocksOf(synthService({ networkPolicy: { defaultDeny: false } }), 'kubernetes_network_policy_v1')).map((b) => (b.metadata as { name: string }).name);
    expect(names.sort()).toEqual(['tbo-redis', 'tbo-service']);
  });

  it('networkPolicy: false creates none', () => {
    expect(synthService({ networkPolicy: false })).not.toHaveResource(NetworkPolicyV1);
  });
});
