import 'cdktf/lib/testing/adapters/jest';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Testing, TerraformStack } from 'cdktf';
import { TboConfigValidationError } from '../../lib/core';
import {
  GKE_LOAD_BALANCER_RANGES,
  NODE_LOCAL_DNS_IP,
  TBO_DNS_DESTINATIONS,
  TBO_INGRESS_SOURCES,
  TboKubernetesService,
  type TboKubernetesNetworkPolicyProps,
  type TboNetworkPeer,
} from '../../lib/k8s';
import { blockOf, blocksOf, IMAGE, N, synthService } from './support/synth';

Testing.setupJest();

const gatewayLabels = { 'app.kubernetes.io/name': 'tbo', 'app.kubernetes.io/instance': N.service, 'app.kubernetes.io/component': 'gateway' };
const redisLabels = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': N.redis, 'app.kubernetes.io/component': 'cache' };
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
      metadata: expect.objectContaining({ name: N.defaultDeny }),
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

  it('ingressControllerNamespaceLabels is shorthand for one ingress source; dnsNamespaceLabels / dnsPodLabels for one DNS destination', () => {
    const spec = gatewaySpec(synthService({ networkPolicy: { ingressControllerNamespaceLabels: { 'kubernetes.io/metadata.name': 'traefik' }, dnsPodLabels: { app: 'coredns' } } }));
    expect(spec.ingress[0]).toEqual({ from: [ns('traefik')], ports: PUBLIC_PORT });
    expect(spec.egress[0]).toEqual({ ...DNS_RULE, to: [{ ...ns('kube-system'), pod_selector: { match_labels: { app: 'coredns' } } }] });
  });

  it('defaultDeny: false keeps the gateway, Redis and Redis backup policies only', () => {
    const names = Object.values(blocksOf(synthService({ networkPolicy: { defaultDeny: false } }), 'kubernetes_network_policy_v1')).map((b) => (b.metadata as { name: string }).name);
    expect(names.sort()).toEqual([N.backup, N.redis, N.service]);
  });

  it('networkPolicy: false creates none', () => {
    expect(synthService({ networkPolicy: false })).not.toHaveResource(NetworkPolicyV1);
  });
});

describe('Ingress sources (networkPolicy.ingressSources) and their presets', () => {
  const publicRule = (json: string) => gatewaySpec(json).ingress[0] as { from: unknown[]; ports: unknown[] };
  const sources = (ingressSources: TboNetworkPeer[] | readonly TboNetworkPeer[]) => publicRule(synthService({ networkPolicy: { ingressSources } })).from;

  it('default: ingress-nginx (TBO_INGRESS_SOURCES.INGRESS_NGINX)', () => {
    expect(publicRule(synthService()).from).toEqual([ns('ingress-nginx')]);
    expect(sources(TBO_INGRESS_SOURCES.INGRESS_NGINX)).toEqual([ns('ingress-nginx')]);
  });

  it('AWS Load Balancer Controller in IP mode: the load balancer subnets as ipBlocks', () => {
    expect(sources(TBO_INGRESS_SOURCES.awsLoadBalancerController('10.0.0.0/20', '10.0.16.0/20'))).toEqual([
      { ip_block: { cidr: '10.0.0.0/20' } },
      { ip_block: { cidr: '10.0.16.0/20' } },
    ]);
  });

  it('GKE load balancers (NEGs): Google front ends and health checks, 35.191.0.0/16 and 130.211.0.0/22', () => {
    expect(GKE_LOAD_BALANCER_RANGES).toEqual(['35.191.0.0/16', '130.211.0.0/22']);
    expect(sources(TBO_INGRESS_SOURCES.GKE_LOAD_BALANCER)).toEqual([{ ip_block: { cidr: '35.191.0.0/16' } }, { ip_block: { cidr: '130.211.0.0/22' } }]);
  });

  it('a Gateway API data plane: its namespace, optionally its pods', () => {
    expect(sources(TBO_INGRESS_SOURCES.gatewayDataPlane('envoy-gateway-system'))).toEqual([ns('envoy-gateway-system')]);
    expect(sources(TBO_INGRESS_SOURCES.gatewayDataPlane('istio-ingress', { istio: 'ingressgateway' }))).toEqual([
      { ...ns('istio-ingress'), pod_selector: { match_labels: { istio: 'ingressgateway' } } },
    ]);
  });

  it('custom peers: pod selectors in the own namespace, ipBlocks with exceptions; combined with client namespaces', () => {
    const json = synthService({
      networkPolicy: { ingressSources: [{ podLabels: { app: 'edge-proxy' } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.9.0.0/16'] } }], clientNamespaceLabels: [{ team: 'apps' }] },
    });
    expect(publicRule(json)).toEqual({
      from: [{ pod_selector: { match_labels: { app: 'edge-proxy' } } }, { ip_block: { cidr: '10.0.0.0/8', except: ['10.9.0.0/16'] } }, { namespace_selector: { match_labels: { team: 'apps' } } }],
      ports: PUBLIC_PORT,
    });
  });

  it('never changes the admin port: monitoring only', () => {
    expect(gatewaySpec(synthService({ networkPolicy: { ingressSources: TBO_INGRESS_SOURCES.GKE_LOAD_BALANCER } })).ingress[1]).toEqual({ from: [ns('monitoring')], ports: ADMIN_PORT });
  });
});

describe('DNS egress (networkPolicy.dnsDestinations) and its presets', () => {
  const dnsRule = (json: string) => gatewaySpec(json).egress[0] as { to: unknown[]; ports: unknown[] };
  const dns = (dnsDestinations: TboNetworkPeer[] | readonly TboNetworkPeer[]) => dnsRule(synthService({ networkPolicy: { dnsDestinations } }));

  it('default: the kube-dns pods (TBO_DNS_DESTINATIONS.KUBE_DNS)', () => {
    expect(dns(TBO_DNS_DESTINATIONS.KUBE_DNS)).toEqual(DNS_RULE);
  });

  it('NodeLocal DNSCache: 169.254.20.10, optionally the kube-dns Service IP, then the kube-dns pods; 53 UDP and TCP only', () => {
    expect(NODE_LOCAL_DNS_IP).toBe('169.254.20.10');
    expect(dns(TBO_DNS_DESTINATIONS.nodeLocalDnsCache())).toEqual({ ...DNS_RULE, to: [{ ip_block: { cidr: '169.254.20.10/32' } }, ...DNS_RULE.to] });
    expect(dns(TBO_DNS_DESTINATIONS.nodeLocalDnsCache('10.96.0.10')).to).toEqual([{ ip_block: { cidr: '169.254.20.10/32' } }, { ip_block: { cidr: '10.96.0.10/32' } }, ...DNS_RULE.to]);
  });

  it('Cloud DNS for GKE: the metadata server, port 53 only', () => {
    expect(dns(TBO_DNS_DESTINATIONS.GKE_CLOUD_DNS)).toEqual({ ...DNS_RULE, to: [{ ip_block: { cidr: '169.254.169.254/32' } }] });
  });

  it('custom: an ipBlock or a selector', () => {
    expect(dns([{ ipBlock: { cidr: '10.0.0.2/32' } }]).to).toEqual([{ ip_block: { cidr: '10.0.0.2/32' } }]);
    expect(dns([{ namespaceLabels: { 'kubernetes.io/metadata.name': 'dns' }, podLabels: { app: 'coredns' } }]).to).toEqual([{ ...ns('dns'), pod_selector: { match_labels: { app: 'coredns' } } }]);
  });
});

describe('network sources: validation and warnings', () => {
  function problems(networkPolicy: TboKubernetesNetworkPolicyProps): string {
    try {
      synthService({ networkPolicy });
    } catch (err) {
      if (err instanceof TboConfigValidationError) return err.problems.join('\n');
      throw err;
    }
    return '';
  }

  it.each<[string, TboKubernetesNetworkPolicyProps, RegExp]>([
    ['selectors and ipBlock in one peer', { ingressSources: [{ namespaceLabels: { a: 'b' }, ipBlock: { cidr: '10.0.0.0/8' } }] }, /networkPolicy\.ingressSources\[0\]: received .*; give namespaceLabels and\/or podLabels, or ipBlock \(one kind/],
    ['an empty peer', { ingressSources: [{}] }, /networkPolicy\.ingressSources\[0\]: received \{\}; give namespaceLabels/],
    ['an empty selector', { ingressSources: [{ podLabels: {} }] }, /networkPolicy\.ingressSources\[0\]\.podLabels: received \{\}; must name at least one label \(an empty selector matches everything\)/],
    ['a bad CIDR', { ingressSources: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }, /networkPolicy\.ingressSources\[0\]\.ipBlock\.cidr: received "10\.0\.0\.0\/33"; must be an IPv4 or IPv6 CIDR block/],
    ['an address without prefix', { dnsDestinations: [{ ipBlock: { cidr: '169.254.20.10' } }] }, /networkPolicy\.dnsDestinations\[0\]\.ipBlock\.cidr: received "169\.254\.20\.10"; must be an IPv4 or IPv6 CIDR/],
    ['a bad exception', { ingressSources: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['x'] } }] }, /networkPolicy\.ingressSources\[0\]\.ipBlock\.except\[0\]: received "x"/],
    ['no sources at all', { ingressSources: [] }, /networkPolicy\.ingressSources: received \[\]; must name at least one source, here or in clientNamespaceLabels \(a NetworkPolicy rule without sources admits every source\)/],
    ['no DNS destination', { dnsDestinations: [] }, /networkPolicy\.dnsDestinations: received \[\]; must name at least one destination/],
    ['sources and their shorthand', { ingressSources: TBO_INGRESS_SOURCES.GKE_LOAD_BALANCER, ingressControllerNamespaceLabels: { a: 'b' } }, /networkPolicy\.ingressControllerNamespaceLabels: received \{"a":"b"\}; give ingressSources or its shorthand/],
    ['DNS and its shorthand', { dnsDestinations: TBO_DNS_DESTINATIONS.KUBE_DNS, dnsPodLabels: { a: 'b' } }, /networkPolicy\.dnsDestinations: received .*; give dnsDestinations or its shorthand/],
  ])('%s', (_, networkPolicy, expected) => {
    expect(problems(networkPolicy)).toMatch(expected);
  });

  it('accepts IPv6 blocks, and client namespaces alone', () => {
    expect(problems({ ingressSources: [{ ipBlock: { cidr: 'fd00::/8' } }] })).toBe('');
    expect(problems({ ingressSources: [], clientNamespaceLabels: [{ team: 'apps' }] })).toBe('');
  });

  it('warns when a source admits every address', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const tbo = new TboKubernetesService(stack, 'Tbo', { image: IMAGE, networkPolicy: { ingressSources: [{ ipBlock: { cidr: '0.0.0.0/0' } }] } });
    expect(tbo.node.metadata.map((m) => String(m.data))).toEqual([expect.stringMatching(/ingressSources: 0\.0\.0\.0\/0 admits every address to the public port/)]);
  });
});
