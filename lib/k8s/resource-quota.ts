import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';

/** The namespace's ResourceQuota (the guide's values, checked at synth to hold the autoscaler's peak). */
export function createResourceQuota(scope: Construct, plan: TboKubernetesPlan, namespace: string): ResourceQuotaV1 | undefined {
  if (!plan.resourceQuota) return undefined;
  return new ResourceQuotaV1(scope, 'ResourceQuota', {
    metadata: { name: plan.names.quota, namespace, labels: plan.labels },
    spec: { hard: { ...plan.resourceQuota } },
  });
}
