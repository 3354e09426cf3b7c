import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import type { Construct } from 'constructs';
import { SERVICE_EXPOSED_PORT } from './defaults';
import type { TboKubernetesPlan } from './plan';

/** Gateway API group and version of the HTTPRoute. */
export const HTTP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';

/**
 * The HTTPRoute manifest: every path of the listed hosts to the ClusterIP Service on port 80, attached
 * to the named HTTPS listeners of existing Gateways, with a request timeout longer than the longest
 * stream (Gateway API leaves the default to the implementation; Envoy's default route timeout is 15 s).
 */
export function httpRouteManifest(plan: TboKubernetesPlan, namespace: string, serviceName: string): Record<string, unknown> {
  const route = plan.httpRoute!;
  return {
    apiVersion: HTTP_ROUTE_API_VERSION,
    kind: 'HTTPRoute',
    metadata: {
      name: plan.names.service,
      namespace,
      labels: { ...plan.labels },
      ...(Object.keys(route.annotations).length > 0 && { annotations: { ...route.annotations } }),
    },
    spec: {
      parentRefs: route.parentRefs.map((ref) => ({
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: ref.name,
        ...(ref.namespace !== undefined && { namespace: ref.namespace }),
        sectionName: ref.sectionName,
        ...(ref.port !== undefined && { port: ref.port }),
      })),
      ...(route.hostnames.length > 0 && { hostnames: [...route.hostnames] }),
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          // The API's defaults spelled out (group, kind, weight), so the server adds nothing Terraform did not plan.
          backendRefs: [{ group: '', kind: 'Service', name: serviceName, port: SERVICE_EXPOSED_PORT, weight: 1 }],
          timeouts: { request: `${route.requestTimeoutSeconds}s` },
        },
      ],
    },
  };
}

/**
 * HTTPRoute (gateway.networking.k8s.io/v1) through the provider's `kubernetes_manifest`, which reads
 * the CRD's schema from the cluster when it plans: the Gateway API CRDs must be installed first.
 */
export function createHttpRoute(scope: Construct, plan: TboKubernetesPlan, namespace: string, serviceName: string): Manifest | undefined {
  if (!plan.httpRoute) return undefined;
  return new Manifest(scope, 'HttpRoute', { manifest: httpRouteManifest(plan, namespace, serviceName) });
}
