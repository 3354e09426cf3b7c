import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { PropValidator } from '../core';
import { AWS_DEFAULTS } from './defaults';
import type { TboRedisOptions, TboRedisSnapshotSource } from './props';

/** Snapshot exports to S3, with the defaults filled in. */
export interface ResolvedSnapshotExport {
  /** Days an exported file is kept (lifecycle of the bucket the construct creates). */
  readonly expirationDays: number;
  /** The user's bucket; undefined when the construct creates one. */
  readonly existingBucket?: s3.IBucket;
}

/** How the Redis the construct creates is backed up and restored. */
export interface ResolvedRedisBackup {
  /** DeletionPolicy and UpdateReplacePolicy of the replication group. */
  readonly removalPolicy: RemovalPolicy;
  /** Where a new group's data comes from; undefined for an empty group. */
  readonly restoreFromSnapshot?: TboRedisSnapshotSource;
  /** Exports to S3; undefined when off. */
  readonly snapshotExport?: ResolvedSnapshotExport;
}

const REMOVAL_POLICIES = [RemovalPolicy.SNAPSHOT, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE];
/** An ElastiCache snapshot name: automatic ones look like `automatic.<group>-2026-12-01-03-15`. */
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** An S3 object ARN: `arn:<partition>:s3:::<bucket>/<key>`. */
const S3_OBJECT_ARN = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+$/;
/**
 * An AWS Region name (`us-east-1`, `ap-southeast-7`, `us-gov-west-1`, `cn-north-1`, `eusc-de-east-1`).
 * @internal exported for tests
 */
export const REGION_NAME = /^[a-z]{2,4}(-[a-z]+){1,2}-\d{1,2}$/;

/**
 * Validates the backup and restore options of the Redis the construct creates: its removal
 * policy, the snapshot it is seeded from and the S3 export.
 */
export function resolveRedisBackup(options: TboRedisOptions | undefined, clusterMode: boolean, v: PropValidator): ResolvedRedisBackup {
  const removalPolicy = options?.removalPolicy ?? RemovalPolicy.SNAPSHOT;
  v.check(
    REMOVAL_POLICIES.includes(removalPolicy),
    'redis.removalPolicy',
    removalPolicy,
    'accepted values: RemovalPolicy.SNAPSHOT (a final snapshot, the default), RemovalPolicy.DESTROY, RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE',
  );
  return { removalPolicy, restoreFromSnapshot: resolveSnapshotSource(options?.restoreFromSnapshot, clusterMode, v), snapshotExport: resolveSnapshotExport(options?.snapshotExport, v) };
}

function resolveSnapshotSource(source: TboRedisSnapshotSource | undefined, clusterMode: boolean, v: PropValidator): TboRedisSnapshotSource | undefined {
  if (source === undefined) return undefined;
  const { snapshotName, snapshotArns } = source;
  const prop = 'redis.restoreFromSnapshot';
  v.check(
    (snapshotName === undefined) !== (snapshotArns === undefined),
    prop,
    { snapshotName, snapshotArns },
    'give exactly one of snapshotName (an ElastiCache snapshot) or snapshotArns (RDB files in S3)',
  );
  if (snapshotName !== undefined && !Token.isUnresolved(snapshotName)) {
    v.check(SNAPSHOT_NAME.test(snapshotName), `${prop}.snapshotName`, snapshotName, 'accepted values: an ElastiCache snapshot name of letters, digits and . _ - (e.g. automatic.tbo-redis-2026-12-01-03-15)');
  }
  if (snapshotArns !== undefined) {
    v.check(snapshotArns.length > 0, `${prop}.snapshotArns`, snapshotArns, 'must list at least one RDB file ARN (arn:aws:s3:::bucket/key.rdb)');
    for (const arn of snapshotArns) {
      if (!Token.isUnresolved(arn)) v.check(S3_OBJECT_ARN.test(arn), `${prop}.snapshotArns`, arn, 'each must be the S3 ARN of an RDB file: arn:aws:s3:::bucket/key.rdb');
    }
    v.check(
      !clusterMode,
      `${prop}.snapshotArns`,
      snapshotArns,
      'cannot seed a cluster-mode group (each shard needs its slot range); restore a cluster-mode snapshot with snapshotName, or seed a group without redis.clusterMode',
    );
  }
  return source;
}

function resolveSnapshotExport(option: TboRedisOptions['snapshotExport'], v: PropValidator): ResolvedSnapshotExport | undefined {
  if (option === undefined || option === false) return undefined;
  const options = option === true ? {} : option;
  v.integer('redis.snapshotExport.expirationDays', options.expirationDays, 1, 3650);
  v.check(
    !(options.existingBucket && options.expirationDays !== undefined),
    'redis.snapshotExport.expirationDays',
    options.expirationDays,
    'is unused with redis.snapshotExport.existingBucket (the lifecycle rules of your bucket apply); remove one of them',
  );
  return { expirationDays: options.expirationDays ?? AWS_DEFAULTS.redis.snapshotExportExpirationDays, existingBucket: options.existingBucket };
}

/** Validates `secretReplicaRegions`: Region names, each once, none the stack's own Region (when known at synth). */
export function resolveSecretReplicaRegions(regions: readonly string[] | undefined, stackRegion: string, v: PropValidator): readonly string[] {
  if (regions === undefined) return [];
  const prop = 'secretReplicaRegions';
  for (const region of regions) {
    if (Token.isUnresolved(region)) continue;
    v.check(REGION_NAME.test(region), prop, region, 'each must be an AWS Region name such as us-west-2 or eu-central-1');
    v.check(Token.isUnresolved(stackRegion) || region !== stackRegion, prop, region, 'is the stack\'s own Region, where the secrets already are; list other Regions');
  }
  const duplicates = regions.filter((region, i) => regions.indexOf(region) !== i);
  v.check(duplicates.length === 0, prop, duplicates, 'lists a Region more than once; list each once');
  return regions;
}
