/**
 * Backups of the in-cluster Redis (issue 14): the CronJob, its claim and NetworkPolicy, the restore
 * init container, what the quota and limit range account for, and the synth-time checks.
 */
import 'cdktf/lib/testing/adapters/jest';
import { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { Testing } from 'cdktf';
import { REDIS_BACKUP_ENV, redisBackupScript, redisRestoreScript } from '../../lib/core';
import { isCronSchedule, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth, type Manifest } from './support/manifest';
import { podTemplateSpec, restrictedViolations } from './support/pod-security';
import { blockOf, blocksOf, N, synthProblems, synthService, synthWithConstruct } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

type Env = { name: string; value?: string; value_from?: { secret_key_ref: { name: string; key: string; optional: boolean } } };
type Container = { name: string; image: string; command: string[]; args?: string[]; env: Env[]; volume_mount: { name: string; mount_path: string; read_only?: boolean }[]; resources: unknown };
type PodSpec = { container: Container[]; init_container?: Container[]; volume?: { name: string; persistent_volume_claim?: { claim_name: string; read_only?: boolean } }[]; affinity?: unknown; [key: string]: unknown };
type CronJob = { metadata: { name: string }; spec: Record<string, unknown> & { job_template: { spec: Record<string, unknown> & { template: { spec: PodSpec } } } } };

const cronJob = (json: string) => blockOf(json, 'kubernetes_cron_job_v1') as unknown as CronJob;
const jobPod = (json: string) => cronJob(json).spec.job_template.spec.template.spec;
const redisPod = (json: string) => (blockOf(json, 'kubernetes_stateful_set_v1') as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.value_from]));
const backupLabels = { 'app.kubernetes.io/name': 'redis-backup', 'app.kubernetes.io/instance': N.backup, 'app.kubernetes.io/component': 'backup' };
const redisLabels = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': N.redis, 'app.kubernetes.io/component': 'cache' };
const claimRef = expect.stringMatching(/^\$\{kubernetes_persistent_volume_claim_v1\.Tbo_Redis_Backup_Claim_[0-9A-F]+\.metadata\[0\]\.name\}$/);

/** The environment variables (upper case: the scripts' own variables are lower case) a script reads. */
const scriptVariables = (script: string) => [...new Set([...script.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]))].sort();

const problems = synthProblems;

describe('Redis backups (default: on with the in-cluster Redis)', () => {
  let json: string;
  let manifests: Manifest[];
  beforeAll(() => {
    json = synthService();
    manifests = manifestsFromSynth(json).map((m) => m.manifest);
  });

  it('a CronJob <name>-backup: hourly, never two at once, bounded retries and run time, a short history', () => {
    const job = cronJob(json);
    expect(job.metadata).toMatchObject({ name: N.backup, labels: expect.objectContaining(backupLabels) });
    expect(job.spec).toMatchObject({
      schedule: '0 * * * *',
      concurrency_policy: 'Forbid',
      starting_deadline_seconds: 300,
      successful_jobs_history_limit: 3,
      failed_jobs_history_limit: 3,
      job_template: { metadata: { labels: expect.objectContaining(backupLabels) }, spec: { backoff_limit: 2, active_deadline_seconds: 900 } },
    });
    expect(jobPod(json)).toMatchObject({ restart_policy: 'Never', automount_service_account_token: false, enable_service_links: false });
    expect(jobPod(json).affinity).toBeUndefined();
  });

  it('runs exactly lib/core\'s backup script in the StatefulSet\'s own Redis image, against the Redis Service, with the password from the Secret', () => {
    const [c] = jobPod(json).container;
    expect(c.image).toBe(redisPod(json).container[0].image);
    expect(c.command).toEqual(['sh', '-c', redisBackupScript()]);
    expect(c.args).toBeUndefined();
    expect(envOf(c)).toEqual({
      [REDIS_BACKUP_ENV.host]: N.redisHost,
      [REDIS_BACKUP_ENV.port]: '6379',
      [REDIS_BACKUP_ENV.auth]: { secret_key_ref: { name: N.secret, key: 'redis-password', optional: false } },
      [REDIS_BACKUP_ENV.dir]: '/backup',
      [REDIS_BACKUP_ENV.keep]: '24',
    });
    // Every variable the script reads is set (the password reaches redis-cli as REDISCLI_AUTH, never on its command line).
    expect(scriptVariables(redisBackupScript())).toEqual(Object.keys(envOf(c)).filter((n) => n !== REDIS_BACKUP_ENV.auth).sort());
    expect(c.command.join(' ')).not.toMatch(/-a |--pass|--user/);
  });

  it('writes to the claim <name>-backup it creates, mounted where BACKUP_DIR points', () => {
    const pod = jobPod(json);
    expect(pod.volume).toEqual([{ name: 'backup', persistent_volume_claim: { claim_name: claimRef } }]);
    expect(pod.container[0].volume_mount).toEqual([{ name: 'backup', mount_path: envOf(pod.container[0])[REDIS_BACKUP_ENV.dir] }]);
    expect(json).toHaveResourceWithProperties(PersistentVolumeClaimV1, {
      metadata: expect.objectContaining({ name: N.backup }),
      spec: { access_modes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
      // A WaitForFirstConsumer StorageClass binds only at the first backup: the apply must not wait for it.
      wait_until_bound: false,
    });
  });

  it('has requests and limits that fit the LimitRange and are counted in the quota', () => {
    expect(jobPod(json).container[0].resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(problems({ limitRange: { max: { memory: '200Mi' } }, resources: { limits: { memory: '200Mi' }, requests: { memory: '128Mi' } }, config: { cacheMaxBytes: 1024 } }))
      .toMatch(/redis\.backup\.resources\.limits\.memory: received "256Mi"; must not exceed limitRange\.max\.memory \(200Mi\)/);
  });

  it('is created after the quota and limit range, like the other workloads', () => {
    expect((cronJob(json) as unknown as { depends_on: string[] }).depends_on).toEqual([
      expect.stringMatching(/^\$\{kubernetes_resource_quota_v1\./),
      expect.stringMatching(/^\$\{kubernetes_limit_range_v1\./),
    ]);
  });

  it('lets its pods reach Redis and DNS only, and nothing reach them', () => {
    const spec = blockOf(json, 'kubernetes_network_policy_v1', 'Backup_NetworkPolicy').spec as Record<string, unknown>;
    expect(spec).toEqual({
      pod_selector: { match_labels: backupLabels },
      policy_types: ['Ingress', 'Egress'],
      egress: [
        {
          to: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } }, pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }],
        },
        { to: [{ pod_selector: { match_labels: redisLabels } }], ports: [{ port: '6379', protocol: 'TCP' }] },
      ],
    });
  });

  it('the CronJob and the claim are valid for kubernetes-models, and the Job\'s pod meets the restricted Pod Security Standard', () => {
    const job = manifests.find((m) => m.kind === 'CronJob')!;
    expect(() => validateManifest(job)).not.toThrow();
    expect(() => validateManifest(manifests.find((m) => m.kind === 'PersistentVolumeClaim')!)).not.toThrow();
    const pod = podTemplateSpec(job)!;
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 1000, fsGroup: 1000 });
  });

  it('exposes the CronJob, the claim and the policy on the construct, and leaves Redis without a restore', () => {
    const { tbo } = synthWithConstruct();
    expect(tbo.redisBackup).toBe(tbo.redis!.backup);
    expect(tbo.redisBackup!.cronJob).toBeInstanceOf(CronJobV1);
    expect(tbo.redisBackup!.claim).toBeInstanceOf(PersistentVolumeClaimV1);
    expect(tbo.redisBackup!.networkPolicy).toBeDefined();
    expect(redisPod(json).init_container).toBeUndefined();
    expect(redisPod(json).volume).toBeUndefined();
  });
});

describe('Redis backup options', () => {
  it('schedule, keep, storage class, resources, run time; a renamed password key and another Redis image follow', () => {
    const json = synthService({
      redis: { image: 'redis:7.4-alpine', backup: { schedule: '@daily', keep: 7, storageClassName: 'standard-rwo', resources: { limits: { memory: '128Mi' } }, activeDeadlineSeconds: 120 } },
      secrets: { keys: { redisPassword: 'redis-auth' } },
    });
    expect(cronJob(json).spec).toMatchObject({ schedule: '@daily', job_template: { spec: { active_deadline_seconds: 120 } } });
    const [c] = jobPod(json).container;
    expect(c.image).toBe('redis:7.4-alpine');
    expect(envOf(c)).toMatchObject({ BACKUP_KEEP: '7', REDISCLI_AUTH: { secret_key_ref: { name: N.secret, key: 'redis-auth', optional: false } } });
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
    // 8 backups of 384Mi (75 % of Redis's 512Mi limit): 3Gi.
    expect(blockOf(json, 'kubernetes_persistent_volume_claim_v1').spec).toEqual({ access_modes: ['ReadWriteOnce'], storage_class_name: 'standard-rwo', resources: { requests: { storage: '3Gi' } } });
  });

  it('the default claim grows with keep and Redis\'s memory limit', () => {
    const json = synthService({ redis: { resources: { limits: { memory: '2Gi' } }, backup: { keep: 48 } } });
    // 49 backups of 1.5Gi.
    expect((blockOf(json, 'kubernetes_persistent_volume_claim_v1').spec as { resources: unknown }).resources).toEqual({ requests: { storage: '74Gi' } });
  });

  it('existingClaim: writes to that claim (e.g. a bucket mounted through a CSI driver) and creates none', () => {
    const { tbo, json } = synthWithConstruct({ redis: { backup: { existingClaim: 'redis-backups-gcs' } } });
    expect(json).not.toHaveResource(PersistentVolumeClaimV1);
    expect(jobPod(json).volume).toEqual([{ name: 'backup', persistent_volume_claim: { claim_name: 'redis-backups-gcs' } }]);
    expect([tbo.redisBackup!.claim, tbo.redisBackup!.claimName]).toEqual([undefined, 'redis-backups-gcs']);
  });

  it('a claim smaller than keep + 1 backups of maxmemory is a synth warning, naming the size that fits', () => {
    const { tbo } = synthWithConstruct({ redis: { backup: { storage: '2Gi' } } });
    expect(tbo.node.metadata.map((m) => String(m.data))).toContainEqual(expect.stringMatching(/redis\.backup\.storage: 2Gi holds fewer than keep \+ 1 \(25\) backups of Redis's maxmemory \(384Mi\).*raise storage to 10Gi or lower keep/));
    expect(synthWithConstruct().tbo.node.metadata).toEqual([]);
  });

  it('backup: false creates no CronJob, claim or policy, and says so at synth', () => {
    const { tbo, json } = synthWithConstruct({ redis: { backup: false } });
    expect(json).not.toHaveResource(CronJobV1);
    expect(json).not.toHaveResource(PersistentVolumeClaimV1);
    expect(Object.values(blocksOf(json, 'kubernetes_network_policy_v1')).map((b) => (b.metadata as { name: string }).name)).not.toContain(N.backup);
    expect(tbo.redisBackup).toBeUndefined();
    expect(tbo.node.metadata.map((m) => String(m.data))).toEqual([expect.stringMatching(/redis\.backup: false leaves the in-cluster Redis without backups/)]);
  });

  it('no in-cluster Redis, no backups', () => {
    for (const props of [{ redis: false as const }, { existingRedisUrl: 'rediss://cache.example.com:6380' }]) {
      const { tbo, json } = synthWithConstruct(props);
      expect(json).not.toHaveResource(CronJobV1);
      expect(tbo.redisBackup).toBeUndefined();
    }
  });

  it('without NetworkPolicies the Job has none either', () => {
    const { tbo } = synthWithConstruct({ networkPolicy: false });
    expect(tbo.redisBackup!.networkPolicy).toBeUndefined();
  });
});

describe('restoreFrom: the restore init container', () => {
  let json: string;
  let manifests: Manifest[];
  beforeAll(() => {
    json = synthService({ redis: { backup: { restoreFrom: 'latest' } } });
    manifests = manifestsFromSynth(json).map((m) => m.manifest);
  });

  it('runs exactly lib/core\'s restore script in the Redis image before Redis starts, with Redis\'s own resources (it loads the data set into memory)', () => {
    const pod = redisPod(json);
    const [init] = pod.init_container!;
    expect(init).toMatchObject({ name: 'restore', image: pod.container[0].image, command: ['sh', '-c', redisRestoreScript()] });
    expect(init.resources).toEqual(pod.container[0].resources);
    expect(envOf(init)).toEqual({ [REDIS_BACKUP_ENV.dir]: '/backup', [REDIS_BACKUP_ENV.dataDir]: '/data', [REDIS_BACKUP_ENV.restoreFrom]: 'latest' });
    expect(scriptVariables(redisRestoreScript())).toEqual(Object.keys(envOf(init)).sort());
  });

  it('mounts Redis\'s data volume where DATA_DIR and --dir point, and the backup claim read-only where BACKUP_DIR points', () => {
    const pod = redisPod(json);
    const [init] = pod.init_container!;
    expect(init.volume_mount).toEqual([
      { name: 'data', mount_path: '/data' },
      { name: 'backup', mount_path: '/backup', read_only: true },
    ]);
    const args = pod.container[0].args!;
    expect(args[args.indexOf('--dir') + 1]).toBe(envOf(init)[REDIS_BACKUP_ENV.dataDir]);
    expect(pod.volume).toEqual([{ name: 'backup', persistent_volume_claim: { claim_name: claimRef, read_only: true } }]);
  });

  it('runs the backup Job on Redis\'s node, where the ReadWriteOnce claim is attached', () => {
    expect(jobPod(json).affinity).toEqual({
      pod_affinity: { required_during_scheduling_ignored_during_execution: [{ label_selector: [{ match_labels: redisLabels }], topology_key: 'kubernetes.io/hostname' }] },
    });
  });

  it('the StatefulSet with its init container and the CronJob with its affinity are valid for kubernetes-models, and meet the restricted Pod Security Standard', () => {
    for (const kind of ['StatefulSet', 'CronJob'] as const) {
      const manifest = manifests.find((m) => m.kind === kind)!;
      expect(() => validateManifest(manifest)).not.toThrow();
      expect([kind, restrictedViolations(podTemplateSpec(manifest)!)]).toEqual([kind, []]);
    }
    const sts = podTemplateSpec(manifests.find((m) => m.kind === 'StatefulSet')!)!;
    expect((sts.initContainers as { name: string }[]).map((c) => c.name)).toEqual(['restore']);
  });

  it('a named backup file, from an existing claim', () => {
    const named = synthService({ redis: { backup: { existingClaim: 'redis-backups', restoreFrom: 'tbo-20261202T030000Z.rdb' } } });
    expect(envOf(redisPod(named).init_container![0])[REDIS_BACKUP_ENV.restoreFrom]).toBe('tbo-20261202T030000Z.rdb');
    expect(redisPod(named).volume).toEqual([{ name: 'backup', persistent_volume_claim: { claim_name: 'redis-backups', read_only: true } }]);
  });
});

describe('backup synth-time checks name the prop and what it accepts', () => {
  it.each<[string, Partial<TboKubernetesServiceProps>, RegExp]>([
    ['schedule', { redis: { backup: { schedule: 'hourly' } } }, /redis\.backup\.schedule: received "hourly"; must be a cron schedule of 5 fields .* or a macro: @yearly, .*@hourly/],
    ['schedule with a time zone', { redis: { backup: { schedule: 'TZ=UTC 0 * * * *' } } }, /redis\.backup\.schedule: received "TZ=UTC 0 \* \* \* \*"/],
    ['keep', { redis: { backup: { keep: 0 } } }, /redis\.backup\.keep: received 0; must be an integer from 1 to 1000/],
    ['storage', { redis: { backup: { storage: 'lots' } } }, /redis\.backup\.storage: received "lots"; must be a positive Kubernetes quantity/],
    ['storage class', { redis: { backup: { storageClassName: 'Fast_SSD' } } }, /redis\.backup\.storageClassName: received "Fast_SSD"; must be a StorageClass name/],
    ['existing claim name', { redis: { backup: { existingClaim: 'My Claim' } } }, /redis\.backup\.existingClaim: received "My Claim"; must be the name of a PersistentVolumeClaim/],
    ['existing claim and a size', { redis: { backup: { existingClaim: 'b', storage: '5Gi' } } }, /redis\.backup\.existingClaim: received "b"; give existingClaim \(an existing claim\) or storage \/ storageClassName \(a claim created here\), not both/],
    ['run time', { redis: { backup: { activeDeadlineSeconds: 10 } } }, /redis\.backup\.activeDeadlineSeconds: received 10; must be an integer from 60 to 86400/],
    ['resources', { redis: { backup: { resources: { requests: { memory: '1Gi' } } } } }, /redis\.backup\.resources\.requests\.memory: received "1Gi"; must not exceed redis\.backup\.resources\.limits\.memory \(256Mi\)/],
    ['restoreFrom with a path', { redis: { backup: { restoreFrom: '../etc/passwd' } } }, /redis\.backup\.restoreFrom: received "\.\.\/etc\/passwd"; must be "latest" or a backup file name in the backup claim, such as tbo-20261202T030000Z\.rdb \(no path\)/],
  ])('%s', (_, props, expected) => {
    expect(problems(props)).toMatch(expected);
  });

  it('accepts schedules of 5 fields and the macros', () => {
    expect(problems({ redis: { backup: { schedule: '*/15 * * * *' } } })).toBe('');
    expect(['0 3 * * 1-5', '30 2 1 JAN,JUL *', '@weekly', '@hourly'].filter((s) => !isCronSchedule(s))).toEqual([]);
    expect(['0 * * *', '@every 1h', '0 * * * * *'].filter((s) => isCronSchedule(s))).toEqual([]);
  });
});
