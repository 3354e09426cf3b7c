/** Recovery and rollback of a TboKubernetesService (Deployment, in-cluster Redis with its backup CronJob) with cdktf. */
import { ADMIN_PORT, PROBE_PATHS, SERVICE_PORT } from './contract';
import { REDIS_BACKUP_FILE_PREFIX, REDIS_BACKUP_FILE_SUFFIX } from './redis-backup';
import { RUNBOOK_EXAMPLE_STACKS } from './runbook-outputs';
import { CHECK_OUT_GOOD_COMMIT_STEP, CONFIGURATION_IS_CODE, GOOD_COMMIT, REVERT_TO_GOOD_COMMIT, REVERT_WHY, SAME_SECRET_VALUES } from './runbook-shared';
import type { RunbookCommand, RunbookInput, TargetRunbook } from './runbook-types';

const STACK = RUNBOOK_EXAMPLE_STACKS.k8s;
const NS = 'kubectl -n <namespace>';
/** Local ports of the port-forward, clear of anything already listening on the usual ones. */
const LOCAL_PUBLIC = 10000 + SERVICE_PORT;
const LOCAL_ADMIN = 10000 + ADMIN_PORT;

/** The in-cluster Redis StatefulSet (`<name>-redis`); the dr-runbook ConfigMap fills it in. */
export const RUNBOOK_REDIS_STATEFULSET: RunbookInput = { name: 'REDIS_STATEFULSET', meaning: 'the in-cluster Redis StatefulSet, `<name>-redis` (`kubectl -n <namespace> get statefulsets`)' };
/** The claim of its data volume (`data-<name>-redis-0`); the dr-runbook ConfigMap fills it in. */
export const RUNBOOK_REDIS_DATA_CLAIM: RunbookInput = { name: 'REDIS_DATA_CLAIM', meaning: 'the claim of its data volume, `data-<name>-redis-0` (`kubectl -n <namespace> get pvc`)' };

const rolloutStatus: RunbookCommand = { run: `${NS} rollout status deployment/<deployment_name> --timeout=15m`, note: 'old pods drain their streams first (up to terminationGracePeriodSeconds)' };
const portForward: RunbookCommand = {
  run: `${NS} port-forward deployment/<deployment_name> ${LOCAL_PUBLIC}:${SERVICE_PORT} ${LOCAL_ADMIN}:${ADMIN_PORT} &`,
  note: 'one pod\'s public and admin ports on this machine (stop it with kill %1 afterwards)',
};
const health: readonly RunbookCommand[] = [
  portForward,
  { run: `curl -fsS http://127.0.0.1:${LOCAL_PUBLIC}${PROBE_PATHS.readiness}`, note: 'expect 200 and "cache": {…, "redis": "connected"}' },
  { run: `curl -fsS http://127.0.0.1:${LOCAL_ADMIN}${PROBE_PATHS.healthDetails}`, note: 'upstream connectivity, cache and bandwidth checks; 503 when unhealthy' },
];
const endpoints: readonly RunbookCommand[] = [
  { run: `${NS} get endpointslices -l kubernetes.io/service-name=<deployment_name>`, note: 'the Service has the Deployment\'s name; every ready pod listed' },
  { run: `${NS} get hpa <deployment_name>`, note: 'the autoscaler owns the replica count again' },
];
const adminPortNote =
  `The admin port (${ADMIN_PORT}: ${PROBE_PATHS.healthDetails}, ${PROBE_PATHS.metrics}) admits only the monitoring namespace; a port-forward goes through the API server to one pod, so it reaches both ports.`;

/** Kubernetes: the cdktf construct `TboKubernetesService` in the example stack `tbo-k8s`. */
export const K8S_RUNBOOK: TargetRunbook = {
  target: 'k8s',
  title: 'Kubernetes: TboKubernetesService (cdktf)',
  outputsIntro:
    `Placeholders are the example stack's Terraform outputs (\`app/k8s-stack.ts\`, stack \`${STACK}\`); \`redis_backup_cronjob\` and \`redis_backup_claim\` exist when the in-cluster Redis is backed up. ` +
    'The same steps, with this deployment\'s names filled in, are in the ConfigMap `dr_runbook_configmap` names (keys `recovery.md` and `rollback.md`).',
  outputsCommand: { run: `npx cdktf output ${STACK}` },
  recovery: [
    {
      phase: 'verify-backup',
      title: 'Find the newest good Redis backup',
      why:
        'The backup CronJob runs `redis-cli --rdb` against the in-cluster Redis with the password from the Secret, checks the file with `redis-check-rdb`, writes its SHA-256 beside it, keeps the newest backups on the backup claim and logs the file it wrote; ' +
        `a Job that completed wrote a checked file (\`${REDIS_BACKUP_FILE_PREFIX}<UTC time>${REDIS_BACKUP_FILE_SUFFIX}\`). The restore checks the checksum and the RDB again before it loads anything. ` +
        'The claim the construct creates (`<name>-backup`) outlives Redis\'s own volume, not the namespace or the cluster: `redis.backup.existingClaim` writes to one that does (a bucket mounted through a CSI driver, or a volume with reclaimPolicy Retain). Everything written after the backup is lost.',
      inputs: [{ name: 'BACKUP_JOB', meaning: 'a completed Job of the CronJob, from the list' }],
      commands: [
        { run: `${NS} get cronjob <redis_backup_cronjob>`, note: 'schedule, last schedule and last success' },
        { run: `${NS} get jobs --sort-by=.status.startTime`, note: 'Complete: a checked backup' },
        { run: `${NS} logs "job/$BACKUP_JOB"`, note: `backup ${REDIS_BACKUP_FILE_PREFIX}…${REDIS_BACKUP_FILE_SUFFIX} N bytes` },
      ],
    },
    CHECK_OUT_GOOD_COMMIT_STEP,
    {
      phase: 'restore-redis',
      title: 'Restore Redis from the backup into an empty volume (only when Redis lost its data)',
      why:
        'The restore init container runs only when Redis\'s data volume is empty (so a restart of a Redis with data never rolls it back): on a new cluster it is; a volume that survived with bad data must go first (scale Redis to 0, delete its claim: this deletes its data). ' +
        'It checks the backup\'s SHA-256 and RDB, converts it into the append-only files Redis loads, and logs "restored FILE: N keys". ' +
        'Skip this step when Redis kept its data: the cache refills by itself, at a cost (README, "State, and what losing it costs"); batch and response ownership records do not, so their owners get 404 until the objects expire upstream.',
      change: "In the stack's TboKubernetesService props set `redis: { …, backup: { …, restoreFrom: '<BACKUP_FILE>' } }` (a file name on the backup claim, or 'latest').",
      inputs: [{ name: 'BACKUP_FILE', meaning: 'the backup to restore, from the Job\'s log (or `latest`)' }, RUNBOOK_REDIS_STATEFULSET, RUNBOOK_REDIS_DATA_CLAIM],
      commands: [
        { run: `${NS} scale statefulset "$REDIS_STATEFULSET" --replicas=0`, note: 'only when the volume survived with bad data' },
        { run: `${NS} delete pvc "$REDIS_DATA_CLAIM"`, note: 'the same' },
        { run: 'git commit -am "Restore Redis from $BACKUP_FILE"' },
      ],
    },
    {
      phase: 'redeploy',
      title: 'Deploy',
      why:
        'One deploy brings back what the stack defines: namespace, policies, quota, ConfigMap, the Deployment, Redis (restored by its init container when the step before set it, and scaled back to 1), the backup CronJob and this runbook. ' +
        'The gateway pods and Redis wait for the Secret, and the deploy waits for them: in a new namespace, create the Secret (next step) from a second shell as soon as the namespace exists.',
      commands: [{ run: `npx cdktf deploy ${STACK}` }],
    },
    {
      phase: 'secrets',
      title: 'Recreate the Secret from your secret store',
      why:
        'The construct references the Secret and never creates it from a file (unless `secrets.values`, which puts the values in Terraform state); `secret_create_command` prints the command with every key the pods read, each value from the env var it names: export them from your secret store first. ' +
        `Never keep a copy with \`kubectl get secret -o yaml\`: its data is base64, not encrypted. ${SAME_SECRET_VALUES} ` +
        'Redis reads its password from the same Secret when it starts, and the backup holds no password: restart Redis too when you change it.',
      commands: [
        { run: `${NS} get secret <secret_name>`, note: 'NotFound: create it' },
        { run: '<secret_create_command>' },
        { run: `${NS} rollout restart deployment/<deployment_name>`, note: 'only when it changed under running pods: they read it when they start' },
      ],
    },
    {
      phase: 'verify-health',
      title: 'Check the service',
      why: `Redis first: its rollout, the restore's log and its key count. \`/ready\` says whether the pod takes traffic and whether Redis is connected (the service serves from memory when it is not); \`/health/details\` checks upstream connectivity, cache and bandwidth. ${adminPortNote}`,
      commands: [
        { run: `${NS} rollout status statefulset/"$REDIS_STATEFULSET" --timeout=15m` },
        { run: `${NS} logs "$REDIS_STATEFULSET-0" --all-containers --prefix`, note: 'after a restore, its init container: restored FILE: N keys' },
        { run: `${NS} exec "$REDIS_STATEFULSET-0" -c redis -- redis-cli dbsize`, note: 'keys in Redis (the container has the password in REDISCLI_AUTH)' },
        rolloutStatus,
        ...health,
      ],
    },
    {
      phase: 'resume-traffic',
      title: 'Send traffic back',
      why:
        'The Ingress and HTTPRoute route to the Service, which sends traffic to every ready pod: after a recovery in place there is nothing to switch. ' +
        'If clients, DNS or the Gateway were pointed elsewhere meanwhile, point them back once the endpoints are ready.',
      commands: endpoints,
    },
  ],
  rollback: [
    {
      phase: 'stop',
      title: 'Undo the rollout',
      why:
        'Interrupt a `cdktf deploy` still waiting for the rollout first. `rollout undo` puts the previous ReplicaSet\'s pod template (image, environment) back at once; maxUnavailable 0 and the PodDisruptionBudget keep capacity while the bad pods drain their streams. ' +
        'It does not undo a change of the ConfigMap (`config.yaml`) or of anything else but the pod template, and Terraform puts the bad template back on the next deploy: the next step fixes both.',
      commands: [
        { run: `${NS} rollout history deployment/<deployment_name>` },
        { run: `${NS} rollout undo deployment/<deployment_name>`, note: 'the previous revision; add --to-revision=N for an older one from the history' },
        rolloutStatus,
      ],
    },
    {
      phase: 'deploy-previous',
      title: 'Deploy the known-good commit',
      why: `${REVERT_WHY} ${CONFIGURATION_IS_CODE}`,
      inputs: [GOOD_COMMIT],
      commands: [...REVERT_TO_GOOD_COMMIT, { run: `npx cdktf deploy ${STACK}` }],
    },
    {
      phase: 'verify',
      title: 'Check the service',
      why: adminPortNote,
      commands: [rolloutStatus, ...health],
    },
    {
      phase: 'traffic',
      title: 'Check the endpoints',
      why: 'The Service, Ingress, HTTPRoute and DNS stay in place during a rollback: the Service sends traffic to the ready pods. Nothing to switch unless clients were sent elsewhere meanwhile.',
      commands: endpoints,
    },
  ],
};
