import { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';

/**
 * HorizontalPodAutoscaler (autoscaling/v2, so `kubernetes_horizontal_pod_autoscaler_v2`: the
 * provider's `_v1` kind is autoscaling/v1) on average CPU utilization.
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
      metric: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCpuUtilization } } }],
    },
  });
}
