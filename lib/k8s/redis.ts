import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { Construct } from 'constructs';
import { SECRET_ENV } from '../core';
import { BACKUP_VOLUME, restoreInitContainer, TboKubernetesRedisBackup } from './backup';
import { REDIS_DEFAULTS } from './defaults';
import { containerResources, redisMaxMemoryOf, type RedisPlan, type TboKubernetesPlan } from './plan';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';

type InClusterRedis = Extract<RedisPlan, { mode: 'in-cluster' }>;

/** What the Redis pods refer to. */
export interface TboKubernetesRedisRefs {
  /** Namespace name (a token when the namespace is created here). */
  readonly namespace: string;
  /** Secret holding the Redis password. */
  readonly secretName: string;
  /** Key of the password in that Secret. */
  readonly passwordKey: string;
  /** Labels of the gateway pods, the only clients Redis accepts. */
  readonly clientSelector: Readonly<Record<string, string>>;
}

/** `maxmemory` in bytes: a share of the memory limit, so Redis evicts before the kernel kills it. */
export function redisMaxMemoryBytes(redis: InClusterRedis): number {
  return redisMaxMemoryOf(redis.resources);
}

/** redis-server arguments: AOF persistence (as the guide's compose file), AUTH, LRU eviction at maxmemory. */
export function redisArgs(redis: InClusterRedis): string[] {
  return [
    '--appendonly', 'yes',
    '--dir', REDIS_DEFAULTS.dataDir,
    // Kubernetes expands $(VAR) from the container's env; Redis hides its argv from the process title.
    '--requirepass', `$(${SECRET_ENV.redisPassword})`,
    '--maxmemory', String(redisMaxMemoryBytes(redis)),
    '--maxmemory-policy', 'allkeys-lru',
    // A full sync is only ever the backup Job's `redis-cli --rdb` (no replicas): start it at once, not
    // after the default 5 s wait for more replicas to join.
    '--repl-diskless-sync-delay', '0',
  ];
}

/**
 * The in-cluster Redis: the official image as a one-pod StatefulSet with a persistent volume,
 * `appendonly yes`, `requirepass` from the Secret, the restricted Pod Security Standard, a ClusterIP
 * Service, and a NetworkPolicy that admits the gateway pods (and the backup Job's) only. Backed up by
 * a CronJob unless `redis.backup: false`; with `redis.backup.restoreFrom`, an init container loads a
 * backup into an empty data volume before Redis starts.
 */
export class TboKubernetesRedis extends Construct {
  /** The Redis StatefulSet. */
  readonly statefulSet: StatefulSetV1;
  /** The ClusterIP Service the gateway connects to. */
  readonly service: ServiceV1;
  /** Admits the gateway pods (and the backup Job's) on the Redis port; nothing else in, nothing out. */
  readonly networkPolicy: NetworkPolicyV1 | undefined;
  /** The scheduled backups (CronJob, claim, NetworkPolicy), unless `redis.backup: false`. */
  readonly backup: TboKubernetesRedisBackup | undefined;
  /** Host name of the Service inside the cluster. */
  readonly host: string;
  /** Port of the Service. */
  readonly port: number;

  constructor(scope: Construct, id: string, plan: TboKubernetesPlan, redis: InClusterRedis, refs: TboKubernetesRedisRefs) {
    super(scope, id);
    this.host = redis.host;
    this.port = redis.port;
    const metadata = { name: redis.name, namespace: refs.namespace, labels: redis.labels };
    const password = { secretKeyRef: { name: refs.secretName, key: refs.passwordKey, optional: false } };
    const { runAsUser, runAsGroup } = REDIS_DEFAULTS;
    const port = String(redis.port);
    const backup = redis.backup;
    this.backup = backup && new TboKubernetesRedisBackup(this, 'Backup', plan, redis, backup, refs);
    const restore = backup?.restoreFrom !== undefined ? restoreInitContainer(redis, { ...backup, restoreFrom: backup.restoreFrom }) : undefined;

    this.service = new ServiceV1(this, 'Service', {
      metadata,
      spec: { type: 'ClusterIP', selector: redis.selector, port: [{ name: 'redis', port: redis.port, targetPort: port, protocol: 'TCP' }] },
    });

    this.statefulSet = new StatefulSetV1(this, 'StatefulSet', {
      metadata,
      spec: {
        serviceName: redis.name,
        replicas: '1',
        selector: { matchLabels: redis.selector },
        updateStrategy: [{ type: 'RollingUpdate' }],
        template: {
          metadata: { labels: redis.labels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPodSecurityContext(runAsUser, runAsGroup),
            initContainer: restore && [restore],
            container: [
              {
                name: 'redis',
                image: redis.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['redis-server'],
                args: redisArgs(redis),
                port: [{ name: 'redis', containerPort: redis.port, protocol: 'TCP' }],
                env: [
                  { name: SECRET_ENV.redisPassword, valueFrom: password },
                  // redis-cli reads the password from here, so the probe does not put it on a command line.
                  { name: 'REDISCLI_AUTH', valueFrom: password },
                ],
                resources: containerResources(redis.resources),
                readinessProbe: {
                  exec: { command: ['sh', '-c', 'redis-cli ping | grep -q PONG'] },
                  initialDelaySeconds: 5,
                  periodSeconds: 5,
                  timeoutSeconds: 3,
                },
                livenessProbe: { tcpSocket: [{ port }], initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 3 },
                securityContext: restrictedContainerSecurityContext(runAsUser, runAsGroup),
                volumeMount: [{ name: 'data', mountPath: REDIS_DEFAULTS.dataDir }],
              },
            ],
            volume: restore && [{ name: BACKUP_VOLUME, persistentVolumeClaim: { claimName: this.backup!.claimName, readOnly: true } }],
          },
        },
        volumeClaimTemplate: [
          {
            metadata: { name: 'data', labels: redis.labels },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: redis.storageClassName,
              resources: { requests: { storage: redis.storage } },
            },
          },
        ],
      },
    });

    this.networkPolicy = plan.networkPolicy
      ? new NetworkPolicyV1(this, 'NetworkPolicy', {
          metadata,
          spec: {
            podSelector: { matchLabels: redis.selector },
            policyTypes: ['Ingress', 'Egress'],
            ingress: [
              {
                from: [{ podSelector: { matchLabels: { ...refs.clientSelector } } }, ...(backup ? [{ podSelector: { matchLabels: { ...backup.selector } } }] : [])],
                ports: [{ port, protocol: 'TCP' }],
              },
            ],
          },
        })
      : undefined;
  }
}
