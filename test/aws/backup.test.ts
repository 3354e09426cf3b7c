import { join } from 'node:path';
import { App, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { TboConfigValidationError } from '../../lib/core';
import { ELASTICACHE_EXPORT_BUCKET_ACTIONS, ELASTICACHE_EXPORT_OBJECT_ACTIONS, TboFargateService, type TboFargateServiceProps } from '../../lib/aws';
import { createTboAwsApp, TboAwsStack } from '../../bin/tbo-aws-stack';
import { cfnLint } from './support/cfn-lint';
import { outputsOf, registryImage, resourcesOfType, synthTbo, TempDirs, type Synthesized } from './support/synth';

// cfn-lint checks the templates below; CDK's own CloudFormation validation would add ~20 s per synth.
process.env.CDK_VALIDATION = 'false';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const ref = (id: string) => ({ Ref: id });
const REGIONAL_PRINCIPAL = { 'Fn::Join': ['', [{ Ref: 'AWS::Region' }, '.elasticache-snapshot.amazonaws.com']] };
const SEED_ARN = 'arn:aws:s3:::tbo-exports/tbo-final-0001.rdb';
const SENTRY_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:tbo/sentry-dsn-AbCdEf';

type Template = Synthesized['json'];
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Principal?: unknown; Resource: unknown; Condition?: unknown };
const idsOfType = (json: Template, type: string) => Object.keys(resourcesOfType(json, type));
const policyStatementsOf = (json: Template, bucketId: string): Statement[] =>
  Object.values(resourcesOfType(json, 'AWS::S3::BucketPolicy'))
    .filter((p) => JSON.stringify(p.Properties!.Bucket) === JSON.stringify(ref(bucketId)))
    .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);

/** Every cdk-nag acknowledgement recorded in the tree, as `rule path`. */
function acknowledgements(root: IConstruct): string[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as Record<string, string>).map((rule) => `${rule.replace(/^annotation::/i, '')} ${c.node.path}`)),
  ).filter((a) => a.startsWith('AwsSolutions-'));
}

/** The one-line problems the construct (or the example stack) throws while being built: no synth. */
function problems(build: () => unknown): string[] {
  try {
    build();
  } catch (err) {
    expect(err).toBeInstanceOf(TboConfigValidationError);
    return [...(err as TboConfigValidationError).problems];
  }
  throw new Error('expected a TboConfigValidationError');
}
const construct = (props: TboFargateServiceProps | ((stack: Stack) => TboFargateServiceProps), stackRegion?: string) => () => {
  const stack = new Stack(new App(), 'S', stackRegion ? { env: { region: stackRegion } } : {});
  return new TboFargateService(stack, 'Tbo', { image: registryImage(), ...(typeof props === 'function' ? props(stack) : props) });
};

describe('the example app with every backup and observability option (context keys)', () => {
  let app: App;
  let json: Template;
  let templateFile: string;
  let stack: TboAwsStack;
  beforeAll(() => {
    const outdir = dirs.make();
    app = createTboAwsApp({
      outdir,
      context: {
        redisSnapshotExport: 'true',
        redisRestoreSnapshotArns: SEED_ARN,
        secretReplicaRegions: 'us-west-2, eu-west-1',
        xraySidecar: 'true',
        traceSamplingRatio: '0.25',
        sentryDsnSecretArn: SENTRY_ARN,
      },
    });
    const artifact = app.synth().getStackByName('TboAwsStack'); // throws on any unacknowledged cdk-nag finding
    json = artifact.template as Template;
    templateFile = join(outdir, artifact.templateFile);
    stack = app.node.findChild('TboAwsStack') as TboAwsStack;
  }, 120_000);

  it('passes cdk-nag (at synth) with the new acknowledgements only, each with a specific reason, and cfn-lint with no error or warning', async () => {
    // (the synth in beforeAll would have thrown on any unacknowledged finding)
    const acks = acknowledgements(app);
    expect(acks).toEqual(expect.arrayContaining(['AwsSolutions-S1 TboAwsStack/Tbo/RedisBackupBucket', 'AwsSolutions-IAM5[Resource::*] TboAwsStack/Tbo/XRayPolicy']));
    expect(acks).toHaveLength(12); // the 10 of the default stack and these two
    const lint = await cfnLint([templateFile]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 120_000);

  it('creates an encrypted, private, TLS-only export bucket with ACLs disabled, expiring exports after 30 days, retained', () => {
    const bucketId = stack.getLogicalId(stack.tbo.redisBackupBucket!.node.defaultChild as never);
    expect(json.Resources[bucketId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [{ Id: 'ExpireExports', Status: 'Enabled', ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
      },
    });
    expect(stack.tbo.redisBackupBucket!.node.id).toBe('RedisBackupBucket');
  });

  it('lets only ElastiCache of the stack\'s Region write and read exports (the documented six actions), over TLS only', () => {
    const bucketId = stack.getLogicalId(stack.tbo.redisBackupBucket!.node.defaultChild as never);
    const statements = policyStatementsOf(json, bucketId);
    const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
    const objects = { 'Fn::Join': ['', [bucketArn, '/*']] };
    expect(statements.find((st) => st.Effect === 'Deny')).toMatchObject({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const allows = statements.filter((st) => st.Effect === 'Allow');
    expect(allows).toEqual([
      { Sid: 'ElastiCacheSnapshotExportBucket', Effect: 'Allow', Principal: { Service: REGIONAL_PRINCIPAL }, Action: [...ELASTICACHE_EXPORT_BUCKET_ACTIONS], Resource: bucketArn },
      { Sid: 'ElastiCacheSnapshotExportObjects', Effect: 'Allow', Principal: { Service: REGIONAL_PRINCIPAL }, Action: [...ELASTICACHE_EXPORT_OBJECT_ACTIONS], Resource: objects },
    ]);
    expect([...ELASTICACHE_EXPORT_BUCKET_ACTIONS, ...ELASTICACHE_EXPORT_OBJECT_ACTIONS].sort()).toEqual(
      ['s3:GetBucketAcl', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts', 's3:PutObject'],
    );
  });

  it('seeds the replication group from the RDB file, keeps the final snapshot policy, and outputs the names the runbook reads', () => {
    const groupId = stack.getLogicalId(stack.tbo.redis!);
    expect(json.Resources[groupId]).toMatchObject({ DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot', Properties: { SnapshotArns: [SEED_ARN] } });
    expect(json.Resources[groupId].Properties).not.toHaveProperty('SnapshotName');
    const outputs = outputsOf(json);
    expect(outputs.RedisBackupBucketName.Value).toEqual(ref(stack.getLogicalId(stack.tbo.redisBackupBucket!.node.defaultChild as never)));
    expect(outputs.RedisBackupBucketName.Description).toContain('aws elasticache copy-snapshot');
    expect(outputs.RedisReplicationGroupId.Value).toEqual(ref(groupId));
    expect(outputs.ClusterName.Value).toEqual(ref(idsOfType(json, 'AWS::ECS::Cluster')[0]));
    expect(outputs.EcsServiceName.Value).toEqual({ 'Fn::GetAtt': [idsOfType(json, 'AWS::ECS::Service')[0], 'Name'] });
  });

  it('replicates every secret the construct creates to each Region, and not the Sentry DSN it was given', () => {
    const secrets = Object.values(resourcesOfType(json, 'AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(5); // Anthropic, OpenAI, JWT, cache signing key, Redis AUTH token
    for (const secret of secrets) expect(secret.Properties!.ReplicaRegions).toEqual([{ Region: 'us-west-2' }, { Region: 'eu-west-1' }]);
    expect(stack.tbo.sentryDsnSecret?.secretArn).toBe(SENTRY_ARN);
  });
});

describe('redis backup options on the construct: your own export bucket, a snapshot name, cluster mode, DESTROY', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthTbo(dirs, (stack) => ({
      image: registryImage(),
      redis: { clusterMode: true, removalPolicy: RemovalPolicy.DESTROY, restoreFromSnapshot: { snapshotName: 'automatic.tbo-redis-2026-12-01-03-15' }, snapshotExport: { existingBucket: new s3.Bucket(stack, 'MyExports') } },
    }));
  }, 120_000);

  it('grants ElastiCache on the given bucket, creates none, and outputs its name', () => {
    const myId = s.stack.getLogicalId(s.stack.node.findChild('MyExports').node.defaultChild as never);
    expect(idsOfType(s.json, 'AWS::S3::Bucket').sort()).toEqual([myId, s.stack.getLogicalId(s.tbo.accessLogsBucket!.node.defaultChild as never)].sort());
    expect(s.tbo.redisBackupBucket).toBe(s.stack.node.findChild('MyExports'));
    const allows = policyStatementsOf(s.json, myId).filter((st) => st.Effect === 'Allow');
    expect(allows.map((st) => [st.Principal, st.Action])).toEqual([
      [{ Service: REGIONAL_PRINCIPAL }, [...ELASTICACHE_EXPORT_BUCKET_ACTIONS]],
      [{ Service: REGIONAL_PRINCIPAL }, [...ELASTICACHE_EXPORT_OBJECT_ACTIONS]],
    ]);
    expect(outputsOf(s.json).RedisBackupBucketName.Value).toEqual(ref(myId));
  });

  it('restores the cluster-mode group from the named snapshot and deletes it without a final snapshot', () => {
    const groupId = s.stack.getLogicalId(s.tbo.redis!);
    expect(s.json.Resources[groupId]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: { SnapshotName: 'automatic.tbo-redis-2026-12-01-03-15', NumNodeGroups: 2 } });
  });
});

describe('redis backup options that need no synth', () => {
  it('an imported export bucket gets a synth warning naming the grant to add', () => {
    const tbo = construct((stack) => ({ redis: { snapshotExport: { existingBucket: s3.Bucket.fromBucketName(stack, 'Imported', 'my-exports') } } }))();
    const warnings = tbo.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    const own = warnings.filter((w) => w.startsWith('redis.snapshotExport'));
    expect(own).toEqual([
      expect.stringMatching(/^redis\.snapshotExport\.existingBucket: the bucket is imported, .*allow <region>\.elasticache-snapshot\.amazonaws\.com s3:GetBucketAcl, s3:ListBucket, s3:ListBucketMultipartUploads, s3:GetObject, s3:ListMultipartUploadParts, s3:PutObject/),
    ]);
    expect(warnings).toHaveLength(2); // and the default's plain-HTTP warning
  });

  it('the example stack refuses a snapshot option with tbo.redis: false, naming both', () => {
    expect(problems(() => new TboAwsStack(new App(), 'X', { tbo: { redis: false, image: registryImage() }, redisSnapshotExport: true }))).toEqual([
      'TboAwsStack: redisSnapshotExport: received true; needs the Redis the construct creates, and tbo.redis is false; remove one of them',
    ]);
  });

  it('the example app refuses malformed context keys', () => {
    expect(problems(() => createTboAwsApp({ outdir: dirs.make(), context: { redisSnapshotExport: 'yes', traceSamplingRatio: 'half', sentryDsnSecretArn: 'tbo/sentry-dsn' } }))).toEqual([
      'TboAwsStack: context: received {"redisSnapshotExport":"yes"}; -c redisSnapshotExport=… and -c xraySidecar=… accept true or false',
      'TboAwsStack: context: received {"traceSamplingRatio":"half"}; -c traceSamplingRatio=… must be a number from 0 to 1',
      'TboAwsStack: context: received {"sentryDsnSecretArn":"tbo/sentry-dsn"}; -c sentryDsnSecretArn=… must be a complete secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)',
    ]);
  });

  it.each<[string, TboFargateServiceProps, string[]]>([
    ['both a snapshot name and RDB files', { redis: { restoreFromSnapshot: { snapshotName: 'a', snapshotArns: [SEED_ARN] } } }, [
      `redis.restoreFromSnapshot: received {"snapshotName":"a","snapshotArns":["${SEED_ARN}"]}; give exactly one of snapshotName (an ElastiCache snapshot) or snapshotArns (RDB files in S3)`,
    ]],
    ['neither', { redis: { restoreFromSnapshot: {} } }, ['redis.restoreFromSnapshot: received {}; give exactly one of snapshotName (an ElastiCache snapshot) or snapshotArns (RDB files in S3)']],
    ['a snapshot name with a space', { redis: { restoreFromSnapshot: { snapshotName: 'my snapshot' } } }, [
      'redis.restoreFromSnapshot.snapshotName: received "my snapshot"; accepted values: an ElastiCache snapshot name of letters, digits and . _ - (e.g. automatic.tbo-redis-2026-12-01-03-15)',
    ]],
    ['an RDB file given as an s3:// URL', { redis: { restoreFromSnapshot: { snapshotArns: ['s3://tbo-exports/a.rdb'] } } }, [
      'redis.restoreFromSnapshot.snapshotArns: received "s3://tbo-exports/a.rdb"; each must be the S3 ARN of an RDB file: arn:aws:s3:::bucket/key.rdb',
    ]],
    ['no RDB file', { redis: { restoreFromSnapshot: { snapshotArns: [] } } }, ['redis.restoreFromSnapshot.snapshotArns: received []; must list at least one RDB file ARN (arn:aws:s3:::bucket/key.rdb)']],
    ['RDB files for a cluster-mode group', { redis: { clusterMode: true, restoreFromSnapshot: { snapshotArns: [SEED_ARN] } } }, [
      `redis.restoreFromSnapshot.snapshotArns: received ["${SEED_ARN}"]; cannot seed a cluster-mode group (each shard needs its slot range); restore a cluster-mode snapshot with snapshotName, or seed a group without redis.clusterMode`,
    ]],
    ['a removal policy that is not one', { redis: { removalPolicy: 'keep' as never } }, [
      'redis.removalPolicy: received "keep"; accepted values: RemovalPolicy.SNAPSHOT (a final snapshot, the default), RemovalPolicy.DESTROY, RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE',
    ]],
    ['exports kept 0 days', { redis: { snapshotExport: { expirationDays: 0 } } }, ['redis.snapshotExport.expirationDays: received 0; must be an integer from 1 to 3650']],
    ['an expiry for your own bucket', { redis: { snapshotExport: { expirationDays: 7, existingBucket: { bucketName: 'b' } as never } } }, [
      'redis.snapshotExport.expirationDays: received 7; is unused with redis.snapshotExport.existingBucket (the lifecycle rules of your bucket apply); remove one of them',
    ]],
    ['a snapshot option for a Redis the construct does not create', { redis: { restoreFromSnapshot: { snapshotName: 'a' } }, existingRedis: { endpoint: { host: 'r' } } }, [
      'redis.restoreFromSnapshot: received ["restoreFromSnapshot"]; these options shape a Redis the construct creates and do not apply to existingRedis; remove them',
    ]],
    ['a replica Region that is not one', { secretReplicaRegions: ['us-west'] }, ['secretReplicaRegions: received "us-west"; each must be an AWS Region name such as us-west-2 or eu-central-1']],
    ['a replica Region twice', { secretReplicaRegions: ['us-west-2', 'us-west-2'] }, ['secretReplicaRegions: received ["us-west-2"]; lists a Region more than once; list each once']],
  ])('refuses %s, naming the prop', (_name, props, expected) => {
    expect(problems(construct(props))).toEqual(expected.map((p) => `TboFargateService: ${p}`));
  });

  it('refuses the stack\'s own Region as a replica Region when the Region is known', () => {
    expect(problems(construct({ secretReplicaRegions: ['eu-west-1'] }, 'eu-west-1'))).toEqual([
      'TboFargateService: secretReplicaRegions: received "eu-west-1"; is the stack\'s own Region, where the secrets already are; list other Regions',
    ]);
  });

  it('accepts every valid form', () => {
    for (const props of [
      { redis: { snapshotExport: true, restoreFromSnapshot: { snapshotName: 'tbo-final' } } },
      { redis: { snapshotExport: { expirationDays: 3650 }, removalPolicy: RemovalPolicy.RETAIN, restoreFromSnapshot: { snapshotArns: [SEED_ARN, 'arn:aws-cn:s3:::b.c/d/e.rdb'] } } },
      { redis: { snapshotExport: false }, secretReplicaRegions: ['us-gov-west-1', 'ap-southeast-7', 'eusc-de-east-1', Token.asString({ Ref: 'R' })] },
    ] satisfies TboFargateServiceProps[]) {
      expect(construct(props)).not.toThrow();
    }
  });
});
