/**
 * tbo-deploy/gcp: the TBO gateway on Cloud Run (cdktf + @cdktf/provider-google, and
 * @cdktf/provider-random for the generated cache-signing key), with Secret Manager, Memorystore
 * for Redis, direct VPC egress, and Cloud Monitoring alert policies.
 */
export { TboCloudRunService, SECRET_ID_SUFFIX, INVOKER_ROLE, type TboServiceSecrets } from './cloud-run-service';
export {
  CLIENT_CREDENTIALS,
  CLOUD_RUN_INGRESS,
  MEMORYSTORE_REDIS_VERSIONS,
  MEMORYSTORE_TIERS,
  RDB_SNAPSHOT_PERIODS,
  type TboClientCredential,
  type TboCloudRunIngress,
  type TboCloudRunServiceProps,
  type TboExistingRedis,
  type TboMemorystoreOptions,
} from './props';
export { TboSecret, SECRET_ACCESSOR_ROLE, type TboSecretProps, type TboSecretSetting } from './secret';
export { TboNetwork, type TboNetworkProps } from './network';
export { cacheSigningKeyPassword, defaultRandomProvider, CACHE_SIGNING_KEY_LENGTH, RANDOM_PROVIDER_ID } from './random';
export { TboMemorystoreRedis, type TboMemorystoreRedisProps } from './redis';
export { tboContainer, STARTUP_PROBE, LIVENESS_FAILURE_THRESHOLD, type TboContainerOptions } from './container';
export { requiredMemoryMiB, memoryLimit, CLOUD_RUN_CPUS, CLOUD_RUN_MAX_MEMORY_MIB, CLOUD_RUN_MIN_MEMORY_MIB, RUNTIME_BASELINE_MIB } from './sizing';
export { CLOUD_RUN_DRAIN_SECONDS, cloudRunServiceConfig, resolveCloudRunProps, type ResolvedCloudRunProps } from './validate';
export {
  TboAlertPolicies,
  TboManagedPrometheus,
  resolveAlertOptions,
  resolveManagedPrometheus,
  ALERT_RULE_GROUP,
  GMP_CONFIG_MOUNT,
  GMP_CONTAINER_NAME,
  GMP_SIDECAR_IMAGE,
  GMP_SIDECAR_LIMITS,
  METRIC_WRITER_ROLE,
  type TboAlertPoliciesProps,
  type TboAlertPolicyOptions,
  type TboManagedPrometheusOptions,
  type TboManagedPrometheusProps,
} from './alerts';
