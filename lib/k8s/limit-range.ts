import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';

/** The namespace's LimitRange: defaults for containers that set none, and a ceiling. */
export function createLimitRange(scope: Construct, plan: TboKubernetesPlan, namespace: string): LimitRangeV1 | undefined {
  const lr = plan.limitRange;
  if (!lr) return undefined;
  return new LimitRangeV1(scope, 'LimitRange', {
    metadata: { name: plan.names.limitRange, namespace, labels: plan.labels },
    spec: { limit: [{ type: 'Container', default: { ...lr.default }, defaultRequest: { ...lr.defaultRequest }, max: { ...lr.max } }] },
  });
}
