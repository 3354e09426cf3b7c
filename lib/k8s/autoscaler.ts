import { HorizontalPodAutoscalerV2, type HorizontalPodAutoscalerV2SpecMetric } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';
import type { TboAutoscalingMetric } from './props';

/** One Prometheus-adapter metric as an HPA metric: a Pods or External series with an average-per-pod target. */
export function adapterMetric(metric: TboAutoscalingMetric): HorizontalPodAutoscalerV2SpecMetric {
  const source = {
    metric: { name: metric.name, ...(metric.selector && { selector: [{ matchLabels: { ...metric.selector } }] }) },
    target: { type: 'AverageValue', averageValue: String(metric.averageValue) },
  };
  return metric.type === 'Pods' ? { type: 'Pods', pods: source } : { type: 'External', external: source };
}

/**
 * HorizontalPodAutoscaler (autoscaling/v2, so `kubernetes_horizontal_pod_autoscaler_v2`: the
 * provider's `_v1` kind is autoscaling/v1) on average CPU utilization, plus any Prometheus-adapter
 * metrics (e.g. `tbo_queue_length` per pod); the HPA follows whichever asks for the most pods.
 */
export function createAutoscaler(scope: Construct, plan: TboKubernetesPlan, namespace: string, deploymentName: string): HorizontalPodAutoscalerV2 | undefined {
  const a = plan.autoscaling;
  if (!a) return undefined;
  return new HorizontalPodAutoscalerV2(scope, 'Autoscaler', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels },
    spec: {
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
      metric: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCpuUtilization } } },
        ...a.metrics.map(adapterMetric),
      ],
    },
  });
}
