import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';
import { RESTRICTED_NAMESPACE_LABELS } from './pod-security';

/** The namespace, labelled so the API server enforces the restricted Pod Security Standard. */
export function createNamespace(scope: Construct, plan: TboKubernetesPlan): NamespaceV1 {
  return new NamespaceV1(scope, 'Namespace', {
    metadata: {
      name: plan.namespaceName,
      labels: { 'app.kubernetes.io/part-of': 'tbo', 'app.kubernetes.io/managed-by': 'cdktf', ...RESTRICTED_NAMESPACE_LABELS },
    },
  });
}
