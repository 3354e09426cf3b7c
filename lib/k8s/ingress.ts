import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import type { Construct } from 'constructs';
import { SERVICE_EXPOSED_PORT } from './defaults';
import { streamTimeoutSeconds, type TboKubernetesPlan } from './plan';

const NGINX = 'nginx.ingress.kubernetes.io';

/** nginx's size syntax (k, m) for a byte count, rounded up to whole KiB. */
function nginxSize(bytes: number): string {
  const kib = Math.ceil(bytes / 1024);
  return kib % 1024 === 0 ? `${kib / 1024}m` : `${kib}k`;
}

/**
 * Annotations ingress-nginx reads: per-client-IP rate and connection limits, no response
 * buffering (SSE streams reach the client as they are produced), read/send timeouts longer than
 * the longest stream (the service's upstream timeout or maxStreamDuration, + 30 s), the service's
 * body limit, and HTTPS only.
 */
export function nginxAnnotations(plan: TboKubernetesPlan): Record<string, string> {
  const ingress = plan.ingress!;
  const timeout = String(streamTimeoutSeconds(plan.config, plan.maxStreamDuration));
  const annotations: Record<string, string> = {
    [`${NGINX}/proxy-buffering`]: 'off',
    [`${NGINX}/proxy-request-buffering`]: 'off',
    [`${NGINX}/proxy-read-timeout`]: timeout,
    [`${NGINX}/proxy-send-timeout`]: timeout,
    [`${NGINX}/proxy-body-size`]: nginxSize(plan.config.maxBodyBytes),
    [`${NGINX}/ssl-redirect`]: 'true',
    [`${NGINX}/force-ssl-redirect`]: 'true',
  };
  if (ingress.requestsPerSecond > 0) {
    annotations[`${NGINX}/limit-rps`] = String(ingress.requestsPerSecond);
    annotations[`${NGINX}/limit-burst-multiplier`] = String(ingress.burstMultiplier);
  }
  if (ingress.connections > 0) annotations[`${NGINX}/limit-connections`] = String(ingress.connections);
  return annotations;
}

/** The annotations of the chosen profile, with the user's on top. */
export function ingressAnnotations(plan: TboKubernetesPlan): Record<string, string> {
  const ingress = plan.ingress!;
  const profile = ingress.profile === 'nginx' ? nginxAnnotations(plan) : {};
  return { ...profile, ...ingress.annotations };
}

/** Ingress (networking.k8s.io/v1) for one host, TLS only, to the ClusterIP Service. */
export function createIngress(scope: Construct, plan: TboKubernetesPlan, namespace: string, serviceName: string): IngressV1 | undefined {
  const ingress = plan.ingress;
  if (!ingress) return undefined;
  return new IngressV1(scope, 'Ingress', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels, annotations: ingressAnnotations(plan) },
    spec: {
      ingressClassName: ingress.className,
      tls: [{ hosts: [ingress.host], secretName: ingress.tlsSecretName }],
      rule: [
        {
          host: ingress.host,
          http: {
            path: [{ path: '/', pathType: 'Prefix', backend: { service: { name: serviceName, port: { number: SERVICE_EXPOSED_PORT } } } }],
          },
        },
      ],
    },
  });
}

