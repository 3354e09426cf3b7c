/** HorizontalPodAutoscaler, PodDisruptionBudget, ResourceQuota and LimitRange. */
import 'cdktf/lib/testing/adapters/jest';
import { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { Testing } from 'cdktf';
import { synthService } from './support/synth';

Testing.setupJest();

const selector = { match_labels: { 'app.kubernetes.io/name': 'tbo', 'app.kubernetes.io/instance': 'tbo-service', 'app.kubernetes.io/component': 'gateway' } };

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
