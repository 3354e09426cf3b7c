import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { SIDECAR_OTLP_ENDPOINT, tracingEnvironment } from '../core';
import { AWS_DEFAULTS } from './defaults';
import { acknowledge } from './nag';
import type { ResolvedCollectorSidecar, ResolvedTracing } from './resolve-telemetry';

/** The collector sidecar's name in the task definition. */
export const COLLECTOR_CONTAINER_NAME = 'otel-collector';

/**
 * The X-Ray actions the sidecar calls, and only those: its `awsxray` exporter sends spans with
 * PutTraceSegments and its telemetry with PutTelemetryRecords (opentelemetry-collector-contrib
 * exporter/awsxrayexporter/awsxray.go and internal/aws/xray/telemetry/sender.go, vendored in
 * aws-otel-collector v0.49.0). The ECS guide's ADOT policy also lists xray:GetSamplingRules,
 * GetSamplingTargets and GetSamplingStatisticSummaries
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/trace-data.html): those serve X-Ray
 * centralized sampling (the X-Ray SDKs, the collector's awsproxy extension), which this
 * configuration does not use: the gateway samples by itself (`OTEL_TRACES_SAMPLER`).
 */
export const XRAY_WRITE_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;

/** The gateway container's `OTEL_*` environment: the existing collector, or the sidecar on localhost; empty without tracing. */
export function gatewayTracingEnvironment(serviceName: string, tracing: ResolvedTracing | undefined): Record<string, string> {
  if (!tracing) return {};
  return tracingEnvironment(serviceName, tracing.sidecar ? SIDECAR_OTLP_ENDPOINT : tracing.otlpEndpoint, tracing.samplingRatio);
}

/**
 * Adds the ADOT collector to the task: not essential (the gateway keeps serving when it stops, and
 * ECS restarts it), non-root, read-only root filesystem, a hard memory limit with the Go runtime's
 * soft limit under it, logs to the service's log group (stream prefix `ecs`, then its name) and
 * the image's own health check. No port mapping: the gateway reaches it on localhost.
 */
export function addCollectorSidecar(taskDefinition: ecs.FargateTaskDefinition, logGroup: logs.ILogGroup, sidecar: ResolvedCollectorSidecar): ecs.ContainerDefinition {
  const d = AWS_DEFAULTS.collectorSidecar;
  const ownImage = sidecar.image === undefined;
  return taskDefinition.addContainer('OtelCollector', {
    containerName: COLLECTOR_CONTAINER_NAME,
    image: sidecar.image ?? ecs.ContainerImage.fromRegistry(d.image),
    essential: false,
    enableRestartPolicy: true,
    command: [`--config=${sidecar.configPath}`],
    memoryLimitMiB: sidecar.memoryLimitMiB,
    // The Go runtime collects harder near this soft limit, before the container's hard limit kills it.
    environment: { GOMEMLIMIT: `${Math.floor(sidecar.memoryLimitMiB * 0.8)}MiB` },
    // the pinned image runs as `aoc` (4317); another image keeps its own user
    user: ownImage ? d.user : undefined,
    readonlyRootFilesystem: true,
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: AWS_DEFAULTS.logStreamPrefix }),
    // the image is FROM scratch (no shell): exec form, its /healthcheck binary
    healthCheck: ownImage
      ? { command: ['CMD', d.healthCheckCommand], interval: Duration.seconds(30), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(10) }
      : undefined,
  });
}

/**
 * The task role's X-Ray policy: {@link XRAY_WRITE_ACTIONS} on `*` (they support no resource-level
 * permissions), acknowledged to cdk-nag with that reason.
 */
export function grantXRayWrite(scope: Construct, taskRole: iam.IRole): iam.Policy {
  const policy = new iam.Policy(scope, 'XRayPolicy', {
    statements: [new iam.PolicyStatement({ actions: [...XRAY_WRITE_ACTIONS], resources: ['*'] })],
    roles: [taskRole],
  });
  acknowledge(
    policy,
    'AwsSolutions-IAM5[Resource::*]',
    'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (the Service Authorization Reference lists ' +
      'no resource type for them), so the resource is "*"; the statement names just these two write actions, which the ADOT collector sidecar needs to export traces.',
  );
  return policy;
}
