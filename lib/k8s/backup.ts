import { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import type { StatefulSetV1SpecTemplateSpecInitContainer } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { Construct } from 'constructs';
import { REDIS_BACKUP_ENV, redisBackupScript, redisRestoreScript } from '../core';
import { REDIS_BACKUP_DEFAULTS, REDIS_DEFAULTS } from './defaults';
import { dnsEgress } from './network-policy';
import { containerResources, type RedisBackupPlan, type RedisPlan, type TboKubernetesPlan } from './plan';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';

type InClusterRedis = Extract<RedisPlan, { mode: 'in-cluster' }>;

/** What the backup pods refer to. */
export interface TboKubernetesRedisBackupRefs {
  /** Namespace name (a token when the namespace is created here). */
  readonly namespace: string;
  /** Secret holding the Redis password. */
  readonly secretName: string;
  /** Key of the password in that Secret. */
  readonly passwordKey: string;
}

/** Name of the backup volume in the backup Job's and the Redis pod's specs. */
export const BACKUP_VOLUME = 'backup';

const { runAsUser, runAsGroup } = REDIS_DEFAULTS;

/**
 * The restore init container of the Redis pod: `redisRestoreScript()` with the data volume and the
 * backup claim (read-only) mounted; it loads `restoreFrom` into an empty data volume only. Its
 * temporary redis-server holds the whole data set in memory, so it gets the Redis container's
 * requests and limits (and so adds nothing to what the pod asks for).
 */
export function restoreInitContainer(redis: InClusterRedis, backup: RedisBackupPlan & { readonly restoreFrom: string }): StatefulSetV1SpecTemplateSpecInitContainer {
  return {
    name: 'restore',
    image: redis.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', redisRestoreScript()],
    env: [
      { name: REDIS_BACKUP_ENV.dir, value: REDIS_BACKUP_DEFAULTS.mountPath },
      { name: REDIS_BACKUP_ENV.dataDir, value: REDIS_DEFAULTS.dataDir },
      { name: REDIS_BACKUP_ENV.restoreFrom, value: backup.restoreFrom },
    ],
    resources: containerResources(redis.resources),
    securityContext: restrictedContainerSecurityContext(runAsUser, runAsGroup),
    volumeMount: [
      { name: 'data', mountPath: REDIS_DEFAULTS.dataDir },
      { name: BACKUP_VOLUME, mountPath: REDIS_BACKUP_DEFAULTS.mountPath, readOnly: true },
    ],
  };
}

/**
 * Backups of the in-cluster Redis: a CronJob (the StatefulSet's own official Redis image, restricted Pod
 * Security Standard, `concurrencyPolicy: Forbid`, bounded retries and run time, short history) running
 * `redisBackupScript()` from lib/core (`redis-cli --rdb` with `REDISCLI_AUTH` from the Secret,
 * `redis-check-rdb`, a `.sha256`, the newest `keep` kept) onto a claim created here (`<name>-backup`) or
 * an existing one; and a NetworkPolicy letting its pods reach Redis and DNS only, with no ingress.
 */
export class TboKubernetesRedisBackup extends Construct {
  /** The backup CronJob (`<name>-backup`). */
  readonly cronJob: CronJobV1;
  /** The backup claim, when created here (not with `existingClaim`). */
  readonly claim: PersistentVolumeClaimV1 | undefined;
  /** Name of the claim the backups are written to (created here or existing). */
  readonly claimName: string;
  /** The backup pods' egress (Redis and DNS only) and ingress (none), when NetworkPolicies are on. */
  readonly networkPolicy: NetworkPolicyV1 | undefined;

  constructor(scope: Construct, id: string, plan: TboKubernetesPlan, redis: InClusterRedis, backup: RedisBackupPlan, refs: TboKubernetesRedisBackupRefs) {
    super(scope, id);
    const metadata = { name: backup.name, namespace: refs.namespace, labels: backup.labels };
    const claim = backup.claim;
    this.claim = claim.create
      ? new PersistentVolumeClaimV1(this, 'Claim', {
          metadata: { ...metadata, name: claim.name },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: claim.storageClassName,
            resources: { requests: { storage: claim.storage } },
          },
          // A WaitForFirstConsumer class binds at the first backup, up to a schedule period after the apply.
          waitUntilBound: false,
        })
      : undefined;
    this.claimName = this.claim?.metadata.name ?? claim.name;

    const password = { secretKeyRef: { name: refs.secretName, key: refs.passwordKey, optional: false } };
    this.cronJob = new CronJobV1(this, 'CronJob', {
      metadata,
      spec: {
        schedule: backup.schedule,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: REDIS_BACKUP_DEFAULTS.startingDeadlineSeconds,
        successfulJobsHistoryLimit: REDIS_BACKUP_DEFAULTS.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: REDIS_BACKUP_DEFAULTS.failedJobsHistoryLimit,
        jobTemplate: {
          metadata: { labels: backup.labels },
          spec: {
            backoffLimit: REDIS_BACKUP_DEFAULTS.backoffLimit,
            activeDeadlineSeconds: backup.activeDeadlineSeconds,
            template: {
              metadata: { labels: backup.labels },
              spec: {
                // Failed pods stay (up to the history limits) so their logs can be read.
                restartPolicy: 'Never',
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: restrictedPodSecurityContext(runAsUser, runAsGroup),
                // With a restore the Redis pod holds the (ReadWriteOnce) claim too: run on its node.
                affinity: backup.restoreFrom !== undefined ? { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: [{ matchLabels: { ...redis.selector } }], topologyKey: 'kubernetes.io/hostname' }] } } : undefined,
                container: [
                  {
                    name: 'backup',
                    image: redis.image,
                    imagePullPolicy: 'IfNotPresent',
                    command: ['sh', '-c', redisBackupScript()],
                    env: [
                      { name: REDIS_BACKUP_ENV.host, value: redis.host },
                      { name: REDIS_BACKUP_ENV.port, value: String(redis.port) },
                      { name: REDIS_BACKUP_ENV.auth, valueFrom: password },
                      { name: REDIS_BACKUP_ENV.dir, value: REDIS_BACKUP_DEFAULTS.mountPath },
                      { name: REDIS_BACKUP_ENV.keep, value: String(backup.keep) },
                    ],
                    resources: containerResources(backup.resources),
                    securityContext: restrictedContainerSecurityContext(runAsUser, runAsGroup),
                    volumeMount: [{ name: BACKUP_VOLUME, mountPath: REDIS_BACKUP_DEFAULTS.mountPath }],
                  },
                ],
                volume: [{ name: BACKUP_VOLUME, persistentVolumeClaim: { claimName: this.claimName } }],
              },
            },
          },
        },
      },
    });

    const np = plan.networkPolicy;
    this.networkPolicy = np
      ? new NetworkPolicyV1(this, 'NetworkPolicy', {
          metadata,
          spec: {
            podSelector: { matchLabels: backup.selector },
            policyTypes: ['Ingress', 'Egress'],
            egress: [
              dnsEgress(np),
              { to: [{ podSelector: { matchLabels: { ...redis.selector } } }], ports: [{ port: String(redis.port), protocol: 'TCP' }] },
            ],
          },
        })
      : undefined;
  }
}
