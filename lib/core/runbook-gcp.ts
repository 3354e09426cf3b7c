/** Recovery and rollback of a TboCloudRunService (Cloud Run, Memorystore, Secret Manager) with cdktf. */
import { ADMIN_PORT, PROBE_PATHS } from './contract';
import { RUNBOOK_EXAMPLE_STACKS, GCP_EXAMPLE_OUTPUT_PREFIX as P } from './runbook-outputs';
import { CHECK_OUT_GOOD_COMMIT, CONFIGURATION_IS_CODE, GOOD_COMMIT, readyCheck, REVERT_TO_GOOD_COMMIT, REVERT_WHY, SAME_SECRET_VALUES } from './runbook-shared';
import type { RunbookCommand, TargetRunbook } from './runbook-types';

const STACK = RUNBOOK_EXAMPLE_STACKS.gcp;
const SERVICE = `<${P}_service_name> --region=<${P}_region>`;

const describeService: RunbookCommand = {
  run: `gcloud run services describe ${SERVICE} --format='yaml(status.conditions,status.latestReadyRevisionName,status.traffic)'`,
  note: 'Ready True; which revisions take traffic',
};
const recentWarnings: RunbookCommand = {
  run: `gcloud logging read 'resource.type="cloud_run_revision" AND resource.labels.service_name="<${P}_service_name>" AND severity>=WARNING' --freshness=15m --limit=20`,
  note: 'the service\'s warnings and errors of the last 15 minutes (JSON logs, no prompt text)',
};
const revisions: RunbookCommand = { run: `gcloud run revisions list --service=${SERVICE}`, note: 'newest first; ACTIVE marks those taking traffic' };
const toLatest: RunbookCommand = { run: `gcloud run services update-traffic ${SERVICE} --to-latest` };
const adminPortNote =
  `The admin port (${ADMIN_PORT}: ${PROBE_PATHS.healthDetails}, ${PROBE_PATHS.metrics}) is reachable only inside the instance, where the Managed Prometheus sidecar (\`managedPrometheus\`) scrapes it; ` +
  'the alert policies in Cloud Monitoring watch what it exports.';

/** GCP: the cdktf construct `TboCloudRunService` in the example stack `tbo-gcp`. */
export const GCP_RUNBOOK: TargetRunbook = {
  target: 'gcp',
  title: 'GCP: TboCloudRunService (cdktf)',
  outputsIntro:
    `Placeholders are the stack's Terraform outputs, named after the construct's path in the stack: \`${P}_…\` in the example stack \`${STACK}\`. ` +
    `\`${P}_redis_instance\` exists when the construct creates Memorystore, \`${P}_backup_bucket\` and the export and import commands with \`redis.export\`. ` +
    'Commands use your gcloud project (`gcloud config set project PROJECT`).',
  outputsCommand: { run: `npx cdktf output ${STACK}` },
  recovery: [
    {
      phase: 'verify-backup',
      title: 'Find the Redis export to restore and check it',
      why:
        'Memorystore\'s RDB persistence (`redis.rdbSnapshotPeriod`, every 12 hours by default) brings an instance\'s data back by itself after a node failure; it is no backup you can choose, restore elsewhere or keep. ' +
        `The exports in the construct's bucket (\`redis.export\`, a folder per instance) are: \`${P}_redis_export_command\` writes one (run it on a schedule, e.g. from Cloud Scheduler, and before risky changes), and the bucket's lifecycle deletes old ones. ` +
        'An export is an RDB file, which `redis-check-rdb` (from a Redis at least as new as the instance) checks. Everything written after the export is lost.',
      inputs: [{ name: 'RESTORE_FROM', meaning: 'the export to restore: its file name (`tbo-<UTC time>.rdb`) from the listing' }],
      commands: [
        { run: `gcloud storage ls -l gs://<${P}_backup_bucket>/<${P}_redis_instance>/`, note: 'size and time of every export' },
        { run: `gcloud storage cp "gs://<${P}_backup_bucket>/<${P}_redis_instance>/$RESTORE_FROM" ./tbo-check.rdb` },
        { run: 'redis-check-rdb ./tbo-check.rdb', note: 'ends with "RDB looks OK!"' },
      ],
    },
    {
      phase: 'redeploy',
      title: 'Deploy the known-good commit',
      why:
        `${CONFIGURATION_IS_CODE} One deploy brings back what the stack defines: the network, Memorystore (a lost instance comes back empty, with a new AUTH string and CA that the service is given), the secrets (their containers; values below), the service account and its grants, the Cloud Run service, the alert policies. ` +
        'Memorystore must exist before its data can be imported, so on GCP the deploy comes first.',
      inputs: [GOOD_COMMIT],
      commands: [...CHECK_OUT_GOOD_COMMIT, { run: `npx cdktf deploy ${STACK}` }],
    },
    {
      phase: 'restore-redis',
      title: 'Import the export into Memorystore (only when Redis lost its data)',
      why:
        'Import replaces every key in the instance with the file\'s; the instance restarts and refuses connections meanwhile (the service answers from its memory tier, and `/ready` says `"redis": "disconnected"`). ' +
        `\`${P}_redis_import_command\` prints the same command (with the project). Skip it when Redis kept its data: the cache refills by itself, at a cost (README, "State, and what losing it costs"); batch and response ownership records do not, so their owners get 404 until the objects expire upstream.`,
      commands: [
        { run: `gcloud redis instances import "gs://<${P}_backup_bucket>/<${P}_redis_instance>/$RESTORE_FROM" <${P}_redis_instance> --region=<${P}_region>`, note: 'waits for the operation to finish' },
        { run: `gcloud redis instances describe <${P}_redis_instance> --region=<${P}_region> --format='value(state)'`, note: 'READY' },
      ],
    },
    {
      phase: 'secrets',
      title: 'Make sure every secret holds its value',
      why:
        'Secret Manager holds them, replicated as its replication policy says (automatic, or the locations you chose); the stack creates each secret with a placeholder version, never a value from a file. ' +
        `Fill each from your secret store with the commands of \`${P}_secret_commands\` (each reads the env var of the same name; export it first), then start a new revision with \`${P}_rollout_command\`: instances read the \`latest\` versions when they start. ` +
        `${SAME_SECRET_VALUES} The construct generates the cache-signing key (\`random_password\`, kept in Terraform state): a stack deployed with a new state generates a new one, so keep the state backend (and back it up), or bring the key with \`existingCacheSigningKeySecret\`.`,
      commands: [
        { run: `gcloud secrets versions list <${P}_service_name>-anthropic-api-key`, note: 'enabled versions; a placeholder is unset:fill-with-gcloud:…, the same for every <service>-… secret' },
        { run: `<${P}_secret_commands>`, note: 'each command of this output' },
        { run: `<${P}_rollout_command>` },
      ],
    },
    {
      phase: 'verify-health',
      title: 'Check the service',
      why: `A revision takes traffic once its startup probe (\`/ready\`) passes; \`/ready\` also says whether Redis is connected (the service serves from memory when it is not). ${adminPortNote}`,
      commands: [describeService, readyCheck(`<${P}_url>`), recentWarnings],
    },
    {
      phase: 'resume-traffic',
      title: 'Send all traffic to the latest revision',
      why:
        'The construct sends 100 % to the latest revision; traffic pinned to a revision during the incident (`--to-revisions`) stays there until this, or the next deploy. ' +
        'The service URL, and a load balancer or domain mapping in front of it, do not change. If clients were pointed elsewhere meanwhile, point them back.',
      commands: [toLatest, describeService],
    },
  ],
  rollback: [
    {
      phase: 'stop',
      title: 'Move traffic back to the previous revision',
      why:
        'Cloud Run keeps a service\'s revisions, each with its image digest, settings and secret references: sending all traffic back to the last good one takes seconds, and stops the bad revision taking requests (its instances finish what they hold, then scale in). ' +
        'The stack still describes the bad revision until the next step deploys the known-good commit.',
      inputs: [{ name: 'GOOD_REVISION', meaning: 'the last revision that served well, from the list' }],
      commands: [revisions, { run: `gcloud run services update-traffic ${SERVICE} --to-revisions="$GOOD_REVISION"=100` }],
    },
    {
      phase: 'deploy-previous',
      title: 'Deploy the known-good commit',
      why: `${REVERT_WHY} ${CONFIGURATION_IS_CODE} The deploy creates a revision from that commit and sends it all traffic again (the construct's traffic block).`,
      inputs: [GOOD_COMMIT],
      commands: [...REVERT_TO_GOOD_COMMIT, { run: `npx cdktf deploy ${STACK}` }],
    },
    {
      phase: 'verify',
      title: 'Check the service',
      why: adminPortNote,
      commands: [describeService, readyCheck(`<${P}_url>`), recentWarnings],
    },
    {
      phase: 'traffic',
      title: 'Check where traffic goes',
      why: 'The deploy sends 100 % to the latest revision; this makes sure no revision stays pinned. The service URL, and a load balancer or domain mapping in front of it, stay as they are.',
      commands: [toLatest, revisions],
    },
  ],
};
