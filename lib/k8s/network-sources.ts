/**
 * Presets for the gateway's NetworkPolicy: who may reach its public port (`networkPolicy.ingressSources`)
 * and where its DNS queries go (`networkPolicy.dnsDestinations`).
 */
import { DEFAULT_DNS_NAMESPACE_LABELS, DEFAULT_DNS_POD_LABELS, DEFAULT_INGRESS_CONTROLLER_NAMESPACE_LABELS, DEFAULT_QUEUE_LENGTH_TARGET } from './defaults';
import type { TboAutoscalingMetric, TboNetworkPeer } from './props';

const namespaceNamed = (name: string) => ({ 'kubernetes.io/metadata.name': name });

/** Ranges GKE's global external Application Load Balancer (Google Front Ends) and its health checks send from. */
export const GKE_LOAD_BALANCER_RANGES = ['35.191.0.0/16', '130.211.0.0/22'] as const;
/** The address NodeLocal DNSCache listens on by default (a link-local IP on every node). */
export const NODE_LOCAL_DNS_IP = '169.254.20.10';
/** The node's metadata server, which answers pods' DNS queries with Cloud DNS for GKE. */
export const GKE_METADATA_SERVER_IP = '169.254.169.254';

/** Sources for `networkPolicy.ingressSources`: what sits in front of the gateway. */
export const TBO_INGRESS_SOURCES = {
  /** ingress-nginx's controller pods (namespace `ingress-nginx`). The default. */
  INGRESS_NGINX: [{ namespaceLabels: { ...DEFAULT_INGRESS_CONTROLLER_NAMESPACE_LABELS } }] as readonly TboNetworkPeer[],
  /**
   * GKE container-native load balancing (NEGs, e.g. a GKE Ingress or the `gke-l7-global-external-managed`
   * Gateway): Google Front Ends and health checks reach the pods directly from 35.191.0.0/16 and
   * 130.211.0.0/22. Regional and internal Application Load Balancers send from the VPC's proxy-only
   * subnet instead: give its CIDR with `ipBlock`.
   */
  GKE_LOAD_BALANCER: GKE_LOAD_BALANCER_RANGES.map((cidr) => ({ ipBlock: { cidr } })) as readonly TboNetworkPeer[],
  /**
   * The AWS Load Balancer Controller in IP mode (target type `ip`): the ALB or NLB reaches the pods
   * from its own addresses in the VPC. Pass the CIDRs of the subnets the load balancer runs in; the
   * whole VPC CIDR works too, but with the VPC CNI every pod's address is in it, so it admits every pod
   * of the cluster as well.
   */
  awsLoadBalancerController: (...subnetCidrs: string[]): TboNetworkPeer[] => subnetCidrs.map((cidr) => ({ ipBlock: { cidr } })),
  /**
   * A Gateway API data plane whose proxies run as pods in `namespace` (e.g. `envoy-gateway-system`
   * for Envoy Gateway, the Gateway's own namespace for Istio), optionally only the pods with `podLabels`.
   */
  gatewayDataPlane: (namespace: string, podLabels?: Readonly<Record<string, string>>): TboNetworkPeer[] => [
    { namespaceLabels: namespaceNamed(namespace), ...(podLabels && { podLabels: { ...podLabels } }) },
  ],
} as const;

/** Destinations for `networkPolicy.dnsDestinations`: where the cluster answers DNS. */
export const TBO_DNS_DESTINATIONS = {
  /** The kube-dns / CoreDNS pods (`k8s-app: kube-dns` in `kube-system`). The default. */
  KUBE_DNS: [{ namespaceLabels: { ...DEFAULT_DNS_NAMESPACE_LABELS }, podLabels: { ...DEFAULT_DNS_POD_LABELS } }] as readonly TboNetworkPeer[],
  /**
   * NodeLocal DNSCache: its link-local address 169.254.20.10 (the cache pods use the host network, so
   * no pod selector matches them), plus the kube-dns pods for when the cache is not in the path. When
   * the cache also answers on the kube-dns Service IP (its iptables mode, where pods keep that IP in
   * resolv.conf), pass that IP.
   */
  nodeLocalDnsCache: (kubeDnsServiceIp?: string): TboNetworkPeer[] => [
    { ipBlock: { cidr: `${NODE_LOCAL_DNS_IP}/32` } },
    ...(kubeDnsServiceIp ? [{ ipBlock: { cidr: `${kubeDnsServiceIp}/32` } }] : []),
    { namespaceLabels: { ...DEFAULT_DNS_NAMESPACE_LABELS }, podLabels: { ...DEFAULT_DNS_POD_LABELS } },
  ],
  /** Cloud DNS for GKE: pods resolve through the node's metadata server (169.254.169.254), port 53 only. */
  GKE_CLOUD_DNS: [{ ipBlock: { cidr: `${GKE_METADATA_SERVER_IP}/32` } }] as readonly TboNetworkPeer[],
} as const;

/** A metric preset for `autoscaling.metrics`. */
export const TBO_AUTOSCALING_METRICS = {
  /**
   * `tbo_queue_length` (requests waiting for an upstream slot) averaged over the gateway's pods, as a
   * Pods metric from the Prometheus adapter; the default target 50 is the guide's "queue > 50".
   */
  queueLength: (averageValue: number | string = DEFAULT_QUEUE_LENGTH_TARGET): TboAutoscalingMetric => ({ type: 'Pods', name: 'tbo_queue_length', averageValue }),
} as const;
