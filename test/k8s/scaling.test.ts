/** HorizontalPodAutoscaler, PodDisruptionBudget, ResourceQuota and LimitRange. */
import 'cdktf/lib/testing/adapters/jest';
import { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { Testing } from 'cdktf';
import { TboConfigValidationError } from '../../lib/core';
import { TBO_AUTOSCALING_METRICS, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth } from './support/manifest';
import { blockOf, N, synthService } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

const selector = { match_labels: { 'app.kubernetes.io/name': 'tbo', 'app.kubernetes.io/instance': N.service, 'app.kubernetes.io/component': 'gateway' } };

describe('HorizontalPodAutoscaler', () => {
  it('defaults to the guide\'s: autoscaling/v2, 2 to 20 pods at 70 % CPU, on the Deployment', () => {
    expect(synthService()).toHaveResourceWithProperties(HorizontalPodAutoscalerV2, {
      spec: {
        min_replicas: 2,
        max_replicas: 20,
        scale_target_ref: { api_version: 'apps/v1', kind: 'Deployment', name: expect.stringMatching(/^\$\{kubernetes_deployment_v1\..*\.metadata\[0\]\.name\}$/) },
        metric: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', average_utilization: 70 } } }],
      },
    });
  });

  it('takes min, max and target', () => {
    expect(synthService({ replicas: 4, autoscaling: { minReplicas: 4, maxReplicas: 8, targetCpuUtilization: 50 } })).toHaveResourceWithProperties(HorizontalPodAutoscalerV2, {
      spec: expect.objectContaining({ min_replicas: 4, max_replicas: 8, metric: [expect.objectContaining({ resource: { name: 'cpu', target: { type: 'Utilization', average_utilization: 50 } } })] }),
    });
  });

  it('autoscaling: false creates none', () => {
    expect(synthService({ autoscaling: false })).not.toHaveResource(HorizontalPodAutoscalerV2);
  });
});

describe('HorizontalPodAutoscaler on TBO\'s own signals (Prometheus adapter)', () => {
  const CPU = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', average_utilization: 70 } } };
  const metrics = (props: Partial<TboKubernetesServiceProps>) => (blockOf(synthService(props), 'kubernetes_horizontal_pod_autoscaler_v2').spec as { metric: unknown[] }).metric;

  it('stays on CPU alone by default', () => {
    expect(metrics({})).toEqual([CPU]);
  });

  it('adds tbo_queue_length averaged per pod, target 50 (the guide\'s queue > 50), next to CPU', () => {
    expect(TBO_AUTOSCALING_METRICS.queueLength()).toEqual({ type: 'Pods', name: 'tbo_queue_length', averageValue: 50 });
    expect(metrics({ autoscaling: { metrics: [TBO_AUTOSCALING_METRICS.queueLength()] } })).toEqual([
      CPU,
      { type: 'Pods', pods: { metric: { name: 'tbo_queue_length' }, target: { type: 'AverageValue', average_value: '50' } } },
    ]);
  });

  it('takes External metrics with a selector, and quantities as targets', () => {
    const external = { type: 'External', name: 'tbo_queue_length_sum', averageValue: '500m', selector: { service: 'tbo-prod' } } as const;
    expect(metrics({ autoscaling: { targetCpuUtilization: 80, metrics: [TBO_AUTOSCALING_METRICS.queueLength(20), external] } })).toEqual([
      { ...CPU, resource: { name: 'cpu', target: { type: 'Utilization', average_utilization: 80 } } },
      { type: 'Pods', pods: { metric: { name: 'tbo_queue_length' }, target: { type: 'AverageValue', average_value: '20' } } },
      { type: 'External', external: { metric: { name: 'tbo_queue_length_sum', selector: [{ match_labels: { service: 'tbo-prod' } }] }, target: { type: 'AverageValue', average_value: '500m' } } },
    ]);
  });

  it('is a valid autoscaling/v2 HorizontalPodAutoscaler', () => {
    const json = synthService({ autoscaling: { metrics: [TBO_AUTOSCALING_METRICS.queueLength(), { type: 'External', name: 'x', averageValue: 3, selector: { a: 'b' } }] } });
    const hpa = manifestsFromSynth(json).find((m) => m.manifest.kind === 'HorizontalPodAutoscaler')!.manifest;
    expect((hpa.spec as { metrics: unknown[] }).metrics[1]).toEqual({ type: 'Pods', pods: { metric: { name: 'tbo_queue_length' }, target: { type: 'AverageValue', averageValue: '50' } } });
    expect(() => validateManifest(hpa)).not.toThrow();
  });

  it.each<[string, Partial<TboKubernetesServiceProps>, RegExp]>([
    ['type', { autoscaling: { metrics: [{ type: 'Object' as never, name: 'x', averageValue: 1 }] } }, /autoscaling\.metrics\[0\]\.type: received "Object"; accepted values: Pods, External/],
    ['name', { autoscaling: { metrics: [{ type: 'Pods', name: 'queue length', averageValue: 1 }] } }, /autoscaling\.metrics\[0\]\.name: received "queue length"; must be a metric name the Prometheus adapter serves/],
    ['target', { autoscaling: { metrics: [TBO_AUTOSCALING_METRICS.queueLength(0)] } }, /autoscaling\.metrics\[0\]\.averageValue: received 0; must be a positive number or Kubernetes quantity/],
    ['target quantity', { autoscaling: { metrics: [{ type: 'Pods', name: 'x', averageValue: 'lots' }] } }, /autoscaling\.metrics\[0\]\.averageValue: received "lots"/],
    ['selector', { autoscaling: { metrics: [{ type: 'External', name: 'x', averageValue: 1, selector: {} }] } }, /autoscaling\.metrics\[0\]\.selector: received \{\}; must name at least one label/],
  ])('refuses a bad metric: %s', (_, props, expected) => {
    let message = '';
    try {
      synthService(props);
    } catch (err) {
      if (!(err instanceof TboConfigValidationError)) throw err;
      message = err.problems.join('\n');
    }
    expect(message).toMatch(expected);
  });
});

describe('the HPA owns the replica count', () => {
  type Block = { spec: { replicas?: string }; lifecycle?: { ignore_changes?: string[] } };
  const deployment = (json: string) => blockOf(json, 'kubernetes_deployment_v1') as unknown as Block;

  it('replicas is only the starting count: Terraform ignores it after creation, so a deploy never resets a scaled-out Deployment', () => {
    const json = synthService();
    expect(deployment(json).spec.replicas).toBe('5');
    expect(deployment(json).lifecycle).toEqual({ ignore_changes: ['spec[0].replicas'] });
    // The only replica count in the configuration is that ignored one: the HPA's min/max bound it.
    expect(JSON.stringify(deployment(json)).match(/replicas/g)).toHaveLength(2);
    expect(json).toHaveResourceWithProperties(HorizontalPodAutoscalerV2, {
      spec: expect.objectContaining({ scale_target_ref: expect.objectContaining({ name: expect.stringContaining('kubernetes_deployment_v1.') }) }),
    });
  });

  it('also with the queue metric and any starting count', () => {
    const json = synthService({ replicas: 2, autoscaling: { metrics: [TBO_AUTOSCALING_METRICS.queueLength()] } });
    expect(deployment(json)).toMatchObject({ spec: { replicas: '2' }, lifecycle: { ignore_changes: ['spec[0].replicas'] } });
  });

  it('without the HPA, Terraform owns it', () => {
    const json = synthService({ autoscaling: false, replicas: 3 });
    expect(json).toHaveResourceWithProperties(DeploymentV1, { spec: expect.objectContaining({ replicas: '3' }) });
    expect(deployment(json).lifecycle).toBeUndefined();
  });
});

describe('PodDisruptionBudget', () => {
  it('defaults to at most one gateway pod unavailable', () => {
    expect(synthService()).toHaveResourceWithProperties(PodDisruptionBudgetV1, { spec: { max_unavailable: '1', selector } });
  });

  it('takes maxUnavailable or minAvailable, counts or percentages', () => {
    expect(synthService({ disruptionBudget: { maxUnavailable: '20%' } })).toHaveResourceWithProperties(PodDisruptionBudgetV1, { spec: { max_unavailable: '20%', selector } });
    expect(synthService({ disruptionBudget: { minAvailable: 1 } })).toHaveResourceWithProperties(PodDisruptionBudgetV1, { spec: { min_available: '1', selector } });
  });

  it('disruptionBudget: false creates none', () => {
    expect(synthService({ disruptionBudget: false })).not.toHaveResource(PodDisruptionBudgetV1);
  });
});

describe('ResourceQuota', () => {
  it('defaults to the guide\'s values', () => {
    expect(synthService()).toHaveResourceWithProperties(ResourceQuotaV1, {
      spec: { hard: { 'requests.cpu': '10', 'requests.memory': '20Gi', 'limits.cpu': '20', 'limits.memory': '40Gi', pods: '50', persistentvolumeclaims: '10' } },
    });
  });

  it('merges given values over the defaults', () => {
    expect(synthService({ resourceQuota: { 'limits.memory': '64Gi', 'requests.storage': '100Gi' } })).toHaveResourceWithProperties(ResourceQuotaV1, {
      spec: { hard: expect.objectContaining({ 'limits.memory': '64Gi', 'requests.storage': '100Gi', 'requests.cpu': '10' }) },
    });
  });

  it('resourceQuota: false creates none', () => {
    expect(synthService({ resourceQuota: false })).not.toHaveResource(ResourceQuotaV1);
  });
});

describe('LimitRange', () => {
  it('defaults containers to the gateway\'s requests and limits, at most 2 CPU / 4Gi', () => {
    expect(synthService()).toHaveResourceWithProperties(LimitRangeV1, {
      spec: { limit: [{ type: 'Container', default: { cpu: '500m', memory: '1Gi' }, default_request: { cpu: '250m', memory: '512Mi' }, max: { cpu: '2', memory: '4Gi' } }] },
    });
  });

  it('follows the gateway\'s resources and takes its own values', () => {
    expect(synthService({ resources: { limits: { cpu: '750m' } }, limitRange: { max: { memory: '8Gi' }, defaultRequest: { cpu: '100m' } } })).toHaveResourceWithProperties(LimitRangeV1, {
      spec: { limit: [{ type: 'Container', default: { cpu: '750m', memory: '1Gi' }, default_request: { cpu: '100m', memory: '512Mi' }, max: { cpu: '2', memory: '8Gi' } }] },
    });
  });

  it('limitRange: false creates none', () => {
    expect(synthService({ limitRange: false })).not.toHaveResource(LimitRangeV1);
  });
});
