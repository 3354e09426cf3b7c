import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { PropValidator, type RedisEndpoint } from '../core';
import { AWS_DEFAULTS } from './defaults';
import { acknowledge } from './nag';
import type { TboExistingRedis } from './props';
import type { ResolvedRedisOptions } from './resolve-props';

/** The Redis the service uses, as the construct created or was given it. */
export interface TboRedis {
  /** Where the service connects (rendered to `REDIS_HOST`, `REDIS_PORT`, `REDIS_TLS`, `REDIS_CLUSTER`). */
  readonly endpoint: RedisEndpoint;
  /** The AUTH token, injected as `REDIS_PASSWORD`. */
  readonly authSecret?: secretsmanager.ISecret;
  /** The replication group, when the construct created it. */
  readonly replicationGroup?: elasticache.CfnReplicationGroup;
  /** The Redis security group, when the construct created it. */
  readonly securityGroup?: ec2.SecurityGroup;
  /** Lets the service's tasks reach the Redis port. */
  allowFrom(peer: ec2.IConnectable): void;
}

/** The default parameter group of a Redis major version in cluster mode. */
function clusterParameterGroup(engineVersion: string): string {
  const major = engineVersion.split('.')[0];
  return major === '6' ? 'default.redis6.x.cluster.on' : `default.redis${major}.cluster.on`;
}

/**
 * An ElastiCache Redis replication group for the shared cache: a primary and replicas in other AZs
 * with automatic failover, encrypted at rest and in transit, AUTH token generated in Secrets
 * Manager, daily snapshots and a final one when it is deleted or replaced (`removalPolicy`),
 * optionally seeded from a snapshot, and a security group that admits only what `allowFrom` names.
 */
export function createRedis(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, options: ResolvedRedisOptions): TboRedis {
  const port = AWS_DEFAULTS.redis.port;
  const azs = vpc.selectSubnets(subnets).availabilityZones;
  if (!azs.some((az) => Token.isUnresolved(az))) {
    new PropValidator()
      .check(new Set(azs).size >= 2, 'taskSubnets', azs, 'the Redis primary and its replicas need subnets in at least 2 availability zones (or pass existingRedis, or redis: false)')
      .throwIfInvalid('TboFargateService');
  }
  const securityGroup = new ec2.SecurityGroup(scope, 'RedisSecurityGroup', {
    vpc,
    description: 'TBO Redis: reachable only from the TBO service tasks',
    allowAllOutbound: false,
  });
  const subnetGroup = new elasticache.CfnSubnetGroup(scope, 'RedisSubnetGroup', {
    description: 'TBO Redis subnets',
    subnetIds: vpc.selectSubnets(subnets).subnetIds,
  });
  const authSecret = new secretsmanager.Secret(scope, 'RedisAuthToken', {
    description: 'AUTH token of the TBO Redis replication group (generated), injected into the service as REDIS_PASSWORD.',
    generateSecretString: { passwordLength: AWS_DEFAULTS.generatedSecretLength, excludePunctuation: true },
  });
  acknowledge(
    authSecret,
    'AwsSolutions-SMG4',
    'An ElastiCache AUTH token changes only through ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE, then SET) and there is no ' +
      'managed Secrets Manager rotation function for it; tasks also read it only at start. It is rotated as a planned change.',
  );
  const shape = options.clusterMode
    ? { numNodeGroups: options.shards, replicasPerNodeGroup: options.replicasPerShard, cacheParameterGroupName: clusterParameterGroup(options.engineVersion) }
    : { numCacheClusters: 1 + options.replicasPerShard };
  const replicationGroup = new elasticache.CfnReplicationGroup(scope, 'Redis', {
    replicationGroupDescription: 'TBO gateway shared response cache',
    engine: 'redis',
    engineVersion: options.engineVersion,
    cacheNodeType: options.nodeType,
    port,
    ...shape,
    cacheSubnetGroupName: subnetGroup.ref,
    securityGroupIds: [securityGroup.securityGroupId],
    automaticFailoverEnabled: true,
    multiAzEnabled: true,
    atRestEncryptionEnabled: true,
    transitEncryptionEnabled: true,
    authToken: authSecret.secretValue.unsafeUnwrap(),
    snapshotRetentionLimit: options.snapshotRetentionDays,
    autoMinorVersionUpgrade: true,
    // Only read when the group is created: a change replaces the group (see restoreFromSnapshot).
    snapshotName: options.restoreFromSnapshot?.snapshotName,
    snapshotArns: options.restoreFromSnapshot?.snapshotArns ? [...options.restoreFromSnapshot.snapshotArns] : undefined,
  });
  // SNAPSHOT: CloudFormation takes a final snapshot before it deletes or replaces the group.
  replicationGroup.applyRemovalPolicy(options.removalPolicy);
  acknowledge(
    replicationGroup,
    'AwsSolutions-AEC5',
    'Redis keeps its standard port 6379: only the service tasks security group can reach it, inside private subnets, over TLS with an AUTH ' +
      'token; a different port number would add no protection there and would surprise operators and tools.',
  );
  const endpoint: RedisEndpoint = options.clusterMode
    ? { host: replicationGroup.attrConfigurationEndPointAddress, port: replicationGroup.attrConfigurationEndPointPort, tls: true, cluster: true }
    : { host: replicationGroup.attrPrimaryEndPointAddress, port: replicationGroup.attrPrimaryEndPointPort, tls: true, cluster: false };
  return {
    endpoint,
    authSecret,
    replicationGroup,
    securityGroup,
    allowFrom: (peer) => securityGroup.connections.allowFrom(peer, ec2.Port.tcp(port), 'TBO service tasks to Redis'),
  };
}

/** A Redis the user runs: the service connects to it, and its security group (when given) admits the tasks. */
export function useExistingRedis(existing: TboExistingRedis): TboRedis {
  const port = existing.endpoint.port ?? AWS_DEFAULTS.redis.port;
  return {
    endpoint: existing.endpoint,
    authSecret: existing.authSecret,
    allowFrom: (peer) => {
      const tcp = ec2.Port.tcp(typeof port === 'number' ? port : Token.asNumber(port));
      if (existing.securityGroup) existing.securityGroup.connections.allowFrom(peer, tcp, 'TBO service tasks to Redis');
      else peer.connections.allowToAnyIpv4(tcp, 'TBO service tasks to Redis (existingRedis has no security group given)');
    },
  };
}
