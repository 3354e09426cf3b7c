/**
 * tbo-deploy/k8s: the TBO gateway on Kubernetes with cdktf, @cdktf/provider-kubernetes and
 * @cdktf/provider-docker (which builds and pushes the bundled service with `registry`); install
 * them, they are optional peer dependencies of tbo-deploy.
 */
export * from './props';
export { TboKubernetesService } from './tbo-kubernetes-service';
export { ARCH_NODE_LABEL, ARM64_TOLERATION, REGISTRY_HOST, REPOSITORY_PATH, nodeSelectorFor, registryAuthOf, type KubernetesServiceImage } from './image';
export {
  CONTEXT_HASH_TRIGGER,
  DEFAULT_IMAGE_PLATFORM,
  IMAGE_PLATFORMS,
  SERVICE_IMAGE_NAME,
  TboServiceImage,
  buildContextFiles,
  buildContextHash,
  dockerProviderAlias,
  type TboImagePlatform,
  type TboServiceImageProps,
} from '../cdktf-image';
export {
  GKE_LOAD_BALANCER_RANGES,
  GKE_METADATA_SERVER_IP,
  NODE_LOCAL_DNS_IP,
  TBO_AUTOSCALING_METRICS,
  TBO_DNS_DESTINATIONS,
  TBO_INGRESS_SOURCES,
} from './network-sources';
export { defaultInstanceName } from './names';
export { HTTP_ROUTE_API_VERSION } from './http-route';
export { TboKubernetesRedis, type TboKubernetesRedisRefs } from './redis';
export { BACKUP_VOLUME, TboKubernetesRedisBackup, restoreInitContainer, type TboKubernetesRedisBackupRefs } from './backup';
export { DR_RUNBOOK_KEYS, DR_RUNBOOK_NAME, TboKubernetesDrRunbook, drRunbookValues, type TboKubernetesDrRunbookProps } from './dr-runbook';
export { clusterServicePeer, type TelemetryEgress, type TelemetryPlan } from './telemetry';
export { isCronSchedule } from './validate-backup';
export type { TboKubernetesPlan, RedisBackupClaimPlan, RedisBackupPlan, RedisPlan, ResolvedResources, SecretRef } from './plan';
export { RESTRICTED_NAMESPACE_LABELS, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';
export { parseQuantity } from './quantity';
export {
  EKS_POD_IDENTITY_AGENT,
  GKE_METADATA_SERVER,
  GKE_SERVICE_ACCOUNT_ANNOTATION,
  IRSA_ROLE_ANNOTATION,
  type WorkloadIdentityPlan,
} from './workload-identity';
