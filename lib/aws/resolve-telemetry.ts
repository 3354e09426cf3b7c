import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { DEFAULT_TRACE_SAMPLING_RATIO, validateTracing, type PropValidator } from '../core';
import { AWS_DEFAULTS } from './defaults';
import type { TboAwsTracingOptions } from './props';

/** The ADOT collector sidecar, with the defaults filled in. */
export interface ResolvedCollectorSidecar {
  /** The user's image; undefined for the pinned ADOT image. */
  readonly image?: ecs.ContainerImage;
  readonly configPath: string;
  readonly memoryLimitMiB: number;
}

/** Where the gateway's traces go. */
export interface ResolvedTracing {
  /** The existing collector's OTLP/HTTP base URL; undefined with the sidecar. */
  readonly otlpEndpoint?: string;
  readonly samplingRatio: number;
  /** The sidecar; undefined with `otlpEndpoint`. */
  readonly sidecar?: ResolvedCollectorSidecar;
}

/**
 * Validates `tracing` through `v` (lib/core's shared checks, then this target's own) and applies
 * its defaults; `tracing` undefined when tracing is off.
 */
export function resolveTracing(
  tracing: TboAwsTracingOptions | undefined,
  taskMemoryMiB: number,
  v: PropValidator,
): { readonly tracing?: ResolvedTracing } {
  validateTracing(v, tracing);
  if (!tracing) return {};
  const sidecarOption = tracing.collectorSidecar ?? false;
  const hasEndpoint = tracing.otlpEndpoint !== undefined;
  v.check(
    !(hasEndpoint && sidecarOption !== false),
    'tracing.collectorSidecar',
    sidecarOption === true ? true : '(options)',
    `contradicts tracing.otlpEndpoint (${JSON.stringify(tracing.otlpEndpoint)}): the gateway exports to one collector; remove one of them`,
  );
  v.check(
    !(tracing.samplingRatio !== undefined && !hasEndpoint && sidecarOption === false),
    'tracing.samplingRatio',
    tracing.samplingRatio,
    'is unused without tracing.otlpEndpoint or tracing.collectorSidecar (tracing is off); add one of them or remove it',
  );
  const samplingRatio = tracing.samplingRatio ?? DEFAULT_TRACE_SAMPLING_RATIO;
  if (sidecarOption === false) return { tracing: hasEndpoint ? { otlpEndpoint: tracing.otlpEndpoint, samplingRatio } : undefined };

  const options = sidecarOption === true ? {} : sidecarOption;
  const d = AWS_DEFAULTS.collectorSidecar;
  const memoryLimitMiB = options.memoryLimitMiB ?? d.memoryLimitMiB;
  v.integer('tracing.collectorSidecar.memoryLimitMiB', options.memoryLimitMiB, 32, Math.floor(taskMemoryMiB / 2));
  const configPath = options.configPath ?? d.configPath;
  v.check(/^\/\S+$/.test(configPath), 'tracing.collectorSidecar.configPath', configPath, 'must be an absolute path in the image (e.g. /etc/ecs/ecs-xray.yaml)');
  return { tracing: { samplingRatio, sidecar: { image: options.image, configPath, memoryLimitMiB } } };
}
