import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';

/** The gateway's own ServiceAccount; it needs no Kubernetes API access, so no token is mounted. */
export function createServiceAccount(scope: Construct, plan: TboKubernetesPlan, namespace: string): ServiceAccountV1 {
  return new ServiceAccountV1(scope, 'ServiceAccount', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels },
    automountServiceAccountToken: false,
  });
}
