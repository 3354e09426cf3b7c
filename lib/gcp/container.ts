import type { CloudRunV2ServiceTemplateContainers } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { PROBE_PATHS, SERVICE_PORT, SETTINGS, type ServiceConfig } from '../core';
import { memoryLimit } from './sizing';
import type { TboSecret } from './secret';

/** What the TBO container runs with. */
export interface TboContainerOptions {
  /** Container image reference. */
  readonly image: string;
  /** Plain env vars, rendered by the shared contract (`renderEnvironment`). */
  readonly environment: Readonly<Record<string, string>>;
  /** Secrets injected as env vars with `secret_key_ref`. */
  readonly secrets: readonly TboSecret[];
  /** The resolved service configuration (the liveness period is its `healthCheckInterval`). */
  readonly config: ServiceConfig;
  /** vCPUs. */
  readonly cpu: number;
  /** Memory in MiB. */
  readonly memoryMiB: number;
}

/** Startup probe: the readiness path every 2 s, for up to 60 s. */
export const STARTUP_PROBE = { periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 30 } as const;
/** Liveness probe: three failures in a row restart the instance. */
export const LIVENESS_FAILURE_THRESHOLD = 3;

/**
 * The Cloud Run container block of the TBO service: port, probes and env all from the contract.
 * Its one container port (the one Cloud Run routes requests to) is the public port; the admin
 * listener (`TBO_ADMIN_PORT`, 9464: `/metrics`, `/health/details`) is deliberately not declared,
 * so only the instance's other containers reach it on localhost. The probes use the public port.
 */
export function tboContainer(o: TboContainerOptions): CloudRunV2ServiceTemplateContainers {
  const plain = Object.entries(o.environment).map(([name, value]) => ({ name, value }));
  const clash = o.secrets.find((s) => s.env in o.environment);
  if (clash) throw new Error(`tbo-deploy: ${clash.env} is both a plain env var and a secret; secrets are injected only by reference`);
  if (o.environment[SETTINGS.adminPort.env] === String(SERVICE_PORT)) {
    throw new Error(`tbo-deploy: ${SETTINGS.adminPort.env} is ${SERVICE_PORT}, the port Cloud Run routes requests to; the admin listener must never be the ingress port`);
  }
  const secret = o.secrets.map((s) => ({ name: s.env, valueSource: { secretKeyRef: { secret: s.secretRef, version: s.versionRef } } }));
  const livenessPeriod = Math.min(3600, Math.max(1, Math.ceil(o.config.healthCheckInterval)));
  return {
    name: 'tbo',
    image: o.image,
    ports: { name: 'http1', containerPort: SERVICE_PORT },
    env: [...plain, ...secret],
    resources: {
      limits: { cpu: String(o.cpu), memory: memoryLimit(o.memoryMiB) },
      cpuIdle: false,
      startupCpuBoost: true,
    },
    startupProbe: {
      httpGet: { path: PROBE_PATHS.readiness, port: SERVICE_PORT },
      initialDelaySeconds: 0,
      ...STARTUP_PROBE,
    },
    livenessProbe: {
      httpGet: { path: PROBE_PATHS.liveness, port: SERVICE_PORT },
      periodSeconds: livenessPeriod,
      timeoutSeconds: Math.min(livenessPeriod, 5),
      failureThreshold: LIVENESS_FAILURE_THRESHOLD,
    },
  };
}
