import { hash } from 'node:crypto';
import type { RedisInstance } from '@cdktf/provider-google/lib/redis-instance';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { REDIS_BACKUP_ENV, REDIS_BACKUP_FILE_PREFIX, REDIS_BACKUP_FILE_SUFFIX, type PropValidator } from '../core';

/**
 * Exports of the Memorystore for Redis instance's data to Cloud Storage (`redis.export` of
 * `TboCloudRunService`), and imports back from them.
 *
 * Why exports and not managed backups: the construct creates a Memorystore for Redis *instance*
 * (`google_redis_instance`, Basic or Standard tier). Managed backups (automated schedules and
 * on-demand backups, `gcloud redis clusters create-backup`) belong to Memorystore for Redis
 * Cluster and Memorystore for Valkey; an instance has RDB persistence (always on here: snapshots
 * every `rdbSnapshotPeriod`, restored by Memorystore itself after a node failure) and RDB export /
 * import through Cloud Storage (`gcloud redis instances export|import`), which is what this sets up.
 */
export interface TboMemorystoreExportOptions {
  /** Days an exported RDB file is kept, counted from when it was written, including a version it overwrote (lifecycle `Delete` at that age; 1 to 3650). @default 30 */
  readonly expirationDays?: number;
  /** Object Versioning on the bucket the construct creates: an export overwritten or deleted within `expirationDays` stays as a noncurrent version until that age. @default false */
  readonly versioning?: boolean;
  /**
   * Location of the bucket the construct creates: a region, or a dual- or multi-region (e.g.
   * `EUR4`, `EU`, `US`) so the exports stay readable when the instance's region is not. Exports and
   * imports across regions work, slower (Google recommends the instance's region).
   * @default - the instance's region
   */
  readonly location?: string;
  /**
   * Name of the bucket the construct creates (3 to 63 lowercase letters, digits, `-` and `_`;
   * bucket names are global across Google Cloud).
   * @default - `<serviceName>-rdb-<8 hex digits of SHA-256 over the project and the construct's address>`
   */
  readonly bucketName?: string;
  /**
   * A bucket of yours (its name, not `gs://…`) to export to instead of a new one, ideally in the
   * instance's region; the instance's service identity is granted on it (the same two roles).
   * @default - a new bucket
   */
  readonly existingBucket?: string;
}

/** `redis.export` with its defaults applied. */
export interface ResolvedMemorystoreExport {
  readonly expirationDays: number;
  readonly versioning: boolean;
  /** The `location` given (upper case); undefined: the instance's region. */
  readonly location?: string;
  /** The `bucketName` given; undefined: derived by the construct. */
  readonly bucketName?: string;
  readonly existingBucket?: string;
}

/**
 * The roles the instance's own service identity (`persistence_iam_identity`, the account Memorystore
 * uses for import and export, "serviceAccount:…") gets on the bucket, and only there. Google's
 * least-privilege list for that account ("Granting restricted permissions for import and export",
 * Memorystore for Redis) is bucket-level `storage.buckets.get` for both directions,
 * `storage.objects.create` and `storage.objects.delete` to export, `storage.objects.get` to import;
 * no single predefined role holds exactly that: Storage Legacy Bucket Writer has `buckets.get` and
 * `objects.create/delete/list`, Storage Object Viewer has `objects.get/list`.
 */
export const MEMORYSTORE_EXPORT_ROLES = ['roles/storage.legacyBucketWriter', 'roles/storage.objectViewer'] as const;
/** Default of `expirationDays`. */
export const DEFAULT_EXPORT_EXPIRATION_DAYS = 30;

const BUCKET_NAME = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;
/** Existing buckets may also have dotted (domain-named) names, up to 222 characters. */
const EXISTING_BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** Cloud Storage refuses bucket names that start with "goog" or contain "google". */
function reservedBucketName(name: string): boolean {
  return name.startsWith('goog') || name.includes('google');
}

/**
 * Checks `redis.export` and applies its defaults; undefined when off. `serviceName` is the one the
 * default bucket name starts with.
 */
export function resolveMemorystoreExport(v: PropValidator, option: boolean | TboMemorystoreExportOptions | undefined, serviceName: string): ResolvedMemorystoreExport | undefined {
  if (option === undefined || option === false) return undefined;
  const o = option === true ? {} : option;
  v.integer('redis.export.expirationDays', o.expirationDays, 1, 3650);
  if (o.existingBucket !== undefined) {
    const given = (['bucketName', 'location', 'versioning', 'expirationDays'] as const).filter((k) => o[k] !== undefined);
    v.check(given.length === 0, 'redis.export.existingBucket', o.existingBucket,
      `cannot be combined with ${given.map((k) => `redis.export.${k}`).join(', ')}: those configure the bucket the construct creates; set them on your bucket, or remove existingBucket`);
    if (known(o.existingBucket)) {
      v.check(EXISTING_BUCKET_NAME.test(o.existingBucket) && !o.existingBucket.startsWith('gs://'), 'redis.export.existingBucket', o.existingBucket,
        'must be a Cloud Storage bucket name (e.g. acme-redis-exports), without gs:// or a path');
    }
  }
  if (o.bucketName !== undefined && known(o.bucketName)) {
    v.check(BUCKET_NAME.test(o.bucketName) && !reservedBucketName(o.bucketName), 'redis.export.bucketName', o.bucketName,
      'must be 3 to 63 lowercase letters, digits, - or _, starting and ending with a letter or digit, and not start with "goog" or contain "google"');
  } else if (o.bucketName === undefined && o.existingBucket === undefined && known(serviceName)) {
    v.check(!reservedBucketName(serviceName), 'redis.export.bucketName', undefined,
      `is required: the default bucket name starts with serviceName "${serviceName}", and Cloud Storage refuses names that start with "goog" or contain "google"`);
  }
  if (o.location !== undefined && known(o.location)) {
    v.check(/^[A-Za-z]+(-[A-Za-z]+\d+|\d+)?$/.test(o.location), 'redis.export.location', o.location,
      'must be a Cloud Storage location: a region (europe-west1), a dual-region (EUR4, NAM4) or a multi-region (EU, US, ASIA)');
  }
  return {
    expirationDays: o.expirationDays ?? DEFAULT_EXPORT_EXPIRATION_DAYS,
    versioning: o.versioning ?? false,
    location: o.location !== undefined && known(o.location) ? o.location.toUpperCase() : o.location,
    bucketName: o.bucketName,
    existingBucket: o.existingBucket,
  };
}

/** Properties of {@link TboMemorystoreExport}. */
export interface TboMemorystoreExportProps {
  /** What to create, defaults applied. */
  readonly options: ResolvedMemorystoreExport;
  /** The instance whose identity is granted on the bucket. */
  readonly instance: RedisInstance;
  /** The instance's name, as the commands name it (and the folder its exports go in). */
  readonly instanceName: string;
  /** Project of the bucket. @default - the provider's project */
  readonly project?: string;
  /** The project as the commands and the default bucket name read it: `project`, or the provider's (a Terraform reference). */
  readonly projectRef: string;
  /** The instance's region: the bucket's location and the commands' `--region`. */
  readonly region: string;
  /** Starts the default bucket name. */
  readonly serviceName: string;
  /** false lets `cdktf destroy` delete the bucket with its exports (`force_destroy`); true leaves a bucket that holds exports in place (the destroy fails there). @default true */
  readonly deletionProtection?: boolean;
}

/**
 * A Cloud Storage bucket for RDB exports of a Memorystore for Redis instance, and the grants that
 * let the instance write and read it, plus the exact `gcloud` commands that export and import.
 *
 * The bucket: in the instance's region by default (Google recommends the same region for both
 * directions; `location` for a dual- or multi-region),
 * uniform bucket-level access, public access prevention enforced, Standard class, every object
 * deleted `expirationDays` after it was written (versions included), optional Object Versioning,
 * labels `app=tbo`. Exports go under `<instance name>/`, named like the Kubernetes backups:
 * `tbo-<UTC yyyymmddThhmmssZ>.rdb`.
 *
 * What the commands do: an export writes a point-in-time RDB file while the instance keeps serving
 * (it may be slower meanwhile; no admin operation can run); an import makes the instance
 * unavailable until it finishes and replaces all its data with the file's (a failed import can
 * leave it empty: retry with the same file). An instance imports files from its own or an older
 * Redis version only. Whoever runs them needs `redis.instances.export` / `redis.instances.import`
 * on the instance (e.g. Cloud Memorystore Redis Admin); the bucket access is the instance's.
 */
export class TboMemorystoreExport extends Construct {
  /** The bucket the construct created. @default - undefined with `existingBucket` */
  readonly bucket?: StorageBucket;
  /** The bucket's name (created or existing). */
  readonly bucketName: string;
  /** The bucket-level grants of {@link MEMORYSTORE_EXPORT_ROLES} to the instance's identity. */
  readonly grants: readonly StorageBucketIamMember[];
  /** Folder of the exports in the bucket (`<instance name>/`). */
  readonly objectPrefix: string;
  /** Exports the instance now, to a new timestamped file. */
  readonly exportCommand: string;
  /** Imports the file named by the `RESTORE_FROM` env var (a file name under `objectPrefix`), replacing all the instance's data. */
  readonly importCommand: string;

  constructor(scope: Construct, id: string, props: TboMemorystoreExportProps) {
    super(scope, id);
    const o = props.options;
    if (o.existingBucket !== undefined) {
      this.bucketName = o.existingBucket;
    } else {
      this.bucket = new StorageBucket(this, 'Bucket', {
        project: props.project,
        name: o.bucketName ?? this.defaultBucketName(props),
        location: o.location ?? (known(props.region) ? props.region.toUpperCase() : Fn.upper(props.region)),
        storageClass: 'STANDARD',
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        versioning: { enabled: o.versioning },
        lifecycleRule: [{ action: { type: 'Delete' }, condition: { age: o.expirationDays, withState: 'ANY' } }],
        forceDestroy: props.deletionProtection === false,
        labels: { app: 'tbo', content: 'redis-rdb-exports' },
      });
      this.bucketName = this.bucket.name;
    }
    this.grants = MEMORYSTORE_EXPORT_ROLES.map(
      (role) => new StorageBucketIamMember(this, role.replace('roles/storage.', 'Grant-'), { bucket: this.bucketName, role, member: props.instance.persistenceIamIdentity }),
    );
    this.objectPrefix = `${props.instanceName}/`;
    const where = `${props.instanceName} --region=${props.region} --project=${props.projectRef}`;
    const folder = `gs://${this.bucketName}/${this.objectPrefix}`;
    this.exportCommand = `gcloud redis instances export ${folder}${REDIS_BACKUP_FILE_PREFIX}$(date -u +%Y%m%dT%H%M%SZ)${REDIS_BACKUP_FILE_SUFFIX} ${where}`;
    this.importCommand = `gcloud redis instances import ${folder}$${REDIS_BACKUP_ENV.restoreFrom} ${where}`;
  }

  /** `<serviceName>-rdb-` and 8 hex digits of SHA-256 over `<project>/<address>`: unique per project and construct, at most 62 characters. */
  private defaultBucketName(props: TboMemorystoreExportProps): string {
    const digest = known(props.projectRef)
      ? hash('sha256', `${props.projectRef}/${this.node.addr}`, 'hex').slice(0, 8)
      : Fn.substr(Fn.sha256(Fn.join('/', [props.projectRef, this.node.addr])), 0, 8);
    return `${props.serviceName}-rdb-${digest}`;
  }
}
