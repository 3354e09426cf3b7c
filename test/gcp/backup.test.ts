/**
 * Issue 14 on GCP. Memorystore RDB exports to Cloud Storage (`redis.export`, lib/gcp/backup.ts):
 * the bucket, the instance identity's grants on it, the commands in the outputs (run through a real
 * shell against a fake gcloud), and the validation of every option. Secret Manager replication
 * (`secretReplication`, lib/gcp/secret-replication.ts): every secret the construct creates gets the
 * same policy (and CMEK keys), the secrets you bring are left alone, and every mistake Secret
 * Manager would reject at apply is refused at synth. (One suite for both: each suite pays the
 * provider bindings' load time once.)
 */
import 'cdktf/lib/testing/adapters/jest';
import { execFileSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { Testing, TerraformVariable } from 'cdktf';
import { REDIS_BACKUP_ENV, REDIS_BACKUP_FILE_PREFIX, REDIS_BACKUP_FILE_SUFFIX } from '../../lib/core';
import { MEMORYSTORE_EXPORT_ROLES, TboCloudRunService, type TboCloudRunServiceProps } from '../../lib/gcp';
import { BASE, NAME, parse, resourcesOf, synthTbo, validationError } from './support';

Testing.setupJest();

/** Synthesizes `tbo` with BASE and `props`; returns the JSON and the construct. */
function synthWith(props: Partial<TboCloudRunServiceProps>): { json: string; tbo: TboCloudRunService } {
  let tbo: TboCloudRunService | undefined;
  const json = Testing.synthScope((scope) => {
    tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, ...props });
  });
  return { json, tbo: tbo! };
}

const outputs = (json: string) => parse(json).output ?? {};
const INSTANCE = `${NAME}-cache`;
const bucketRef = (json: string) => `\${google_storage_bucket.${resourcesOf(json, 'google_storage_bucket')[0][0]}.name}`;
const instanceRef = (json: string, attribute: string) => `\${google_redis_instance.${resourcesOf(json, 'google_redis_instance')[0][0]}.${attribute}}`;

describe('Memorystore exports: off by default', () => {
  const json = synthTbo();

  test('no bucket, no grant, no export commands; the names the runbook reads are there', () => {
    expect(resourcesOf(json, 'google_storage_bucket')).toEqual([]);
    expect(resourcesOf(json, 'google_storage_bucket_iam_member')).toEqual([]);
    expect(outputs(json)).not.toHaveProperty('tbo_backup_bucket');
    expect(outputs(json)).not.toHaveProperty('tbo_redis_export_command');
    expect(outputs(json).tbo_service_name.value).toBe(NAME);
    expect(outputs(json).tbo_region.value).toBe('europe-west1');
    expect(outputs(json).tbo_redis_instance.value).toBe(instanceRef(json, 'name'));
  });

  test('RDB persistence is on regardless (what Memorystore restores after a node failure)', () => {
    const [[, instance]] = resourcesOf(json, 'google_redis_instance');
    expect(instance.persistence_config).toEqual({ persistence_mode: 'RDB', rdb_snapshot_period: 'TWELVE_HOURS' });
  });

  test('without Redis there is no instance output', () => {
    expect(outputs(synthTbo({ redis: false }))).not.toHaveProperty('tbo_redis_instance');
  });
});

describe('Memorystore exports: redis.export', () => {
  const { json, tbo } = synthWith({ redis: { export: true } });

  test('a private bucket in the instance\'s region: uniform access, public access prevention, exports deleted after 30 days', () => {
    expect(json).toHaveResourceWithProperties(StorageBucket, {
      project: 'my-project',
      location: 'EUROPE-WEST1',
      storage_class: 'STANDARD',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      versioning: { enabled: false },
      lifecycle_rule: [{ action: { type: 'Delete' }, condition: { age: 30, with_state: 'ANY' } }],
      force_destroy: false,
      labels: { app: 'tbo', content: 'redis-rdb-exports' },
    });
    expect(resourcesOf(json, 'google_storage_bucket')).toHaveLength(1);
  });

  test('its default name: serviceName, -rdb-, 8 hex digits of SHA-256 over the project and the construct\'s address (global names: unique per project)', () => {
    const [[, bucket]] = resourcesOf(json, 'google_storage_bucket');
    const digest = hash('sha256', `my-project/${tbo.redisExport!.node.addr}`, 'hex').slice(0, 8);
    expect(bucket.name).toBe(`${NAME}-rdb-${digest}`);
    expect(String(bucket.name)).toMatch(/^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/);
    expect(parse(synthWith({ redis: { export: true } }).json).resource?.google_storage_bucket).toEqual(parse(json).resource?.google_storage_bucket);
    const [[, other]] = resourcesOf(synthTbo({ redis: { export: true }, project: 'other-project' }), 'google_storage_bucket');
    expect(other.name).not.toBe(bucket.name);
  });

  test('the instance\'s own identity (persistence_iam_identity) gets the two storage roles on that bucket only', () => {
    const grants = resourcesOf(json, 'google_storage_bucket_iam_member').map(([, g]) => g);
    expect(grants).toEqual(MEMORYSTORE_EXPORT_ROLES.map((role) => ({ bucket: bucketRef(json), role, member: instanceRef(json, 'persistence_iam_identity') })));
    expect(MEMORYSTORE_EXPORT_ROLES).toEqual(['roles/storage.legacyBucketWriter', 'roles/storage.objectViewer']);
    expect(resourcesOf(json, 'google_project_iam_member')).toEqual([]);
  });

  test('outputs: the bucket, the instance, and the export and import commands', () => {
    const out = outputs(json);
    expect(out.tbo_backup_bucket.value).toBe(bucketRef(json));
    expect(out.tbo_redis_instance.value).toBe(instanceRef(json, 'name'));
    const where = `${INSTANCE} --region=europe-west1 --project=my-project`;
    expect(out.tbo_redis_export_command.value).toBe(`gcloud redis instances export gs://${bucketRef(json)}/${INSTANCE}/tbo-$(date -u +%Y%m%dT%H%M%SZ).rdb ${where}`);
    expect(out.tbo_redis_import_command.value).toBe(`gcloud redis instances import gs://${bucketRef(json)}/${INSTANCE}/$${REDIS_BACKUP_ENV.restoreFrom} ${where}`);
    expect(out.tbo_redis_import_command.description).toContain(REDIS_BACKUP_ENV.restoreFrom);
  });

  test('the commands run as written in a shell: a timestamped file named like the Kubernetes backups, and the file RESTORE_FROM names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tbo-gcloud-'));
    try {
      // A gcloud that prints its arguments, one per line.
      writeFileSync(join(dir, 'gcloud'), '#!/bin/sh\nfor a in "$@"; do printf \'%s\\n\' "$a"; done\n');
      chmodSync(join(dir, 'gcloud'), 0o755);
      const run = (command: string, env: Record<string, string> = {}) =>
        execFileSync('sh', ['-c', String(command).replace(bucketRef(json), 'acme-exports')], { env: { PATH: `${dir}:${process.env.PATH}`, ...env }, encoding: 'utf8' }).trim().split('\n');
      const exported = run(outputs(json).tbo_redis_export_command.value as string);
      expect(exported.slice(0, 3)).toEqual(['redis', 'instances', 'export']);
      const file = exported[3].slice(`gs://acme-exports/${INSTANCE}/`.length);
      expect(exported[3].startsWith(`gs://acme-exports/${INSTANCE}/`)).toBe(true);
      expect(file).toMatch(new RegExp(`^${REDIS_BACKUP_FILE_PREFIX}\\d{8}T\\d{6}Z\\${REDIS_BACKUP_FILE_SUFFIX}$`));
      expect(exported.slice(4)).toEqual([INSTANCE, '--region=europe-west1', '--project=my-project']);
      const imported = run(outputs(json).tbo_redis_import_command.value as string, { [REDIS_BACKUP_ENV.restoreFrom]: file });
      expect(imported).toEqual(['redis', 'instances', 'import', `gs://acme-exports/${INSTANCE}/${file}`, INSTANCE, '--region=europe-west1', '--project=my-project']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('turning exports on adds resources and changes none of the existing ones', () => {
    const ids = (synthesized: string): [string, string][] =>
      Object.entries(parse(synthesized).resource ?? {}).flatMap(([type, byId]) => Object.entries(byId).map(([id, body]): [string, string] => [`${type}.${id}`, JSON.stringify(body)]));
    const before = ids(synthTbo());
    const after = new Map(ids(json));
    for (const [id, body] of before) expect([id, after.get(id)]).toEqual([id, body]);
    expect([...after.keys()].filter((id) => !before.some(([b]) => b === id)).map((id) => id.split('.')[0]).sort()).toEqual(['google_storage_bucket', 'google_storage_bucket_iam_member', 'google_storage_bucket_iam_member']);
  });
});

describe('Memorystore exports: options', () => {
  test('expirationDays, versioning, bucketName and a multi-region location', () => {
    const json = synthTbo({ redis: { export: { expirationDays: 7, versioning: true, bucketName: 'acme-tbo-exports', location: 'eu' } } });
    expect(json).toHaveResourceWithProperties(StorageBucket, { name: 'acme-tbo-exports', location: 'EU', versioning: { enabled: true }, lifecycle_rule: [{ action: { type: 'Delete' }, condition: { age: 7, with_state: 'ANY' } }] });
  });

  test('existingBucket: no bucket is created; the grants and commands use yours', () => {
    const json = synthTbo({ redis: { export: { existingBucket: 'acme-redis-exports' } } });
    expect(resourcesOf(json, 'google_storage_bucket')).toEqual([]);
    expect(resourcesOf(json, 'google_storage_bucket_iam_member').map(([, g]) => g.bucket)).toEqual(['acme-redis-exports', 'acme-redis-exports']);
    expect(outputs(json).tbo_backup_bucket.value).toBe('acme-redis-exports');
    expect(outputs(json).tbo_redis_export_command.value).toContain(`gs://acme-redis-exports/${INSTANCE}/tbo-`);
  });

  test('deletionProtection: false lets a destroy delete the bucket with its exports', () => {
    expect(synthTbo({ redis: { export: true }, deletionProtection: false })).toHaveResourceWithProperties(StorageBucket, { force_destroy: true });
  });

  test('without a project, the name and the commands use the provider\'s project (known when Terraform plans)', () => {
    const { json, tbo } = synthWith({ redis: { export: true }, project: undefined });
    const [[configId]] = Object.entries(parse(json).data?.google_client_config ?? {});
    const project = `\${data.google_client_config.${configId}.project}`;
    const [[, bucket]] = resourcesOf(json, 'google_storage_bucket');
    expect(bucket.name).toBe(`${NAME}-rdb-\${substr(sha256(join("/", [${project.slice(2, -1)}, "${tbo.redisExport!.node.addr}"])), 0, 8)}`);
    expect(outputs(json).tbo_redis_export_command.value).toContain(`--project=${project}`);
  });

  test.each([
    ['expirationDays out of range', { export: { expirationDays: 0 } }, 'redis.export.expirationDays: received 0; must be an integer from 1 to 3650'],
    ['a bucket name with capitals', { export: { bucketName: 'Acme_Exports' } }, 'redis.export.bucketName: received "Acme_Exports"; must be 3 to 63 lowercase letters'],
    ['a bucket name with "google"', { export: { bucketName: 'my-google-exports' } }, 'redis.export.bucketName: received "my-google-exports"; must be 3 to 63'],
    ['a location that is none', { export: { location: 'europe west' } }, 'redis.export.location: received "europe west"; must be a Cloud Storage location'],
    ['a gs:// URL as existingBucket', { export: { existingBucket: 'gs://acme' } }, 'redis.export.existingBucket: received "gs://acme"; must be a Cloud Storage bucket name'],
    ['existingBucket with options of a new bucket', { export: { existingBucket: 'acme', versioning: true, expirationDays: 3 } }, 'redis.export.existingBucket: received "acme"; cannot be combined with redis.export.versioning, redis.export.expirationDays'],
  ])('refuses %s, naming the prop', (_name, redis, message) => {
    expect(validationError({ redis } as Partial<TboCloudRunServiceProps>)).toContain(`TboCloudRunService: ${message}`);
  });

  test('a serviceName Cloud Storage would refuse in a bucket name asks for redis.export.bucketName', () => {
    expect(validationError({ serviceName: 'google-tbo', redis: { export: true } })).toContain('TboCloudRunService: redis.export.bucketName: received undefined; is required: the default bucket name starts with serviceName "google-tbo"');
    expect(() => synthTbo({ serviceName: 'google-tbo', redis: { export: { bucketName: 'acme-tbo-exports' } } })).not.toThrow();
  });
});

const EU = ['europe-west1', 'europe-west4'];
const key = (location: string, name = 'tbo') => `projects/acme-kms/locations/${location}/keyRings/tbo/cryptoKeys/${name}`;

describe('secretReplication', () => {
  // Every kind of secret the construct creates: credentials, the AUTH string, the signing key, both collectors' configs.
  const everySecret: Partial<TboCloudRunServiceProps> = { managedPrometheus: true, tracing: { collectorSidecar: true }, openaiApiKey: true, existingSentryDsnSecret: 'acme-sentry-dsn' };
  const json = synthTbo({ ...everySecret, secretReplication: { locations: EU } });
  const secrets = resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s);

  test('user-managed locations apply to every secret the construct creates', () => {
    expect(secrets.map((s) => s.secret_id).sort()).toEqual(
      ['anthropic-api-key', 'api-keys', 'cache-signing-key', 'gmp-config', 'jwt-secret-key', 'openai-api-key', 'otel-config', 'redis-auth'].map((suffix) => `${NAME}-${suffix}`),
    );
    for (const secret of secrets) expect([secret.secret_id, secret.replication]).toEqual([secret.secret_id, { user_managed: { replicas: EU.map((location) => ({ location })) } }]);
  });

  test('a secret you bring is not created, so its replication stays yours', () => {
    expect(secrets.map((s) => s.secret_id)).not.toContain('acme-sentry-dsn');
  });

  test('by default every secret replicates automatically', () => {
    for (const [, secret] of resourcesOf(synthTbo(everySecret), 'google_secret_manager_secret')) expect(secret.replication).toEqual({ auto: {} });
  });

  test('CMEK: one key per location, each on the replica in its location', () => {
    const withKeys = synthTbo({ secretReplication: { locations: EU, kmsKeyNames: [key('europe-west4'), key('europe-west1')] } });
    for (const [, secret] of resourcesOf(withKeys, 'google_secret_manager_secret')) {
      expect(secret.replication).toEqual({ user_managed: { replicas: EU.map((location) => ({ location, customer_managed_encryption: { kms_key_name: key(location) } })) } });
    }
  });

  test('CMEK with automatic replication: one global key', () => {
    for (const [, secret] of resourcesOf(synthTbo({ secretReplication: { kmsKeyNames: [key('global')] } }), 'google_secret_manager_secret')) {
      expect(secret.replication).toEqual({ auto: { customer_managed_encryption: { kms_key_name: key('global') } } });
    }
  });

  test('a key that is a Terraform reference is accepted with automatic replication', () => {
    const synthesized = Testing.synthScope((scope) => {
      const kms = new TerraformVariable(scope, 'kms', { type: 'string' });
      new TboCloudRunService(scope, 'tbo', { ...BASE, secretReplication: { kmsKeyNames: [kms.stringValue] } });
    });
    const [[, secret]] = resourcesOf(synthesized, 'google_secret_manager_secret');
    expect(secret.replication).toEqual({ auto: { customer_managed_encryption: { kms_key_name: '${var.kms}' } } });
  });

  test.each([
    ['no locations', { locations: [] }, 'secretReplication.locations: received []; must list at least one region'],
    ['a location twice', { locations: ['europe-west1', 'europe-west1'] }, 'secretReplication.locations: received ["europe-west1","europe-west1"]; must not list a region twice'],
    ['a location that is no region', { locations: ['EU'] }, 'secretReplication.locations: received "EU"; each must be a Google Cloud region such as europe-west1'],
    ['a malformed key', { kmsKeyNames: ['tbo-key'] }, 'secretReplication.kmsKeyNames: received "tbo-key"; each must be a Cloud KMS key name'],
    ['a regional key with automatic replication', { kmsKeyNames: [key('europe-west1')] }, "must be in the 'global' location"],
    ['two keys with automatic replication', { kmsKeyNames: [key('global'), key('global', 'b')] }, 'give exactly one key, in the global location'],
    ['a key missing for a location', { locations: EU, kmsKeyNames: [key('europe-west1')] }, 'must hold exactly one key per location of secretReplication.locations (europe-west1, europe-west4), each in that location (Secret Manager\'s rule); no key for europe-west4'],
    ['a key outside the locations', { locations: ['europe-west1'], kmsKeyNames: [key('us-central1')] }, 'no key for europe-west1; keys outside the locations: us-central1'],
  ])('refuses %s, naming the prop', (_name, secretReplication, message) => {
    expect(validationError({ secretReplication } as Partial<TboCloudRunServiceProps>)).toContain(message);
  });

  test('a key given as a Terraform reference with locations is refused (its location picks the replica)', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const kms = new TerraformVariable(scope, 'kms', { type: 'string' });
        new TboCloudRunService(scope, 'tbo', { ...BASE, secretReplication: { locations: ['europe-west1'], kmsKeyNames: [kms.stringValue] } });
      }),
    ).toThrow('TboCloudRunService: secretReplication.kmsKeyNames: received "<a Terraform reference>"; must be literal key names with secretReplication.locations');
  });
});
