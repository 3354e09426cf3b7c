import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Names } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import {
  ADMIN_PORT,
  DEPLOYED_JWT_CLAIMS,
  PROBE_PATHS,
  redisKeyPrefixFor,
  renderEnvironment,
  resolveServiceConfig,
  SECRET_ENV,
  SERVICE_BUILD_EXCLUDES,
  SERVICE_PORT,
  SETTINGS,
  TBO_ALERT_RULES,
} from '../../lib/core';
import { AWS_DEFAULTS, AWS_LIMITS, SIGNAL_METRICS } from '../../lib/aws';
import { EMF_METRICS } from '../../service/src/observability/emf';
import { cfnLint } from './support/cfn-lint';
import { containerOf, envOf, onlyResource, resourcesOfType, secretsOf, synthTbo, TempDirs, type Synthesized } from './support/synth';

const dirs = new TempDirs();
let s: Synthesized;
const drain = resolveServiceConfig().drainTimeout;

beforeAll(() => {
  s = synthTbo(dirs); // every default, the bundled service folder as the image
}, 120_000);
afterAll(() => dirs.cleanup());

const ref = (id: string) => ({ Ref: id });
const idOf = (type: string) => onlyResource(s.json, type).id;

describe('TboFargateService defaults: network and cluster', () => {
  it('creates a VPC over 2 AZs with public and private subnets, a NAT gateway per AZ and flow logs', () => {
    s.template.resourceCountIs('AWS::EC2::VPC', 1);
    s.template.resourceCountIs('AWS::EC2::Subnet', 4);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 2);
    for (const az of [0, 1]) {
      s.template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: { 'Fn::Select': [az, { 'Fn::GetAZs': '' }] }, MapPublicIpOnLaunch: false });
    }
    s.template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    expect(s.tbo.vpc.availabilityZones).toHaveLength(2);
  });

  it('creates a cluster with Container Insights', () => {
    s.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });
});

describe('TboFargateService defaults: task', () => {
  it('is the guide\'s Fargate task: 512 CPU, 1024 MiB, public and admin ports from the contract', () => {
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: String(AWS_DEFAULTS.cpu),
      Memory: String(AWS_DEFAULTS.memoryLimitMiB),
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
    });
    expect(AWS_DEFAULTS.cpu).toBe(512);
    expect(AWS_DEFAULTS.memoryLimitMiB).toBe(1024);
    expect(containerOf(s.json)).toMatchObject({
      Name: 'tbo',
      Essential: true,
      PortMappings: [
        { ContainerPort: SERVICE_PORT, Protocol: 'tcp', Name: 'http' },
        { ContainerPort: ADMIN_PORT, Protocol: 'tcp', Name: 'admin' },
      ],
    });
    expect(ADMIN_PORT).toBe(9464);
  });

  it('runs non-root with a read-only root filesystem and a writable /tmp volume', () => {
    const c = containerOf(s.json);
    expect(c).toMatchObject({ ReadonlyRootFilesystem: true, User: '1000:1000', MountPoints: [{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }] });
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', { Volumes: [{ Name: 'tmp' }] });
  });

  it('checks liveness on the contract\'s path and stops just after the drain timeout, which it renders', () => {
    const c = containerOf(s.json) as unknown as { HealthCheck: { Command: string[]; Interval: number }; StopTimeout: number };
    expect(c.HealthCheck.Command[0]).toBe('CMD');
    expect(c.HealthCheck.Command.join(' ')).toContain(`port:${SERVICE_PORT},path:'${PROBE_PATHS.liveness}'`);
    expect(c.HealthCheck.Interval).toBe(resolveServiceConfig().healthCheckInterval);
    expect(c.StopTimeout).toBeGreaterThan(drain);
    expect(c.StopTimeout).toBe(Math.ceil(drain) + AWS_DEFAULTS.stopMarginSeconds);
    expect(envOf(s.json)[SETTINGS.drainTimeout.env]).toBe(String(drain));
  });

  it('logs to /ecs/<serviceName>/<stack id> (30 days, retained) with stream prefix ecs', () => {
    const logGroup = s.json.Resources[s.stack.getLogicalId(s.tbo.logGroup.node.defaultChild as never)] as Record<string, unknown>;
    expect(logGroup).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { RetentionInDays: 30 } });
    // a fresh name with every stack creation: a redeploy after destroy does not trip over the retained group
    const stackUuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
    expect((logGroup.Properties as Record<string, unknown>).LogGroupName).toEqual({ 'Fn::Join': ['', [`/ecs/${s.tbo.serviceName}/`, { 'Fn::Select': [0, { 'Fn::Split': ['-', stackUuid] }] }]] });
    expect(containerOf(s.json).LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': ref(s.stack.getLogicalId(s.tbo.logGroup.node.defaultChild as never)), 'awslogs-stream-prefix': 'ecs', 'awslogs-region': { Ref: 'AWS::Region' } },
    });
  });

  it('renders the environment through the shared contract, with EMF on, Redis over TLS and this instance\'s key prefix', () => {
    const redis = s.tbo.redis!;
    const expected = {
      // Idle connections outlive the ALB's (idle timeout 600 s + 5 s): no 502 on a reused connection.
      ...renderEnvironment({ keepAliveTimeout: 605, serviceName: s.tbo.serviceName }, { host: 'HOST', port: 'PORT', tls: true, cluster: false }, { redisKeyPrefix: s.tbo.redisKeyPrefix, memoryBytes: 1024 * 1024 ** 2 }),
      [SETTINGS.metricsEmf.env]: 'true',
      [SETTINGS.host.env]: '0.0.0.0',
      [SETTINGS.port.env]: String(SERVICE_PORT),
    };
    const env = envOf(s.json);
    expect(Object.keys(env).sort()).toEqual(Object.keys(expected).sort());
    const redisId = s.stack.getLogicalId(redis);
    expect(env).toEqual({
      ...expected,
      [SETTINGS.redisHost.env]: { 'Fn::GetAtt': [redisId, 'PrimaryEndPoint.Address'] },
      [SETTINGS.redisPort.env]: { 'Fn::GetAtt': [redisId, 'PrimaryEndPoint.Port'] },
    });
    expect(env).toMatchObject({ TBO_METRICS_EMF: 'true', REDIS_TLS: 'true', REDIS_CLUSTER: 'false' });
    for (const name of Object.values(SECRET_ENV)) expect(env).not.toHaveProperty(name);
    expect(Object.keys(env).filter((k) => k.startsWith('OTEL_'))).toEqual([]); // no tracing
    expect(env).not.toHaveProperty(SETTINGS.prometheusGateway.env);
  });

  it('names the deployment after its construct path: TBO_SERVICE_NAME (the EMF Service dimension) is unique per instance, not the service\'s shared default', () => {
    expect(s.tbo.serviceName).toBe(Names.uniqueResourceName(s.tbo, { maxLength: 64, separator: '-' }));
    expect(s.tbo.serviceName).toMatch(/^TestStack-Tbo-[0-9A-F]{8}$/);
    expect(envOf(s.json)[SETTINGS.serviceName.env]).toBe(s.tbo.serviceName);
    expect(s.tbo.serviceName).not.toBe(resolveServiceConfig().serviceName); // 'tbo'
  });

  it('runs the admin listener on 9464, requires the deployed JWT issuer and audience, and prefixes Redis keys per instance', () => {
    expect(envOf(s.json)).toMatchObject({
      [SETTINGS.adminPort.env]: String(ADMIN_PORT),
      [SETTINGS.jwtIssuer.env]: DEPLOYED_JWT_CLAIMS.jwtIssuer,
      [SETTINGS.jwtAudience.env]: DEPLOYED_JWT_CLAIMS.jwtAudience,
      [SETTINGS.redisKeyPrefix.env]: redisKeyPrefixFor(s.tbo.node.addr),
    });
    expect(DEPLOYED_JWT_CLAIMS).toEqual({ jwtIssuer: 'tbo', jwtAudience: 'tbo' });
    expect(s.tbo.redisKeyPrefix).toMatch(/^tbo-[0-9a-f]{12}$/);
    expect(s.tbo.redisKeyPrefix).not.toBe(resolveServiceConfig().redisKeyPrefix); // not the service's shared default, 'tbo'
  });

  it('injects every credential from Secrets Manager, by reference', () => {
    expect(secretsOf(s.json)).toEqual({
      [SECRET_ENV.anthropicApiKey]: ref(idOfSecret('AnthropicApiKey')),
      [SECRET_ENV.openaiApiKey]: ref(idOfSecret('OpenAiApiKey')),
      [SECRET_ENV.jwtSecretKey]: ref(idOfSecret('JwtSecret')),
      [SECRET_ENV.redisPassword]: ref(idOfSecret('RedisAuthToken')),
      [SECRET_ENV.cacheSigningKey]: ref(idOfSecret('CacheSigningKey')),
    });
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.adminKeys); // only with existingAdminKeysSecret
  });

  it('lets only the execution role read exactly those secrets; the task role has no permissions', () => {
    const policies = resourcesOfType(s.json, 'AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => (p.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    const secretReads = statements.filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secretReads.map((st) => st.Resource)).toEqual(
      expect.arrayContaining(['AnthropicApiKey', 'OpenAiApiKey', 'JwtSecret', 'RedisAuthToken', 'CacheSigningKey'].map((id) => ref(idOfSecret(id)))),
    );
    expect(secretReads).toHaveLength(5);
    const execRoleId = s.stack.getLogicalId(s.tbo.taskDefinition.executionRole!.node.defaultChild as never);
    for (const [, p] of Object.entries(policies)) {
      const doc = JSON.stringify(p.Properties!.PolicyDocument);
      if (doc.includes('secretsmanager:')) expect(p.Properties!.Roles).toEqual([ref(execRoleId)]);
    }
    const taskRoleId = s.stack.getLogicalId(s.tbo.taskDefinition.taskRole.node.defaultChild as never);
    for (const p of Object.values(policies)) expect(p.Properties!.Roles).not.toContainEqual(ref(taskRoleId));
  });

  it('runs Linux X86_64 tasks', () => {
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' } });
    expect(s.tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.X86_64);
    expect(AWS_DEFAULTS.cpuArchitecture).toBe('X86_64');
  });

  it('builds the bundled service folder for linux/amd64 as a Docker image asset without node_modules or build output', () => {
    const assets = JSON.parse(readFileSync(s.templateFile.replace('.template.json', '.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; platform?: string } }> };
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0].source.platform).toBe('linux/amd64');
    const staged = join(s.templateFile, '..', images[0].source.directory);
    const files = readdirSync(staged);
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', 'package.json', 'src']));
    for (const excluded of SERVICE_BUILD_EXCLUDES.filter((e) => !e.includes('*'))) expect(files).not.toContain(excluded);
  });
});

describe('TboFargateService defaults: secrets', () => {
  it('creates the provider key secrets for the user to fill, a generated JWT key and cache signing key; no value is in the template', () => {
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 5);
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('ANTHROPIC_API_KEY'),
      GenerateSecretString: {},
    });
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('JWT_SECRET_KEY'),
      GenerateSecretString: { PasswordLength: AWS_DEFAULTS.generatedSecretLength, ExcludePunctuation: true },
    });
    expect(s.json.Resources[idOfSecret('CacheSigningKey')].Properties).toMatchObject({
      Description: expect.stringContaining(SECRET_ENV.cacheSigningKey),
      GenerateSecretString: { PasswordLength: AWS_DEFAULTS.generatedSecretLength, ExcludePunctuation: true },
    });
    for (const secret of Object.values(resourcesOfType(s.json, 'AWS::SecretsManager::Secret'))) expect(secret.Properties).not.toHaveProperty('SecretString');
    expect(AWS_DEFAULTS.generatedSecretLength).toBeGreaterThanOrEqual(32); // the service's HS256 minimum
  });
});

describe('TboFargateService defaults: Redis', () => {
  it('is a replication group of a primary and a replica across AZs with automatic failover', () => {
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis',
      CacheNodeType: AWS_DEFAULTS.redis.nodeType,
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      CacheSubnetGroupName: ref(idOf('AWS::ElastiCache::SubnetGroup')),
    });
    s.template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: [ref(s.stack.getLogicalId(s.tbo.vpc.privateSubnets[0].node.defaultChild as never)), ref(s.stack.getLogicalId(s.tbo.vpc.privateSubnets[1].node.defaultChild as never))],
    });
  });

  it('encrypts at rest and in transit, requires the generated AUTH token, and keeps 7 days of snapshots', () => {
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', ref(idOfSecret('RedisAuthToken')), ':SecretString:::}}']] },
      SnapshotRetentionLimit: 7,
    });
  });

  it('takes a final snapshot when the group is deleted or replaced, starts empty, and exports nothing', () => {
    const group = s.json.Resources[idOf('AWS::ElastiCache::ReplicationGroup')] as Record<string, unknown> & { Properties: Record<string, unknown> };
    expect(group).toMatchObject({ DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    expect(group.Properties).not.toHaveProperty('SnapshotName');
    expect(group.Properties).not.toHaveProperty('SnapshotArns');
    s.template.resourceCountIs('AWS::S3::Bucket', 1); // the access logs only
    expect(s.tbo.redisBackupBucket).toBeUndefined();
    for (const secret of Object.values(resourcesOfType(s.json, 'AWS::SecretsManager::Secret'))) expect(secret.Properties).not.toHaveProperty('ReplicaRegions');
  });

  it('has its own security group that only the service tasks reach, on the Redis port', () => {
    const redisSg = s.stack.getLogicalId(s.tbo.redisSecurityGroup!.node.defaultChild as never);
    const serviceSg = s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never);
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { SecurityGroupIds: [{ 'Fn::GetAtt': [redisSg, 'GroupId'] }] });
    const ingress = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress')).filter((r) => JSON.stringify(r.Properties!.GroupId).includes(redisSg));
    expect(ingress.map((r) => r.Properties)).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: { 'Fn::GetAtt': [serviceSg, 'GroupId'] } }),
    ]);
    const sg = s.json.Resources[redisSg].Properties!;
    expect(sg).not.toHaveProperty('SecurityGroupIngress');
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]); // CDK's "no egress" rule
  });
});

describe('TboFargateService defaults: load balancer', () => {
  it('is internal over HTTP (no certificate: nothing in plain text on the internet) and warns at synth', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Type: 'application',
      Subnets: s.tbo.vpc.privateSubnets.map((sn) => ref(s.stack.getLogicalId(sn.node.defaultChild as never))),
    });
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(idOf('AWS::ElasticLoadBalancingV2::TargetGroup')) }],
    });
    expect(s.warnings).toEqual([expect.stringMatching(/^\/TestStack\/Tbo: .*serves plain HTTP on an internal load balancer.*certificate, or domainName and hostedZone/)]);
    expect(s.tbo.url).toMatch(/^http:\/\//);
  });

  it('admits only the VPC on port 80, and reaches the tasks only on the service port', () => {
    const lbSg = s.stack.getLogicalId(s.tbo.loadBalancerSecurityGroup.node.defaultChild as never);
    const vpcCidr = { 'Fn::GetAtt': [s.stack.getLogicalId(s.tbo.vpc.node.defaultChild as never), 'CidrBlock'] };
    expect(s.json.Resources[lbSg].Properties!.SecurityGroupIngress).toEqual([expect.objectContaining({ CidrIp: vpcCidr, FromPort: 80, ToPort: 80, IpProtocol: 'tcp' })]);
    const serviceSg = s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never);
    const egress = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(egress.filter((e) => JSON.stringify(e!.GroupId).includes(lbSg))).toEqual([
      expect.objectContaining({ FromPort: SERVICE_PORT, ToPort: SERVICE_PORT, DestinationSecurityGroupId: { 'Fn::GetAtt': [serviceSg, 'GroupId'] } }),
    ]);
  });

  it('lets only the load balancer reach the tasks, on the public port: nothing reaches the admin port', () => {
    const lbSg = s.stack.getLogicalId(s.tbo.loadBalancerSecurityGroup.node.defaultChild as never);
    const serviceSg = s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never);
    expect(s.json.Resources[serviceSg].Properties).not.toHaveProperty('SecurityGroupIngress');
    const ingress = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties!);
    expect(ingress.filter((i) => JSON.stringify(i.GroupId).includes(serviceSg))).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: SERVICE_PORT, ToPort: SERVICE_PORT, SourceSecurityGroupId: { 'Fn::GetAtt': [lbSg, 'GroupId'] } }),
    ]);
    // no rule of any security group, inline or separate, names the admin port
    const rules = Object.values(s.json.Resources)
      .filter((r) => r.Type.startsWith('AWS::EC2::SecurityGroup'))
      .flatMap((r) => [r.Properties!, ...((r.Properties!.SecurityGroupIngress ?? []) as Record<string, unknown>[]), ...((r.Properties!.SecurityGroupEgress ?? []) as Record<string, unknown>[])]);
    expect(rules.filter((r) => r.FromPort !== undefined && (r.FromPort as number) <= ADMIN_PORT && (r.ToPort as number) >= ADMIN_PORT)).toEqual([]);
    // the load balancer targets and health-checks the public port only
    const tg = onlyResource(s.json, 'AWS::ElasticLoadBalancingV2::TargetGroup').props;
    expect(tg.Port).toBe(SERVICE_PORT);
    expect(tg.HealthCheckPort ?? 'traffic-port').toBe('traffic-port');
    s.template.hasResourceProperties('AWS::ECS::Service', { LoadBalancers: [Match.objectLike({ ContainerPort: SERVICE_PORT })] });
  });

  it('lets the tasks reach only HTTPS (model and AWS APIs) and the Redis security group', () => {
    const serviceSg = s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never);
    const redisSg = s.stack.getLogicalId(s.tbo.redisSecurityGroup!.node.defaultChild as never);
    expect(s.json.Resources[serviceSg].Properties!.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    const egress = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties!);
    expect(egress.filter((e) => JSON.stringify(e.GroupId).includes(serviceSg))).toEqual([
      expect.objectContaining({ FromPort: 6379, ToPort: 6379, DestinationSecurityGroupId: { 'Fn::GetAtt': [redisSg, 'GroupId'] } }),
    ]);
  });

  it('health-checks the readiness path and keeps a deregistering task for the upstream timeout (streams finish on deploy and scale-in)', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: SERVICE_PORT,
      TargetType: 'ip',
      HealthCheckPath: PROBE_PATHS.readiness,
      HealthCheckIntervalSeconds: resolveServiceConfig().healthCheckInterval,
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: String(resolveServiceConfig().upstreamTimeout) }]),
    });
    expect(resolveServiceConfig().upstreamTimeout).toBe(600);
  });

  it('orders a task\'s stop so responses in flight finish: no new request from deregistration, SIGTERM after the delay, the drain ends before SIGKILL', () => {
    const delay = Number((onlyResource(s.json, 'AWS::ElasticLoadBalancingV2::TargetGroup').props.TargetGroupAttributes as { Key: string; Value: string }[])
      .find((a) => a.Key === 'deregistration_delay.timeout_seconds')!.Value);
    const stopTimeout = (containerOf(s.json) as unknown as { StopTimeout: number }).StopTimeout;
    const drainTimeout = Number(envOf(s.json)[SETTINGS.drainTimeout.env]);
    const maxStreamDuration = resolveServiceConfig().upstreamTimeout; // the default
    expect(delay).toBeGreaterThanOrEqual(maxStreamDuration); // a response begun before deregistration has this long
    expect(delay).toBeLessThanOrEqual(AWS_LIMITS.deregistrationDelay.max); // the load balancer's limit
    expect(drainTimeout).toBeLessThanOrEqual(stopTimeout - AWS_DEFAULTS.stopMarginSeconds); // the service is done before SIGKILL
    expect(stopTimeout).toBeLessThanOrEqual(AWS_LIMITS.maxStopTimeout); // Fargate's cap
    expect([delay, stopTimeout, drainTimeout]).toEqual([600, 30, 25]);
  });

  it('keeps idle connections for the service\'s upstream timeout, drops invalid headers and writes access logs', () => {
    const bucket = idOf('AWS::S3::Bucket');
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: String(resolveServiceConfig().upstreamTimeout) },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: ref(bucket) },
      ]),
    });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Action: 's3:PutObject', Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' } }),
          Match.objectLike({ Action: 's3:PutObject', Principal: { AWS: { 'Fn::If': Match.anyValue() } } }),
        ]),
      },
    });
    expect(s.json.Mappings).toHaveProperty('Elbv2AccountMap');
  });
});

describe('TboFargateService defaults: service, scaling, alarms, dashboard, outputs', () => {
  it('leaves the task count to autoscaling (no DesiredCount: deploys keep it), in private subnets with circuit-breaker rollback, 100 % / 200 %', () => {
    expect(onlyResource(s.json, 'AWS::ECS::Service').props).not.toHaveProperty('DesiredCount');
    s.template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 },
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED', Subnets: s.tbo.vpc.privateSubnets.map((sn) => ref(s.stack.getLogicalId(sn.node.defaultChild as never))) } },
      LoadBalancers: [{ ContainerName: 'tbo', ContainerPort: SERVICE_PORT, TargetGroupArn: ref(idOf('AWS::ElasticLoadBalancingV2::TargetGroup')) }],
    });
  });

  it('scales 2 to 20 tasks on TBO\'s signals: CPU 70 %, requests per target, and queue length per task above 50 (out only)', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 20 });
    const policies = Object.values(resourcesOfType(s.json, 'AWS::ApplicationAutoScaling::ScalingPolicy')).map((p) => p.Properties!);
    expect(policies.map((p) => p.PolicyType)).toEqual(['TargetTrackingScaling', 'TargetTrackingScaling', 'TargetTrackingScaling']);
    expect(policies.map((p) => p.TargetTrackingScalingPolicyConfiguration)).toEqual([
      { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 70 },
      { PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: expect.anything() }, TargetValue: AWS_DEFAULTS.requestsPerTarget },
      {
        CustomizedMetricSpecification: { Namespace: 'TBO', MetricName: 'QueueLength', Dimensions: [{ Name: 'Service', Value: s.tbo.serviceName }], Statistic: 'Average' },
        TargetValue: 50,
        DisableScaleIn: true,
        ScaleOutCooldown: 60,
      },
    ]);
    // the load balancer's response time (mostly the model's generation time) drives nothing
    expect(JSON.stringify(resourcesOfType(s.json, 'AWS::CloudWatch::Alarm'))).not.toContain('TargetResponseTime');
  });

  it('alarms when TBO\'s own time per request (p95 of EMF Overhead) passes 50 ms for 5 minutes: the guide\'s latency signal, without the model', () => {
    const props = s.json.Resources[s.stack.getLogicalId(s.tbo.overheadAlarm.node.defaultChild as never)].Properties!;
    expect(props).toMatchObject({
      AlarmName: `${s.tbo.serviceName}-TBOHighOverhead`,
      Namespace: 'TBO',
      MetricName: 'Overhead',
      Dimensions: [{ Name: 'Service', Value: s.tbo.serviceName }],
      ExtendedStatistic: 'p95',
      Threshold: 0.05,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  it('renders the guide\'s four alert rules from lib/core on the service\'s EMF metrics', () => {
    expect(s.tbo.alarms).toHaveLength(TBO_ALERT_RULES.length);
    for (const rule of TBO_ALERT_RULES) {
      const { metricName, statistic } = SIGNAL_METRICS[rule.signal];
      const props = s.json.Resources[s.stack.getLogicalId(s.tbo.node.findChild(rule.name).node.defaultChild as never)].Properties!;
      expect(props).toMatchObject({
        AlarmName: `${s.tbo.serviceName}-${rule.name}`,
        Namespace: 'TBO',
        MetricName: metricName,
        Dimensions: [{ Name: 'Service', Value: s.tbo.serviceName }],
        Threshold: rule.threshold,
        ComparisonOperator: rule.comparison === 'above' ? 'GreaterThanThreshold' : 'LessThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(props[statistic.startsWith('p') ? 'ExtendedStatistic' : 'Statistic']).toBe(statistic);
      expect((props.Period as number) * (props.EvaluationPeriods as number)).toBe(rule.forSeconds);
      expect(props.DatapointsToAlarm).toBe(props.EvaluationPeriods);
      expect(props).not.toHaveProperty('AlarmActions');
    }
    expect(Object.values(SIGNAL_METRICS).map((m) => m.metricName).every((n) => (Object.values(EMF_METRICS) as string[]).includes(n))).toBe(true);
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('has a dashboard with latency, requests, cache hit rate and bandwidth efficiency', () => {
    const body = JSON.stringify(onlyResource(s.json, 'AWS::CloudWatch::Dashboard').props.DashboardBody);
    for (const name of [EMF_METRICS.requestLatency, EMF_METRICS.requests, EMF_METRICS.cacheHitRate, EMF_METRICS.bandwidthEfficiency, 'TargetResponseTime', 'QueueLength', 'Overhead', 'RequestCountPerTarget']) {
      expect(body).toContain(name);
    }
  });

  it('outputs the URL, the exact commands that fill the provider keys and restart, the JWT secret, and the names the runbook reads', () => {
    const outputs = Object.fromEntries(Object.entries(s.json.Outputs ?? {}).map(([k, o]) => [k.replace(/^Tbo|[0-9A-F]{8}$/g, ''), JSON.stringify(o.Value)]));
    expect(Object.keys(outputs).sort()).toEqual([
      'AnthropicApiKeyFillCommand',
      'ClusterName',
      'DashboardUrl',
      'EcsServiceName',
      'JwtSecretArn',
      'OpenAiApiKeyFillCommand',
      'RedisReplicationGroupId',
      'RestartServiceCommand',
      'ServiceUrl',
    ]);
    expect(JSON.parse(outputs.ClusterName)).toEqual(ref(idOf('AWS::ECS::Cluster')));
    expect(JSON.parse(outputs.EcsServiceName)).toEqual({ 'Fn::GetAtt': [idOf('AWS::ECS::Service'), 'Name'] });
    expect(JSON.parse(outputs.RedisReplicationGroupId)).toEqual(ref(idOf('AWS::ElastiCache::ReplicationGroup')));
    expect(outputs.ServiceUrl).toContain('http://');
    for (const [id, env] of [['AnthropicApiKey', 'ANTHROPIC_API_KEY'], ['OpenAiApiKey', 'OPENAI_API_KEY']]) {
      expect(outputs[`${id}FillCommand`]).toContain('aws secretsmanager put-secret-value --region ');
      expect(outputs[`${id}FillCommand`]).toContain(`--secret-id ",{"Ref":"${idOfSecret(id)}"}`);
      expect(outputs[`${id}FillCommand`]).toContain(`--secret-string \\"$${env}\\"`);
    }
    expect(outputs.RestartServiceCommand).toContain('--force-new-deployment');
    const [jwtOutput] = Object.entries(s.template.findOutputs('*')).filter(([k]) => k.startsWith('TboJwtSecretArn'));
    expect(jwtOutput[1].Description).toContain('claims: exp, iat, tenant; iss tbo, aud tbo');
  });
});

describe('TboFargateService defaults: public surface', () => {
  it('exposes every child as a typed field', () => {
    const t = s.tbo;
    for (const child of [t.vpc, t.cluster, t.service, t.taskDefinition, t.container, t.loadBalancer, t.listener, t.httpListener, t.targetGroup, t.redis, t.redisSecurityGroup,
      t.redisAuthSecret, t.anthropicApiKeySecret, t.openAiApiKeySecret, t.jwtSecret, t.logGroup, t.dashboard, t.scaling, t.accessLogsBucket, t.serviceSecurityGroup, t.loadBalancerSecurityGroup]) {
      expect(child).toBeDefined();
    }
    expect(t.cacheSigningKeySecret).toBe(t.node.findChild('CacheSigningKey'));
    expect(t.apiKeysSecret).toBeUndefined();
    expect(t.adminKeysSecret).toBeUndefined();
    expect(t.sentryDsnSecret).toBeUndefined();
    expect(t.collectorContainer).toBeUndefined();
    expect(t.xrayPolicy).toBeUndefined();
    expect(t.certificate).toBeUndefined();
    expect(t.alarmTopic).toBeUndefined();
    expect(t.serviceConfig).toEqual({ ...resolveServiceConfig(), ...DEPLOYED_JWT_CLAIMS, redisKeyPrefix: t.redisKeyPrefix, serviceName: t.serviceName });
    expect(t.overheadAlarm).toBeDefined();
    expect(t.redisEndpoint).toMatchObject({ tls: true, cluster: false });
  });

  it('offers metric helpers on the service\'s EMF metrics and the load balancer', () => {
    const t = s.tbo;
    const emf = (m: { namespace: string; metricName: string; dimensions?: Record<string, unknown>; statistic: string }) => [m.namespace, m.metricName, m.dimensions, m.statistic];
    const own = { Service: t.serviceName };
    expect(emf(t.metricLatency())).toEqual(['TBO', EMF_METRICS.requestLatency, own, 'p95']);
    expect(emf(t.metricRequests())).toEqual(['TBO', EMF_METRICS.requests, own, 'Sum']);
    expect(emf(t.metricCacheHitRate())).toEqual(['TBO', EMF_METRICS.cacheHitRate, own, 'Average']);
    expect(emf(t.metricBandwidthEfficiency())).toEqual(['TBO', EMF_METRICS.bandwidthEfficiency, own, 'Average']);
    expect(emf(t.metricCircuitBreakerActive())).toEqual(['TBO', EMF_METRICS.circuitBreakerActive, own, 'Maximum']);
    expect(emf(t.metricActiveSessions())).toEqual(['TBO', EMF_METRICS.activeSessions, own, 'Sum']);
    expect(emf(t.metricQueueLength())).toEqual(['TBO', 'QueueLength', own, 'Average']);
    expect(emf(t.metricOverhead())).toEqual(['TBO', 'Overhead', own, 'p95']);
    expect(t.metricLatency({ statistic: 'p99' }).statistic).toBe('p99');
    expect(t.metricTargetResponseTime()).toMatchObject({ namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', statistic: 'p95' });
  });

  it('keeps its logical ids: they are public API (renaming one replaces a resource in a user\'s account)', () => {
    const fixture = join(__dirname, 'fixtures', 'default-logical-ids.json');
    const expected = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, string>;
    const actual = Object.fromEntries(Object.entries(s.json.Resources).map(([id, r]) => [id, r.Type]));
    expect(actual).toEqual(expected);
  });

  it('synthesizes a template cfn-lint accepts with zero errors and no warnings', async () => {
    const lint = await cfnLint([s.templateFile]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
    expect(lint.statuses.every((st) => st === 0)).toBe(true);
  }, 180_000);
});

function idOfSecret(childId: string): string {
  return s.stack.getLogicalId(s.tbo.node.findChild(childId).node.defaultChild as never);
}
