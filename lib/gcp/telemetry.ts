import type { CloudRunV2ServiceTemplateContainers, CloudRunV2ServiceTemplateVolumes } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret, type SecretManagerSecretReplication } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { DEFAULT_TRACE_SAMPLING_RATIO, OTLP_HTTP_PORT, SIDECAR_OTLP_ENDPOINT, validateTracing, type PropValidator, type TboTracingOptions } from '../core';
import { sidecarConfig } from './sidecar-config';

/**
 * Google's OpenTelemetry Collector build ("Google-Built OpenTelemetry Collector"), the image
 * Google's guide "Deploy Google-Built OpenTelemetry Collector on Cloud Run" runs as a sidecar;
 * pinned to release 0.156.0 (GoogleCloudPlatform/opentelemetry-operations-collector tag v0.156.0).
 * Its default command reads `/etc/otelcol-google/config.yaml`.
 */
export const OTEL_COLLECTOR_IMAGE = 'us-docker.pkg.dev/cloud-ops-agents-artifacts/google-cloud-opentelemetry-collector/otelcol-google:0.156.0';
/** The role that lets the collector write spans to Cloud Trace (`cloudtrace.traces.patch`, `telemetry.traces.write`); grantable on a project, nothing narrower. */
export const TRACE_AGENT_ROLE = 'roles/cloudtrace.agent';
/** Name of the collector container. */
export const OTEL_COLLECTOR_CONTAINER_NAME = 'otel-collector';
/** Where the collector's image reads its configuration (the secret volume is mounted here). */
export const OTEL_COLLECTOR_CONFIG_MOUNT = '/etc/otelcol-google';
/**
 * Port of the collector's `health_check` extension, which the startup probe reads. Not Google's
 * 13133: the Managed Service for Prometheus sidecar (`managedPrometheus`) serves its own liveness
 * endpoint on :13133 in the same instance (run-gmp-sidecar's entrypoint), and two listeners on one
 * port would stop the second container from starting.
 */
export const OTEL_COLLECTOR_HEALTH_PORT = 13134;
/** CPU and memory of the collector container (Cloud Run's default container size, as the metrics sidecar). */
export const OTEL_COLLECTOR_LIMITS = { cpu: '1', memory: '512Mi' } as const;

/** The OpenTelemetry collector sidecar (`tracing.collectorSidecar` of `TboCloudRunService`). */
export interface TboCloudRunCollectorSidecarOptions {
  /** Collector image; another image must read the same configuration file (`/etc/otelcol-google/config.yaml`) and include the `googlecloud` exporter. @default - {@link OTEL_COLLECTOR_IMAGE}, pinned */
  readonly image?: string;
  /** Grant the service account `roles/cloudtrace.agent` on the project (the only role the collector needs; it has no narrower scope). Set false where a platform team grants roles. @default true */
  readonly grantTraceAgent?: boolean;
}

/** Traces of the gateway on Cloud Run: the shared settings, and the collector sidecar that sends them to Cloud Trace. */
export interface TboCloudRunTracingOptions extends TboTracingOptions {
  /**
   * Run Google's OpenTelemetry Collector as a sidecar (`true`, or options): it receives the
   * gateway's OTLP/HTTP on localhost:4318 and exports the spans to Cloud Trace; the gateway
   * container starts once it is healthy. 1 vCPU / 512 MiB more per instance, a config secret, and
   * `roles/cloudtrace.agent` on the project for the service account. Not with `otlpEndpoint`.
   * @default false
   */
  readonly collectorSidecar?: boolean | TboCloudRunCollectorSidecarOptions;
}

/** `tracing` with its defaults applied: where the gateway exports to, and the sidecar if any. */
export interface ResolvedCloudRunTracing {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the existing collector, or the sidecar on localhost. */
  readonly endpoint: string;
  readonly samplingRatio: number;
  /** The sidecar; undefined with `otlpEndpoint`. */
  readonly collectorSidecar?: Required<TboCloudRunCollectorSidecarOptions>;
}

const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/**
 * Checks `tracing` through `v` (lib/core's shared checks, then this target's own) and applies its
 * defaults; `tracing` undefined when tracing is off.
 */
export function resolveCloudRunTracing(v: PropValidator, tracing: TboCloudRunTracingOptions | undefined): { readonly tracing?: ResolvedCloudRunTracing } {
  validateTracing(v, tracing);
  if (!tracing) return {};
  const sidecar = tracing.collectorSidecar ?? false;
  const hasEndpoint = tracing.otlpEndpoint !== undefined;
  v.check(!(hasEndpoint && sidecar !== false), 'tracing.collectorSidecar', sidecar === true ? true : '(options)',
    `contradicts tracing.otlpEndpoint (${JSON.stringify(tracing.otlpEndpoint)}): the gateway exports to one collector; remove one of them`);
  v.check(hasEndpoint || sidecar !== false, 'tracing', tracing,
    'exports nothing without tracing.otlpEndpoint (an existing collector) or tracing.collectorSidecar (Google\'s collector, to Cloud Trace); add one of them or remove tracing');
  const samplingRatio = tracing.samplingRatio ?? DEFAULT_TRACE_SAMPLING_RATIO;
  if (sidecar === false) return { tracing: hasEndpoint ? { endpoint: tracing.otlpEndpoint!, samplingRatio } : undefined };
  const o = sidecar === true ? {} : sidecar;
  const image = o.image ?? OTEL_COLLECTOR_IMAGE;
  if (known(image)) v.check(image.trim().length > 0 && !/\s/.test(image), 'tracing.collectorSidecar.image', image, 'must be a container image reference');
  return { tracing: { endpoint: SIDECAR_OTLP_ENDPOINT, samplingRatio, collectorSidecar: { image, grantTraceAgent: o.grantTraceAgent ?? true } } };
}

/**
 * The collector's configuration: OTLP/HTTP in on localhost only, traces only, out to Cloud Trace
 * through the `googlecloud` exporter, after Google's recommended processors (memory limiter first,
 * GCP resource detection, batching), with the `health_check` extension Cloud Run's startup probe
 * needs. The collector's own metrics are off (nothing would read them; it binds no port for them).
 */
export function otelCollectorConfig(): Record<string, unknown> {
  return {
    receivers: { otlp: { protocols: { http: { endpoint: `localhost:${OTLP_HTTP_PORT}` } } } },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 65, spike_limit_percentage: 20 },
      resourcedetection: { detectors: ['gcp'], timeout: '10s' },
      batch: { send_batch_size: 200, send_batch_max_size: 200, timeout: '5s' },
    },
    exporters: { googlecloud: {} },
    extensions: { health_check: { endpoint: `0.0.0.0:${OTEL_COLLECTOR_HEALTH_PORT}` } },
    service: {
      extensions: ['health_check'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'resourcedetection', 'batch'], exporters: ['googlecloud'] } },
      telemetry: { metrics: { level: 'none' } },
    },
  };
}

/** Properties of {@link TboTraceCollector}. */
export interface TboTraceCollectorProps extends Required<TboCloudRunCollectorSidecarOptions> {
  /** Project of the config secret and of the trace agent grant. @default - the provider's project */
  readonly project?: string;
  /** Prefixes the config secret (`<serviceName>-otel-config`). */
  readonly serviceName: string;
  /** The service's identity (`serviceAccount:…`): reads the config, writes the spans. */
  readonly accessor: string;
  /** Terraform deletion protection of the config secret. @default true */
  readonly deletionProtection?: boolean;
  /** Replication policy of the config secret. @default - automatic replication */
  readonly replication?: SecretManagerSecretReplication;
}

/**
 * Google's OpenTelemetry Collector as a Cloud Run sidecar exporting the gateway's traces to Cloud
 * Trace, as Google's guide deploys it: its configuration ({@link otelCollectorConfig}, no
 * credential in it) is a Secret Manager secret version mounted at `/etc/otelcol-google/config.yaml`
 * (readable by the service's account only), a startup probe on the `health_check` extension, and
 * the gateway container listed after it (`depends_on`), so the gateway starts once the collector is
 * healthy and its first spans find a receiver. The service account gets `roles/cloudtrace.agent`
 * on the project and nothing else. Cloud Run sends the collector's own logs to Cloud Logging.
 */
export class TboTraceCollector extends Construct {
  /** The collector's configuration (YAML). */
  readonly config: string;
  /** The secret holding {@link config}. */
  readonly configSecret: SecretManagerSecret;
  /** Its version. */
  readonly configVersion: SecretManagerSecretVersion;
  /** `roles/secretmanager.secretAccessor` on the config secret only. */
  readonly configAccessorGrant: SecretManagerSecretIamMember;
  /** `roles/cloudtrace.agent` on the project. @default - undefined with `grantTraceAgent: false` */
  readonly traceAgentGrant?: ProjectIamMember;
  /** The Cloud Run volume of the configuration. */
  readonly volume: CloudRunV2ServiceTemplateVolumes;
  /** What the Cloud Run revision needs before it starts: the config version, read access, and the trace agent grant. */
  readonly prerequisites: ITerraformDependable[];
  private readonly image: string;

  constructor(scope: Construct, id: string, props: TboTraceCollectorProps) {
    super(scope, id);
    this.image = props.image;
    this.config = stringify(otelCollectorConfig());
    const parts = sidecarConfig(this, {
      project: props.project,
      secretId: `${props.serviceName}-otel-config`,
      content: 'otel-collector-config',
      config: this.config,
      volumeName: 'otel-config',
      accessor: props.accessor,
      deletionProtection: props.deletionProtection,
      replication: props.replication,
      projectRole: props.grantTraceAgent ? { id: 'TraceAgentGrant', role: TRACE_AGENT_ROLE } : undefined,
    });
    ({ configSecret: this.configSecret, configVersion: this.configVersion, configAccessorGrant: this.configAccessorGrant, projectRoleGrant: this.traceAgentGrant, volume: this.volume } = parts);
    this.prerequisites = parts.prerequisites;
  }


  /** The collector container: no port (only the gateway takes traffic), healthy once its health check answers. */
  container(): CloudRunV2ServiceTemplateContainers {
    return {
      name: OTEL_COLLECTOR_CONTAINER_NAME,
      image: this.image,
      resources: { limits: { ...OTEL_COLLECTOR_LIMITS }, cpuIdle: false },
      volumeMounts: [{ name: this.volume.name, mountPath: OTEL_COLLECTOR_CONFIG_MOUNT }],
      startupProbe: { httpGet: { path: '/', port: OTEL_COLLECTOR_HEALTH_PORT }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 30 },
    };
  }
}
