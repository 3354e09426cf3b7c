import {
  DeploymentV1,
  type DeploymentV1SpecTemplateSpecContainerEnv,
  type DeploymentV1SpecTemplateSpecToleration,
  type DeploymentV1SpecTemplateSpecTopologySpreadConstraint,
} from '@cdktf/provider-kubernetes/lib/deployment-v1';
import type { Construct } from 'constructs';
import { ADMIN_PORT, CONFIG_MOUNT_DIR, PROBE_PATHS, SERVICE_PORT } from '../core';
import { renderK8sEnvironment } from './config-map';
import { PROBE_TIMINGS, ROLLING_UPDATE } from './defaults';
import { containerResources, type TboKubernetesPlan } from './plan';
import type { TboToleration } from './props';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';

/** Names of the resources a Deployment refers to (tokens, so Terraform orders creation). */
export interface DeploymentRefs {
  readonly namespace: string;
  readonly configMap: string;
  readonly serviceAccount: string;
  readonly secret: string;
}

/** Size of the writable /tmp (the root filesystem is read-only). */
const TMP_SIZE_LIMIT = '64Mi';

/**
 * The preStop hook: keep serving for `seconds` so endpoints, the ingress and load balancers stop
 * sending new requests before SIGTERM closes the listener. The image (the official Node.js image running
 * `node dist/main.js` as `node`) is only guaranteed to have node, not a shell or `sleep`, so the hook
 * waits in node; it costs one short-lived node process (~40 MB) per terminating pod.
 */
export function preStopCommand(seconds: number): string[] {
  return ['node', '-e', `setTimeout(() => {}, ${seconds * 1000})`];
}

/** Environment: every setting from the contract, then each credential by Secret reference. */
export function containerEnv(plan: TboKubernetesPlan, secretName: string): DeploymentV1SpecTemplateSpecContainerEnv[] {
  const plain = Object.entries(renderK8sEnvironment(plan)).map(([name, value]) => ({ name, value }));
  const secrets = plan.secret.refs.map((ref) => ({
    name: ref.env,
    valueFrom: { secretKeyRef: { name: secretName, key: ref.key, optional: ref.optional } },
  }));
  return [...plain, ...secrets];
}

/** Prometheus scrape annotations, when the service serves metrics: the admin port, never the public one. */
export function scrapeAnnotations(plan: TboKubernetesPlan): Record<string, string> {
  if (!plan.config.enableMetrics) return {};
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(ADMIN_PORT), 'prometheus.io/path': PROBE_PATHS.metrics };
}

/** A toleration as the provider takes it (`toleration_seconds` is a string there). */
function toleration(t: TboToleration): DeploymentV1SpecTemplateSpecToleration {
  return {
    key: t.key,
    operator: t.operator,
    value: t.value,
    effect: t.effect,
    tolerationSeconds: t.tolerationSeconds === undefined ? undefined : String(t.tolerationSeconds),
  };
}

/** Spread pods across zones, then nodes; prefer, never block scheduling (single-zone clusters still work). */
function topologySpread(plan: TboKubernetesPlan): DeploymentV1SpecTemplateSpecTopologySpreadConstraint[] {
  return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: [{ matchLabels: { ...plan.selector } }],
  }));
}

/**
 * The gateway Deployment: the guide's replicas, resources, probes, config mount and secret, plus a
 * startup probe, the restricted Pod Security Standard, zero-downtime rollouts, zone/node spreading
 * and streams that survive termination: a preStop wait, then SIGTERM and the service's drain (at
 * least maxStreamDuration), then SIGKILL only after preStop + drain + 5 s. The container has two ports:
 * `http` (the public listener, which the probes, the Service and the Ingress use) and `admin`
 * (`/metrics`, `/health/details`: only the scrape annotations and the monitoring namespace use it).
 */
export function createDeployment(scope: Construct, plan: TboKubernetesPlan, refs: DeploymentRefs): DeploymentV1 {
  const httpGet = (path: string) => ({ path, port: String(SERVICE_PORT) });
  return new DeploymentV1(scope, 'Deployment', {
    metadata: { name: plan.names.service, namespace: refs.namespace, labels: plan.labels },
    // The autoscaler owns the replica count once it runs: Terraform sets it at creation only (the
    // starting count) and never resets it, so a deploy at 20 pods under load stays at 20.
    lifecycle: plan.autoscaling ? { ignoreChanges: ['spec[0].replicas'] } : undefined,
    spec: {
      replicas: String(plan.replicas),
      revisionHistoryLimit: 10,
      selector: { matchLabels: plan.selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { ...ROLLING_UPDATE } },
      template: {
        metadata: { labels: plan.labels, annotations: scrapeAnnotations(plan) },
        spec: {
          serviceAccountName: refs.serviceAccount,
          automountServiceAccountToken: false,
          // Service links would inject e.g. TBO_PORT=tcp://… for a Service named "tbo" and break config.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: plan.terminationGracePeriodSeconds,
          securityContext: restrictedPodSecurityContext(plan.runAsUser),
          topologySpreadConstraint: topologySpread(plan),
          imagePullSecrets: plan.imagePullSecrets.length ? plan.imagePullSecrets.map((name) => ({ name })) : undefined,
          nodeSelector: Object.keys(plan.nodeSelector).length ? { ...plan.nodeSelector } : undefined,
          toleration: plan.tolerations.length ? plan.tolerations.map(toleration) : undefined,
          container: [
            {
              name: 'tbo',
              image: plan.image,
              imagePullPolicy: plan.imagePullPolicy,
              port: [
                { name: 'http', containerPort: SERVICE_PORT, protocol: 'TCP' },
                { name: 'admin', containerPort: ADMIN_PORT, protocol: 'TCP' },
              ],
              env: containerEnv(plan, refs.secret),
              resources: containerResources(plan.resources),
              startupProbe: { httpGet: httpGet(PROBE_PATHS.liveness), ...PROBE_TIMINGS.startup },
              livenessProbe: { httpGet: httpGet(PROBE_PATHS.liveness), ...PROBE_TIMINGS.liveness },
              readinessProbe: { httpGet: httpGet(PROBE_PATHS.readiness), ...PROBE_TIMINGS.readiness },
              lifecycle: plan.preStopSleepSeconds > 0 ? { preStop: [{ exec: { command: preStopCommand(plan.preStopSleepSeconds) } }] } : undefined,
              securityContext: restrictedContainerSecurityContext(plan.runAsUser),
              volumeMount: [
                { name: 'config', mountPath: CONFIG_MOUNT_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volume: [
            { name: 'config', configMap: { name: refs.configMap, defaultMode: '0444', items: [{ key: plan.configFileName, path: plan.configFileName }] } },
            { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
          ],
        },
      },
    },
  });
}
