/** kubernetes-models validation (AJV on the real OpenAPI schema) for mapped manifests. */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { validateGatewayApi } from './gateway-api';
import type { KnownKind } from './k8s-schema';
import type { Manifest } from './manifest';

type Model = new (data: never) => { validate(): void };

const MODELS: Readonly<Record<Exclude<KnownKind, 'HTTPRoute'>, Model>> = {
  Namespace, ConfigMap, Secret, ServiceAccount, Service, ResourceQuota, LimitRange, PersistentVolumeClaim,
  Deployment, StatefulSet, CronJob, Ingress, NetworkPolicy, PodDisruptionBudget, HorizontalPodAutoscaler,
};

/**
 * Throws kubernetes-models' validation error (types, required fields, enums, quantities), or for
 * Gateway API kinds @kubernetes-models/gateway-api's (patterns such as durations and host names too).
 */
export function validateManifest(manifest: Manifest): void {
  if (manifest.kind === 'HTTPRoute') {
    const [error] = validateGatewayApi([manifest]);
    if (error) throw new Error(error);
    return;
  }
  new MODELS[manifest.kind](manifest as never).validate();
}
