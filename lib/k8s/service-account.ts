import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';
import { serviceAccountAnnotations } from './workload-identity';

/**
 * The gateway's own ServiceAccount, annotated for its cloud identity (IRSA's role ARN, GKE's Google
 * service account) when `workloadIdentity` names one. It needs no Kubernetes API access, so no API
 * token is mounted: IRSA and EKS Pod Identity mount their own projected tokens (their webhook adds the
 * volume whatever `automountServiceAccountToken` says), and GKE Workload Identity needs none.
 */
export function createServiceAccount(scope: Construct, plan: TboKubernetesPlan, namespace: string): ServiceAccountV1 {
  const annotations = serviceAccountAnnotations(plan.workloadIdentity);
  return new ServiceAccountV1(scope, 'ServiceAccount', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels, ...(Object.keys(annotations).length > 0 && { annotations }) },
    automountServiceAccountToken: false,
  });
}
