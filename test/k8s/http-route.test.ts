/** Gateway API: the HTTPRoute alternative to Ingress, as a kubernetes_manifest validated against the Gateway API schema. */
import 'cdktf/lib/testing/adapters/jest';
import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { Testing, TerraformStack } from 'cdktf';
import { TBO_INGRESS_SOURCES, TboKubernetesService, type TboKubernetesHttpRouteProps, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth } from './support/manifest';
import { blockOf, IMAGE, N, synthProblems, synthService, synthWithConstruct } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

const PARENT = { name: 'public', namespace: 'gateway-system', sectionName: 'https' };
const ROUTE: TboKubernetesHttpRouteProps = { parentRefs: [PARENT], hostnames: ['tbo.example.com'] };
type Route = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: { rules: { timeouts: { request: string } }[] } & Record<string, unknown> };
const route = (json: string) => (blockOf(json, 'kubernetes_manifest') as { manifest: Route }).manifest;
const requestTimeout = (json: string) => Number(/^(\d+)s$/.exec(route(json).spec.rules[0].timeouts.request)![1]);

describe('HTTPRoute (gateway.networking.k8s.io/v1)', () => {
  const json = synthService({ httpRoute: ROUTE, networkPolicy: { ingressSources: TBO_INGRESS_SOURCES.gatewayDataPlane('gateway-system') } });

  it('is a kubernetes_manifest routing every path of the host to the Service on port 80, attached to the Gateway\'s HTTPS listener', () => {
    expect(route(json)).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: N.service,
        namespace: expect.stringMatching(/^\$\{kubernetes_namespace_v1\.Tbo_Namespace_[0-9A-F]+\.metadata\[0\]\.name\}$/),
        labels: expect.objectContaining({ 'app.kubernetes.io/instance': N.service }),
      },
      spec: {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'https' }],
        hostnames: ['tbo.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [{ group: '', kind: 'Service', name: expect.stringMatching(/^\$\{kubernetes_service_v1\.Tbo_Service_[0-9A-F]+\.metadata\[0\]\.name\}$/), port: 80, weight: 1 }],
            timeouts: { request: '630s' },
          },
        ],
      },
    });
  });

  it('is valid for the Gateway API schema (@kubernetes-models/gateway-api), every field in its place', () => {
    const routes = manifestsFromSynth(json).filter((m) => m.manifest.kind === 'HTTPRoute');
    expect(routes.map((r) => r.address)).toEqual([expect.stringMatching(/^kubernetes_manifest\.Tbo_HttpRoute_[0-9A-F]+$/)]);
    expect(routes[0].manifest.metadata).toMatchObject({ name: N.service, namespace: N.namespace });
    expect(() => validateManifest(routes[0].manifest)).not.toThrow();
  });

  it('routes only to the public port: the admin port (9464) appears nowhere in it', () => {
    expect(JSON.stringify(route(json))).not.toMatch(/9464|admin/);
  });

  it('is a typed field; no Ingress unless one is configured too', () => {
    const { tbo } = synthWithConstruct({ httpRoute: ROUTE });
    expect(tbo.httpRoute).toBeInstanceOf(Manifest);
    expect(json).not.toHaveResource(IngressV1);
    expect(synthWithConstruct().tbo.httpRoute).toBeUndefined();
  });

  it('takes several parents, ports, no hostnames (every host of the listener) and annotations', () => {
    const r = route(synthService({ httpRoute: { parentRefs: [PARENT, { name: 'internal', sectionName: 'https-internal', port: 8443 }], annotations: { 'example.com/team': 'ml' } } }));
    expect(r.spec.parentRefs).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'https' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'internal', sectionName: 'https-internal', port: 8443 },
    ]);
    expect(r.spec).not.toHaveProperty('hostnames');
    expect(r.metadata.annotations).toEqual({ 'example.com/team': 'ml' });
  });

  it('can sit next to an Ingress (migrating from ingress-nginx), which keeps requiring TLS', () => {
    const both = synthService({ httpRoute: ROUTE, ingress: { host: 'tbo.example.com' } });
    expect(both).toHaveResourceWithProperties(IngressV1, { spec: expect.objectContaining({ tls: [{ hosts: ['tbo.example.com'], secret_name: N.tls }] }) });
    expect(route(both).kind).toBe('HTTPRoute');
  });
});

describe('HTTPRoute timeouts outlast the longest stream', () => {
  it.each<[string, Partial<TboKubernetesServiceProps>, number]>([
    ['defaults: the 600 s upstream timeout + 30', {}, 630],
    ['a shorter upstream timeout', { config: { upstreamTimeout: 120.5 } }, 151],
    ['a longer maxStreamDuration', { maxStreamDuration: 900 }, 930],
    ['a shorter maxStreamDuration keeps the upstream timeout', { maxStreamDuration: 60 }, 630],
    ['requestTimeoutSeconds', { httpRoute: { ...ROUTE, requestTimeoutSeconds: 1200 } }, 1200],
  ])('%s', (_, props, expected) => {
    const { tbo, json } = synthWithConstruct({ httpRoute: ROUTE, ...props });
    expect(requestTimeout(json)).toBe(expected);
    expect(requestTimeout(json)).toBeGreaterThanOrEqual(tbo.plan.maxStreamDuration);
  });
});

describe('HTTPRoute validation and warnings', () => {
  const problems = synthProblems;

  it.each<[string, TboKubernetesHttpRouteProps | Partial<TboKubernetesServiceProps>, RegExp]>([
    ['no parents', { parentRefs: [] }, /httpRoute\.parentRefs: received \[\]; must name at least one Gateway listener/],
    ['no listener', { parentRefs: [{ name: 'public' } as never] }, /httpRoute\.parentRefs\[0\]\.sectionName: received undefined; must name the Gateway's HTTPS listener: without it the route attaches to every listener, plain-HTTP ones included/],
    ['gateway name', { parentRefs: [{ ...PARENT, name: 'Public_GW' }] }, /httpRoute\.parentRefs\[0\]\.name: received "Public_GW"; must be the name of a Gateway/],
    ['gateway namespace', { parentRefs: [{ ...PARENT, namespace: 'Gateway' }] }, /httpRoute\.parentRefs\[0\]\.namespace: received "Gateway"; must be a namespace name/],
    ['port', { parentRefs: [{ ...PARENT, port: 0 }] }, /httpRoute\.parentRefs\[0\]\.port: received 0; must be an integer from 1 to 65535/],
    ['hostname', { ...ROUTE, hostnames: ['https://tbo.example.com'] }, /httpRoute\.hostnames\[0\]: received "https:\/\/tbo\.example\.com"; must be a DNS host name/],
    ['timeout below the longest stream', { ...ROUTE, requestTimeoutSeconds: 300 }, /httpRoute\.requestTimeoutSeconds: received 300; must be at least maxStreamDuration \(600\), or the Gateway cuts streams/],
    ['timeout too long for a Gateway API duration', { ...ROUTE, requestTimeoutSeconds: 100_000 }, /httpRoute\.requestTimeoutSeconds: received 100000; must be an integer from 1 to 99999/],
  ])('%s', (_, httpRoute, expected) => {
    expect(problems({ httpRoute: httpRoute as TboKubernetesHttpRouteProps })).toMatch(expected);
  });

  it('refuses an open gateway behind a route', () => {
    expect(problems({ httpRoute: ROUTE, config: { auth: 'none' } })).toMatch(/config\.auth: received "none"; an HTTPRoute exposes the gateway/);
  });

  it('wildcard hostnames are accepted', () => {
    expect(problems({ httpRoute: { ...ROUTE, hostnames: ['*.example.com'] } })).toBe('');
  });

  function messages(props: Partial<TboKubernetesServiceProps>): string[] {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const tbo = new TboKubernetesService(stack, 'Tbo', { image: IMAGE, ...props });
    Testing.synth(stack);
    return tbo.node.metadata.map((m) => `${m.type}: ${String(m.data)}`);
  }

  it('says when the NetworkPolicy would still admit only ingress-nginx', () => {
    expect(messages({ httpRoute: ROUTE })).toEqual([expect.stringMatching(/warn: .*httpRoute: the NetworkPolicy admits the public port only from ingress-nginx; add your Gateway's data plane/)]);
    expect(messages({ httpRoute: ROUTE, networkPolicy: { ingressSources: TBO_INGRESS_SOURCES.gatewayDataPlane('envoy-gateway-system') } })).toEqual([]);
    expect(messages({ httpRoute: ROUTE, networkPolicy: false })).toEqual([expect.stringMatching(/warn: .*networkPolicy: false/)]);
  });
});
