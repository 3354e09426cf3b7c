import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';

/** PodDisruptionBudget: node drains and upgrades take gateway pods one at a time. */
export function createDisruptionBudget(scope: Construct, plan: TboKubernetesPlan, namespace: string): PodDisruptionBudgetV1 | undefined {
  const pdb = plan.disruptionBudget;
  if (!pdb) return undefined;
  return new PodDisruptionBudgetV1(scope, 'DisruptionBudget', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels },
    spec: { ...pdb, selector: { matchLabels: plan.selector } },
  });
}
