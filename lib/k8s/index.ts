/**
 * tbo-deploy/k8s: the TBO gateway on Kubernetes with cdktf and @cdktf/provider-kubernetes
 * (install both; they are optional peer dependencies of tbo-deploy).
 */
export * from './props';
export { TboKubernetesService } from './tbo-kubernetes-service';
export { TboKubernetesRedis, type TboKubernetesRedisRefs } from './redis';
export type { TboKubernetesPlan, RedisPlan, ResolvedResources, SecretRef } from './plan';
export { RESTRICTED_NAMESPACE_LABELS, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';
export { parseQuantity } from './quantity';
