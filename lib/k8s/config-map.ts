import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { Construct } from 'constructs';
import { renderConfigYaml, renderEnvironment, type RedisLocation } from '../core';
import { quantity, type TboKubernetesPlan } from './plan';
import { tracingEnv } from './telemetry';

function redisLocation(plan: TboKubernetesPlan): RedisLocation | undefined {
  if (plan.redis.mode === 'in-cluster') return { host: plan.redis.host, port: plan.redis.port };
  if (plan.redis.mode === 'external') return { url: plan.redis.url };
  return undefined;
}

/** The guide's `config.yaml`, rendered by the shared contract from the service config and Redis location. */
export function renderK8sConfigYaml(plan: TboKubernetesPlan): string {
  return renderConfigYaml(plan.userConfig, redisLocation(plan));
}

/**
 * The container environment, rendered by the shared contract with this instance's Redis key prefix,
 * plus the `OTEL_*` variables when tracing is on (secrets are added by reference elsewhere).
 */
export function renderK8sEnvironment(plan: TboKubernetesPlan): Record<string, string> {
  return {
    ...renderEnvironment(plan.userConfig, redisLocation(plan), { redisKeyPrefix: plan.redisKeyPrefix, memoryBytes: quantity(plan.resources.limits.memory) }),
    ...tracingEnv(plan.telemetry, plan.config.serviceName),
  };
}

/** ConfigMap `tbo-config` holding `config.yaml`, mounted where the service reads it. */
export function createConfigMap(scope: Construct, plan: TboKubernetesPlan, namespace: string): ConfigMapV1 {
  return new ConfigMapV1(scope, 'ConfigMap', {
    metadata: { name: plan.names.configMap, namespace, labels: plan.labels },
    data: { [plan.configFileName]: renderK8sConfigYaml(plan) },
  });
}
