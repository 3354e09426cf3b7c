/**
 * tbo-deploy/gcp: the TBO gateway on Cloud Run (cdktf + @cdktf/provider-google,
 * @cdktf/provider-random for the generated cache-signing key, and @cdktf/provider-docker, which builds
 * the bundled service and pushes it to Artifact Registry), with Secret Manager, Memorystore for
 * Redis (and its RDB exports to Cloud Storage), direct VPC egress, Cloud Monitoring alert policies,
 * OpenTelemetry traces to Cloud Trace, and Vertex AI access for the routes that use it.
 */
export { TboCloudRunService, SECRET_ID_SUFFIX, INVOKER_ROLE, ROLLOUT_MARKER_ENV, type TboServiceSecrets } from './cloud-run-service';
export { defaultServiceName, DERIVED_SERVICE_NAME_MAX_LENGTH } from './naming';
export {
  TboCloudRunImage,
  parseRepositoryName,
  resolveImageBuild,
  ARTIFACT_REGISTRY_API_SERVICE,
  ARTIFACT_REGISTRY_TOKEN_USER,
  CLOUD_RUN_IMAGE_PLATFORM,
  DEFAULT_KEPT_IMAGE_VERSIONS,
  IMAGE_REPOSITORY_SUFFIX,
  type ArtifactRegistryRepositoryRef,
  type ImageSourceProps,
  type ResolvedImageBuild,
  type TboArtifactRegistryOptions,
  type TboCloudRunImageProps,
} from './image';
export {
  CONTEXT_HASH_TRIGGER,
  SERVICE_IMAGE_NAME,
  TboServiceImage,
  buildContextFiles,
  buildContextHash,
  dockerProviderAlias,
  type TboImagePlatform,
  type TboServiceImageProps,
} from '../cdktf-image';
export {
  CLIENT_CREDENTIALS,
  CLOUD_RUN_INGRESS,
  MEMORYSTORE_CONNECT_MODES,
  MEMORYSTORE_REDIS_VERSIONS,
  MEMORYSTORE_TIERS,
  RDB_SNAPSHOT_PERIODS,
  type TboClientCredential,
  type TboCloudRunIngress,
  type TboCloudRunServiceProps,
  type TboExistingRedis,
  type ResolvedMemorystoreOptions,
  type TboMemorystoreConnectMode,
  type TboMemorystoreOptions,
} from './props';
export {
  TboMemorystoreExport,
  resolveMemorystoreExport,
  DEFAULT_EXPORT_EXPIRATION_DAYS,
  MEMORYSTORE_EXPORT_ROLES,
  type ResolvedMemorystoreExport,
  type TboMemorystoreExportOptions,
  type TboMemorystoreExportProps,
} from './backup';
export { resolveSecretReplication, AUTOMATIC_SECRET_REPLICATION, type TboSecretReplication } from './secret-replication';
export {
  TboTraceCollector,
  otelCollectorConfig,
  resolveCloudRunTracing,
  OTEL_COLLECTOR_CONFIG_MOUNT,
  OTEL_COLLECTOR_CONTAINER_NAME,
  OTEL_COLLECTOR_HEALTH_PORT,
  OTEL_COLLECTOR_IMAGE,
  OTEL_COLLECTOR_LIMITS,
  TRACE_AGENT_ROLE,
  type ResolvedCloudRunTracing,
  type TboCloudRunCollectorSidecarOptions,
  type TboCloudRunTracingOptions,
  type TboTraceCollectorProps,
} from './telemetry';
export { TboSecret, SECRET_ACCESSOR_ROLE, SECRET_PLACEHOLDER_PREFIX, secretPlaceholder, type TboSecretProps, type TboSecretSetting } from './secret';
export { TboNetwork, type TboNetworkProps } from './network';
export {
  TboVertexAccess,
  defaultVertexRoleId,
  resolveVertexAccess,
  VERTEX_API_SERVICE,
  VERTEX_PREDICT_PERMISSION,
  VERTEX_PREDICTOR_ROLE,
  VERTEX_PREDICTOR_ROLE_SUFFIX,
  VERTEX_USER_ROLE,
  type ResolvedVertexAccess,
  type TboVertexAccessProps,
  type TboVertexOptions,
  type TboVertexRole,
} from './vertex';
export { cacheSigningKeyPassword, defaultRandomProvider, CACHE_SIGNING_KEY_LENGTH, RANDOM_PROVIDER_ID } from './random';
export { TboMemorystoreRedis, type TboMemorystoreRedisProps } from './redis';
export { tboContainer, STARTUP_PROBE, LIVENESS_FAILURE_THRESHOLD, type TboContainerOptions } from './container';
export { requiredMemoryMiB, memoryLimit, CLOUD_RUN_CPUS, CLOUD_RUN_MAX_MEMORY_MIB, CLOUD_RUN_MIN_MEMORY_MIB, RUNTIME_BASELINE_MIB } from './sizing';
export { CLOUD_RUN_DRAIN_SECONDS, FALLBACK_SERVICE_NAME, cloudRunServiceConfig, resolveCloudRunProps, type ResolvedCloudRunProps } from './validate';
export {
  TboAlertPolicies,
  TboManagedPrometheus,
  resolveAlertOptions,
  resolveManagedPrometheus,
  ALERT_RULE_GROUP,
  GMP_CLOUD_RUN_CLUSTER,
  cloudRunMetricScope,
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
