/**
 * Every synthesized kubernetes_* block, mapped back to its manifest (support/manifest.ts) and
 * validated by kubernetes-models against the Kubernetes OpenAPI schema (the HTTPRoute by
 * @kubernetes-models/gateway-api against the Gateway API schema); plus the restricted Pod Security
 * Standard on every pod template and DNS egress wherever egress is restricted.
 */
import 'cdktf/lib/testing/adapters/jest';
import { TBO_AUTOSCALING_METRICS, TBO_DNS_DESTINATIONS, TBO_INGRESS_SOURCES, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth, RESOURCE_KINDS, type MappedResource } from './support/manifest';
import { podTemplateSpec, restrictedViolations } from './support/pod-security';
import { synthService } from './support/synth';
import { validateManifest } from './support/validate-manifest';

const JWT = 'x'.repeat(48);

const CONFIGURATIONS: Record<string, Partial<TboKubernetesServiceProps>> = {
  defaults: {},
  'nginx ingress, created secret, custom sizes': {
    name: 'gw',
    namespace: 'llm',
    ingress: { host: 'tbo.example.com', rateLimit: { requestsPerSecond: 20, connections: 10 } },
    secrets: { values: { anthropicApiKey: 'k', openaiApiKey: 'o', jwtSecretKey: JWT, redisPassword: 'p', cacheSigningKey: JWT, adminKeys: 'admin-key-0123456789' } },
    redisKeyPrefix: 'gw-llm',
    redis: { storage: '5Gi', storageClassName: 'fast', resources: { limits: { memory: '1Gi' } } },
    resources: { requests: { cpu: '200m' } },
    imagePullSecrets: ['regcred'],
    disruptionBudget: { minAvailable: '50%' },
  },
  'existing namespace and Redis URL, custom ingress': {
    createNamespace: false,
    existingRedisUrl: 'rediss://cache.example.com:6380',
    ingress: { host: 'tbo.example.com', profile: 'custom', annotations: { 'example.com/x': 'y' } },
    networkPolicy: { clientNamespaceLabels: [{ team: 'apps' }], monitoringPodLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    autoscaling: false,
  },
  'Gateway API route, GKE load balancer and Cloud DNS, queue-length autoscaling, long streams': {
    httpRoute: { parentRefs: [{ name: 'external', namespace: 'gateway', sectionName: 'https', port: 443 }], hostnames: ['tbo.example.com', '*.tbo.example.com'], annotations: { team: 'ml' } },
    networkPolicy: { ingressSources: [...TBO_INGRESS_SOURCES.GKE_LOAD_BALANCER, ...TBO_INGRESS_SOURCES.gatewayDataPlane('gateway', { app: 'proxy' })], dnsDestinations: TBO_DNS_DESTINATIONS.GKE_CLOUD_DNS },
    autoscaling: { metrics: [TBO_AUTOSCALING_METRICS.queueLength(), { type: 'External', name: 'tbo_upstream_in_flight', averageValue: '500m', selector: { service: 'tbo' } }] },
    maxStreamDuration: 1800,
  },
  'shared namespace with the namespace-wide objects asked for, AWS LB Controller, NodeLocal DNSCache': {
    createNamespace: false,
    namespace: 'apps',
    networkPolicy: {
      defaultDeny: true,
      ingressSources: TBO_INGRESS_SOURCES.awsLoadBalancerController('10.0.0.0/20', '10.0.16.0/20'),
      dnsDestinations: [...TBO_DNS_DESTINATIONS.nodeLocalDnsCache('172.20.0.10'), { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
    },
    resourceQuota: { pods: '100', 'requests.cpu': '40' },
    limitRange: true,
  },
  'Redis restored from an existing backup claim, traces to a collector, Pushgateway, self-hosted Sentry': {
    redis: { backup: { existingClaim: 'redis-backups', restoreFrom: 'latest', schedule: '*/30 * * * *', keep: 48 } },
    tracing: { otlpEndpoint: 'http://otel-collector.observability.svc:4318', samplingRatio: 0.05 },
    config: { prometheusGateway: 'http://pushgateway.monitoring.svc:9091', traceContent: false },
    networkPolicy: { sentry: { peer: { namespaceLabels: { 'kubernetes.io/metadata.name': 'sentry' } }, port: 9000 } },
  },
  'minimal: no Redis, policies, quota or budget': {
    redis: false,
    networkPolicy: false,
    resourceQuota: false,
    limitRange: false,
    disruptionBudget: false,
    preStopSleepSeconds: 0,
    config: { enableMetrics: false },
  },
};

describe.each(Object.entries(CONFIGURATIONS))('%s', (_, props) => {
  let mapped: MappedResource[];
  beforeAll(() => {
    mapped = manifestsFromSynth(synthService(props));
  });

  it('synthesizes only resource types with a known Kubernetes kind', () => {
    expect(mapped.length).toBeGreaterThan(4);
    for (const { address } of mapped) expect([...Object.keys(RESOURCE_KINDS), 'kubernetes_manifest']).toContain(address.split('.')[0]);
  });

  it('every manifest is valid for kubernetes-models', () => {
    const invalid = mapped.flatMap(({ address, manifest }) => {
      try {
        validateManifest(manifest);
        return [];
      } catch (err) {
        return [`${address}: ${(err as Error).message}`];
      }
    });
    expect(invalid).toEqual([]);
  });

  it('every pod template meets the restricted Pod Security Standard', () => {
    const workloads = mapped.filter(({ manifest }) => podTemplateSpec(manifest));
    expect(workloads.length).toBeGreaterThan(0);
    for (const { address, manifest } of workloads) expect([address, restrictedViolations(podTemplateSpec(manifest)!)]).toEqual([address, []]);
  });

  it('wherever policies restrict the gateway\'s egress, they let it reach cluster DNS on 53 UDP and TCP', () => {
    type Rule = { to?: unknown[]; ports?: { port: number; protocol: string }[] };
    type Policy = { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[]; egress?: Rule[] };
    const gateway = mapped.find(({ manifest }) => manifest.kind === 'Deployment')!.manifest;
    const labels = (gateway.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    const restricting = mapped
      .filter(({ manifest }) => manifest.kind === 'NetworkPolicy')
      .map(({ manifest }) => manifest.spec as Policy)
      .filter((p) => p.policyTypes.includes('Egress') && Object.entries(p.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
    if (props.networkPolicy === false) {
      expect(restricting).toEqual([]);
      return;
    }
    expect(restricting.length).toBeGreaterThan(0);
    const toDns = restricting.flatMap((p) => p.egress ?? []).filter((r) => (r.ports ?? []).some((p) => p.port === 53));
    expect(toDns.every((r) => (r.to ?? []).length > 0)).toBe(true);
    expect(toDns.flatMap((r) => r.ports ?? [])).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
  });
});
