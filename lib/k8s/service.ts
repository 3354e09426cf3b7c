import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import type { Construct } from 'constructs';
import { SERVICE_PORT } from '../core';
import { SERVICE_EXPOSED_PORT } from './defaults';
import type { TboKubernetesPlan } from './plan';

/** ClusterIP Service: port 80 → the container port. */
export function createService(scope: Construct, plan: TboKubernetesPlan, namespace: string): ServiceV1 {
  return new ServiceV1(scope, 'Service', {
    metadata: { name: plan.names.service, namespace, labels: plan.labels },
    spec: {
      type: 'ClusterIP',
      selector: plan.selector,
      port: [{ name: 'http', port: SERVICE_EXPOSED_PORT, targetPort: String(SERVICE_PORT), protocol: 'TCP' }],
    },
  });
}
