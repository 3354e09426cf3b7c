import {
  NetworkPolicyV1,
  type NetworkPolicyV1SpecEgress,
  type NetworkPolicyV1SpecEgressTo,
  type NetworkPolicyV1SpecIngress,
  type NetworkPolicyV1SpecIngressFrom,
} from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { Construct } from 'constructs';
import { ADMIN_PORT, SERVICE_PORT, routedBackends, routesToVertex, type ServiceConfig } from '../core';
import type { TboKubernetesPlan } from './plan';
import type { TboNetworkPeer } from './props';
import { workloadIdentityEgress } from './workload-identity';

/** DNS, UDP and TCP. */
export const DNS_PORT = '53';

/** A NetworkPolicy peer (`from` or `to` entry) for a source or destination. */
export function networkPeer(peer: TboNetworkPeer): NetworkPolicyV1SpecIngressFrom & NetworkPolicyV1SpecEgressTo {
  if (peer.ipBlock) return { ipBlock: { cidr: peer.ipBlock.cidr, ...(peer.ipBlock.except?.length && { except: [...peer.ipBlock.except] }) } };
  return {
    ...(peer.namespaceLabels && { namespaceSelector: { matchLabels: { ...peer.namespaceLabels } } }),
    ...(peer.podLabels && { podSelector: { matchLabels: { ...peer.podLabels } } }),
  };
}

/** HTTPS, the port of the cloud model APIs (Bedrock Runtime, Vertex AI) and of AWS STS. */
const HTTPS_PORT = 443;

/**
 * Ports of the upstream LLM APIs: the public APIs' base URLs (443 by default), and for the cloud
 * backends the routes use, their endpoint's port (`bedrockEndpoint`, `vertexEndpoint`; 443 unset),
 * plus any the workload identity needs (`also`: STS for IRSA).
 */
export function upstreamPorts(config: ServiceConfig, also: readonly number[] = []): number[] {
  const urls = [config.anthropicBaseUrl, config.openaiBaseUrl];
  const ports = [...also];
  const cloud = (endpoint: string | undefined) => (endpoint === undefined ? ports.push(HTTPS_PORT) : urls.push(endpoint));
  if (routedBackends(config).has('bedrock')) cloud(config.bedrockEndpoint);
  if (routesToVertex(config)) cloud(config.vertexEndpoint);
  for (const u of urls) {
    const url = new URL(u);
    ports.push(Number(url.port || (url.protocol === 'https:' ? HTTPS_PORT : 80)));
  }
  return [...new Set(ports)].sort((a, b) => a - b);
}

/**
 * Deny every ingress and egress of every pod in the namespace unless another policy allows it: only in
 * a namespace the construct creates, or when asked for (it reaches every other workload there).
 */
export function createDefaultDenyPolicy(scope: Construct, plan: TboKubernetesPlan, namespace: string): NetworkPolicyV1 | undefined {
  if (!plan.networkPolicy?.defaultDeny) return undefined;
  return new NetworkPolicyV1(scope, 'DefaultDenyPolicy', {
    metadata: { name: plan.names.defaultDeny, namespace, labels: plan.labels },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

function gatewayIngress(plan: TboKubernetesPlan): NetworkPolicyV1SpecIngress[] {
  const np = plan.networkPolicy!;
  const from = (labels: Readonly<Record<string, string>>) => ({ namespaceSelector: { matchLabels: { ...labels } } });
  const monitoring = { ...from(np.monitoringNamespaceLabels), ...(np.monitoringPodLabels && { podSelector: { matchLabels: { ...np.monitoringPodLabels } } }) };
  return [
    // The public port: clients, through the ingress / load balancer / Gateway data plane, or directly from listed namespaces.
    { from: [...np.ingressSources.map(networkPeer), ...np.clientNamespaceLabels.map(from)], ports: [{ port: String(SERVICE_PORT), protocol: 'TCP' }] },
    // The admin port (/metrics, /health/details): monitoring only, whether or not metrics are on.
    { from: [monitoring], ports: [{ port: String(ADMIN_PORT), protocol: 'TCP' }] },
  ];
}

/** Egress to the cluster's DNS (UDP and TCP 53): every pod that resolves a Service name needs it. */
export function dnsEgress(np: NonNullable<TboKubernetesPlan['networkPolicy']>): NetworkPolicyV1SpecEgress {
  return { to: np.dnsDestinations.map(networkPeer), ports: [{ port: DNS_PORT, protocol: 'UDP' }, { port: DNS_PORT, protocol: 'TCP' }] };
}

function gatewayEgress(plan: TboKubernetesPlan): NetworkPolicyV1SpecEgress[] {
  const np = plan.networkPolicy!;
  const rules: NetworkPolicyV1SpecEgress[] = [
    dnsEgress(np),
    // The LLM APIs (and STS for IRSA) live outside the cluster at addresses that change: allow the port, anywhere.
    // So do telemetry endpoints whose destination is not known (Sentry by default, an outside collector).
    { ports: anywherePorts(plan).map((p) => ({ port: String(p), protocol: 'TCP' })) },
  ];
  const redis = plan.redis;
  if (redis.mode === 'in-cluster') {
    rules.push({ to: [{ podSelector: { matchLabels: { ...redis.selector } } }], ports: [{ port: String(redis.port), protocol: 'TCP' }] });
  } else if (redis.mode === 'external') {
    rules.push({ ports: [{ port: String(redis.port), protocol: 'TCP' }] });
  }
  // The credential endpoints of the workload identity, each to its one address and port.
  rules.push(...workloadIdentityEgress(plan.workloadIdentity));
  // Telemetry endpoints whose pods are known (a collector or Pushgateway in the cluster), each to them only.
  rules.push(...telemetryEgress(plan));
  return rules;
}

/** Ports open to any address: the model APIs', plus those of telemetry endpoints without a known destination. */
function anywherePorts(plan: TboKubernetesPlan): number[] {
  const upstream = upstreamPorts(plan.config, plan.workloadIdentity.awsRoleArn !== undefined ? [HTTPS_PORT] : []);
  const telemetry = plan.telemetry.egress.filter((e) => e.peer === undefined).map((e) => e.port);
  return [...new Set([...upstream, ...telemetry])].sort((a, b) => a - b);
}

/** One rule per telemetry destination with known pods or addresses (identical ones once). */
function telemetryEgress(plan: TboKubernetesPlan): NetworkPolicyV1SpecEgress[] {
  const rules = new Map<string, NetworkPolicyV1SpecEgress>();
  for (const { peer, port } of plan.telemetry.egress) {
    if (!peer) continue;
    const rule = { to: [networkPeer(peer)], ports: [{ port: String(port), protocol: 'TCP' }] };
    rules.set(JSON.stringify(rule), rule);
  }
  return [...rules.values()];
}

/**
 * The gateway's policy, selecting this instance's pods only: traffic in on the public port only from
 * the ingress sources (and listed client namespaces), and on the admin port only from monitoring;
 * traffic out only to DNS (53 UDP and TCP), the LLM APIs' port, Redis, the credential endpoint of
 * the workload identity (EKS Pod Identity Agent, GKE metadata server) when one is used, and the
 * telemetry endpoints: the OTLP collector (`tracing`), the Pushgateway (`config.prometheusGateway`)
 * and Sentry (443 unless `networkPolicy.sentry` says otherwise).
 */
export function createGatewayPolicy(scope: Construct, plan: TboKubernetesPlan, namespace: string): NetworkPolicyV1 | undefined {
  if (!plan.networkPolicy) return undefined;
  return new NetworkPolicyV1(scope, 'GatewayPolicy', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels },
    spec: {
      podSelector: { matchLabels: plan.selector },
      policyTypes: ['Ingress', 'Egress'],
      ingress: gatewayIngress(plan),
      egress: gatewayEgress(plan),
    },
  });
}
