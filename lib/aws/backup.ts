import { Annotations, Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';
import type { ResolvedSnapshotExport } from './resolve-backup';

/*
 * What ElastiCache needs on a bucket to export snapshots to it (`copy-snapshot --target-bucket`)
 * and to seed a new group from RDB files in it (`SnapshotArns`), from the ElastiCache User Guide:
 * "Exporting a backup", step 2 "Grant ElastiCache access to your Amazon S3 bucket"
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-exporting.html) and "Seeding a
 * new self-designed cluster with an externally created backup", step 4
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-seeding-redis.html): a bucket
 * policy for the Region's service principal `<region>.elasticache-snapshot.amazonaws.com` with
 * s3:PutObject, s3:GetObject, s3:ListBucket, s3:GetBucketAcl, s3:ListMultipartUploadParts and
 * s3:ListBucketMultipartUploads on the bucket and its objects. The guide gives this policy for
 * opt-in Regions and an ACL grant to ElastiCache's canonical user for the Regions enabled by
 * default; the construct's bucket has ACLs disabled (BucketOwnerEnforced, S3's default), so it
 * grants by policy in every Region (see the README: bring an `existingBucket` set up with the ACL
 * grant if an export is refused). The same guide's IAM reference lists what the caller needs:
 * elasticache:CopySnapshot with s3:GetBucketLocation and s3:ListAllMyBuckets to export, and
 * s3:GetObject on each RDB file to seed.
 */

/** Bucket-level actions ElastiCache needs (resource: the bucket). */
export const ELASTICACHE_EXPORT_BUCKET_ACTIONS = ['s3:GetBucketAcl', 's3:ListBucket', 's3:ListBucketMultipartUploads'] as const;
/** Object-level actions ElastiCache needs (resource: the bucket's objects). */
export const ELASTICACHE_EXPORT_OBJECT_ACTIONS = ['s3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'] as const;

/** The ElastiCache service principal of the stack's Region that writes exports and reads seed files. */
export function elastiCacheSnapshotPrincipal(): iam.ServicePrincipal {
  return new iam.ServicePrincipal(`${Aws.REGION}.elasticache-snapshot.amazonaws.com`);
}

/**
 * The bucket of snapshot exports: SSE-S3 encrypted, TLS only, no public access, ACLs disabled,
 * exports expired after `expirationDays` (and unfinished multipart uploads after a day), retained
 * when it leaves the stack (it holds backups).
 */
export function createSnapshotExportBucket(scope: Construct, options: ResolvedSnapshotExport): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'RedisBackupBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ id: 'ExpireExports', expiration: Duration.days(options.expirationDays), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
  });
  acknowledge(
    bucket,
    'AwsSolutions-S1',
    'The bucket holds only ElastiCache snapshot exports, written by the ElastiCache service on an operator\'s CopySnapshot call; every ' +
      'export and seed is recorded by CloudTrail as an ElastiCache management event, and server access logs would need yet another log bucket.',
  );
  return bucket;
}

/**
 * Lets ElastiCache in the stack's Region export snapshots into the bucket and seed new groups from
 * RDB files in it. An imported bucket's policy cannot be changed here: a synth warning says what to grant.
 */
export function grantSnapshotExport(scope: Construct, bucket: s3.IBucket): void {
  const principal = elastiCacheSnapshotPrincipal();
  const added = bucket.addToResourcePolicy(
    new iam.PolicyStatement({ sid: 'ElastiCacheSnapshotExportBucket', actions: [...ELASTICACHE_EXPORT_BUCKET_ACTIONS], principals: [principal], resources: [bucket.bucketArn] }),
  );
  if (!added.statementAdded) {
    Annotations.of(scope).addWarningV2(
      'tbo-deploy:redisBackupBucketPolicy',
      `redis.snapshotExport.existingBucket: the bucket is imported, so its policy cannot be changed here; allow <region>.elasticache-snapshot.amazonaws.com ` +
        `${[...ELASTICACHE_EXPORT_BUCKET_ACTIONS, ...ELASTICACHE_EXPORT_OBJECT_ACTIONS].join(', ')} on it yourself (ElastiCache User Guide, "Exporting a backup").`,
    );
    return;
  }
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({ sid: 'ElastiCacheSnapshotExportObjects', actions: [...ELASTICACHE_EXPORT_OBJECT_ACTIONS], principals: [principal], resources: [bucket.arnForObjects('*')] }),
  );
}

/** Replicates each secret to the Regions (each replica encrypted with that Region's `aws/secretsmanager` key). */
export function replicateSecrets(secrets: readonly secretsmanager.Secret[], regions: readonly string[]): void {
  for (const secret of secrets) for (const region of regions) secret.addReplicaRegion(region);
}
