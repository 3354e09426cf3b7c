import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ADMIN_PORT, redisKeyPrefixFor, SECRET_ENV, SERVICE_PORT, SETTINGS, TBO_ALERT_RULES } from '../../lib/core';
import { TboFargateService, type TboFargateServiceProps } from '../../lib/aws';
import { cfnLint } from './support/cfn-lint';
import { envOf, onlyResource, registryImage, resourcesOfType, secretsOf, synthTbo, TempDirs, type Synthesized } from './support/synth';

// Many variants: skip CDK's built-in template validation (cfn-lint below checks every template).
process.env.CDK_VALIDATION = 'false';

const dirs = new TempDirs();
const synthesized: Synthesized[] = [];
afterAll(() => dirs.cleanup());

/** A variant with a registry image (no Docker asset), kept for the cfn-lint and cdk-nag checks at the end. */
function variant(props: TboFargateServiceProps | ((stack: Stack) => TboFargateServiceProps), after?: (tbo: TboFargateService, stack: Stack) => void): Synthesized {
  const s = synthTbo(dirs, (stack) => ({ image: registryImage(), ...(typeof props === 'function' ? props(stack) : props) }), {}, after);
  synthesized.push(s);
  return s;
}

const ref = (id: string) => ({ Ref: id });
const logicalId = (s: Synthesized, c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as never);
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}-AbCdEf`;
const importSecret = (stack: Stack, name: string) => secretsmanager.Secret.fromSecretCompleteArn(stack, name, ARN(name));

describe('bring your own VPC and cluster', () => {
  it('runs in the given cluster and its VPC, creating neither', () => {
    const s = variant((stack) => {
      const vpc = new ec2.Vpc(stack, 'MyVpc', { maxAzs: 2, natGateways: 1 });
      return { existingCluster: new ecs.Cluster(stack, 'MyCluster', { vpc }) };
    });
    s.template.resourceCountIs('AWS::EC2::VPC', 1);
    s.template.resourceCountIs('AWS::ECS::Cluster', 1);
    s.template.resourceCountIs('AWS::EC2::FlowLog', 0);
    expect(s.tbo.vpc).toBe(s.stack.node.findChild('MyVpc'));
    s.template.hasResourceProperties('AWS::ECS::Service', { Cluster: ref(logicalId(s, s.stack.node.findChild('MyCluster'))) });
  });

  it('creates its cluster (with Container Insights) in the given VPC', () => {
    const s = variant((stack) => ({ existingVpc: new ec2.Vpc(stack, 'MyVpc', { maxAzs: 2, natGateways: 1 }) }));
    s.template.resourceCountIs('AWS::EC2::VPC', 1);
    s.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { VpcId: ref(logicalId(s, s.stack.node.findChild('MyVpc'))) });
    s.template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: s.tbo.vpc.privateSubnets.map((sn) => ref(logicalId(s, sn))) });
  });

  it('places tasks and Redis in taskSubnets', () => {
    const s = variant((stack) => ({
      existingVpc: new ec2.Vpc(stack, 'MyVpc', { maxAzs: 2, subnetConfiguration: [{ name: 'Pub', subnetType: ec2.SubnetType.PUBLIC }, { name: 'Iso', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] }),
      taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    }));
    const isolated = s.tbo.vpc.isolatedSubnets.map((sn) => ref(logicalId(s, sn)));
    s.template.hasResourceProperties('AWS::ECS::Service', { NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ Subnets: isolated }) } });
    s.template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: isolated });
  });
});

describe('bring your own secrets', () => {
  it('injects the given secrets and creates none of its own but the Redis AUTH token', () => {
    const s = variant((stack) => ({
      existingAnthropicApiKeySecret: importSecret(stack, 'anthropic'),
      existingOpenAiApiKeySecret: importSecret(stack, 'openai'),
      existingJwtSecret: importSecret(stack, 'jwt'),
      existingApiKeysSecret: importSecret(stack, 'client-keys'),
      existingAdminKeysSecret: importSecret(stack, 'admin-keys'),
      existingCacheSigningKeySecret: importSecret(stack, 'cache-signing'),
    }));
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(secretsOf(s.json)).toEqual({
      [SECRET_ENV.anthropicApiKey]: ARN('anthropic'),
      [SECRET_ENV.openaiApiKey]: ARN('openai'),
      [SECRET_ENV.jwtSecretKey]: ARN('jwt'),
      [SECRET_ENV.apiKeys]: ARN('client-keys'),
      [SECRET_ENV.adminKeys]: ARN('admin-keys'),
      [SECRET_ENV.cacheSigningKey]: ARN('cache-signing'),
      [SECRET_ENV.redisPassword]: ref(logicalId(s, s.tbo.redisAuthSecret!)),
    });
    expect(Object.keys(s.json.Outputs ?? {}).filter((k) => k.includes('FillCommand'))).toEqual([]);
    expect(s.tbo.apiKeysSecret).toBeDefined();
    expect(s.tbo.adminKeysSecret!.secretArn).toBe(ARN('admin-keys'));
    expect(s.tbo.cacheSigningKeySecret!.secretArn).toBe(ARN('cache-signing'));
    // the execution role may read the admin keys and the signing key, by their ARNs
    const reads = JSON.stringify(Object.values(resourcesOfType(s.json, 'AWS::IAM::Policy')).map((p) => p.Properties!.PolicyDocument));
    for (const name of ['admin-keys', 'cache-signing']) expect(reads).toContain(ARN(name));
  });

  it('drops OPENAI_API_KEY with openAi: false', () => {
    const s = variant({ openAi: false });
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.openaiApiKey);
    expect(s.tbo.openAiApiKeySecret).toBeUndefined();
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 4); // Anthropic key, JWT key, cache signing key, Redis AUTH token
  });
});

describe('Redis options', () => {
  it('cluster mode: shards with replicas, the cluster parameter group, REDIS_CLUSTER=true at the configuration endpoint', () => {
    const s = variant({ redis: { clusterMode: true, nodeType: 'cache.r7g.large', replicasPerShard: 2 } });
    const rg = onlyResource(s.json, 'AWS::ElastiCache::ReplicationGroup');
    expect(rg.props).toMatchObject({ NumNodeGroups: 2, ReplicasPerNodeGroup: 2, CacheParameterGroupName: 'default.redis7.cluster.on', CacheNodeType: 'cache.r7g.large', MultiAZEnabled: true, AutomaticFailoverEnabled: true });
    expect(rg.props).not.toHaveProperty('NumCacheClusters');
    expect(envOf(s.json)).toMatchObject({
      [SETTINGS.redisCluster.env]: 'true',
      [SETTINGS.redisTls.env]: 'true',
      [SETTINGS.redisHost.env]: { 'Fn::GetAtt': [rg.id, 'ConfigurationEndPoint.Address'] },
      [SETTINGS.redisPort.env]: { 'Fn::GetAtt': [rg.id, 'ConfigurationEndPoint.Port'] },
    });
  });

  it('shape options: replicas, shards, engine version, snapshot retention', () => {
    const s = variant({ redis: { clusterMode: true, shards: 3, replicasPerShard: 1, engineVersion: '6.2', snapshotRetentionDays: 0 } });
    expect(onlyResource(s.json, 'AWS::ElastiCache::ReplicationGroup').props).toMatchObject({ NumNodeGroups: 3, EngineVersion: '6.2', CacheParameterGroupName: 'default.redis6.x.cluster.on', SnapshotRetentionLimit: 0 });
  });

  it('existingRedis: no ElastiCache resources; the endpoint, its AUTH secret and an ingress rule on its security group', () => {
    const s = variant((stack) => ({
      existingRedis: {
        endpoint: { host: 'my-redis.abc123.use1.cache.amazonaws.com', port: 6380, tls: true },
        authSecret: importSecret(stack, 'redis-auth'),
        securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'RedisSg', 'sg-0123456789abcdef0'),
      },
    }));
    s.template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    s.template.resourceCountIs('AWS::ElastiCache::SubnetGroup', 0);
    expect(envOf(s.json)).toMatchObject({ REDIS_HOST: 'my-redis.abc123.use1.cache.amazonaws.com', REDIS_PORT: '6380', REDIS_TLS: 'true', REDIS_CLUSTER: 'false' });
    expect(secretsOf(s.json)[SECRET_ENV.redisPassword]).toBe(ARN('redis-auth'));
    s.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [logicalId(s, s.tbo.serviceSecurityGroup), 'GroupId'] },
      DestinationSecurityGroupId: 'sg-0123456789abcdef0',
      FromPort: 6380,
    });
    s.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      FromPort: 6380,
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(s, s.tbo.serviceSecurityGroup), 'GroupId'] },
    });
    expect(s.tbo.redis).toBeUndefined();
  });

  it('existingRedis in cluster mode runs the service with REDIS_CLUSTER=true', () => {
    const s = variant({ existingRedis: { endpoint: { host: 'clustercfg.my-redis.abc123.use1.cache.amazonaws.com', tls: true, cluster: true } }, redis: { clusterMode: true } });
    expect(envOf(s.json)).toMatchObject({ REDIS_CLUSTER: 'true', REDIS_PORT: '6379' });
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.redisPassword);
    // no security group given: the tasks may reach the Redis port anywhere (the Redis side is the user's)
    expect(s.json.Resources[logicalId(s, s.tbo.serviceSecurityGroup)].Properties!.SecurityGroupEgress).toEqual(
      expect.arrayContaining([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 6379 })]),
    );
  });

  it('redis: false runs on the in-memory cache only, with no cache signing key (nothing is stored in Redis)', () => {
    const s = variant({ redis: false });
    s.template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    s.template.resourceCountIs('AWS::EC2::SecurityGroup', 2);
    const env = envOf(s.json);
    for (const key of ['redisHost', 'redisPort', 'redisTls', 'redisCluster', 'redisUrl'] as const) expect(env).not.toHaveProperty(SETTINGS[key].env);
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.redisPassword);
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.cacheSigningKey);
    expect(s.tbo.node.tryFindChild('CacheSigningKey')).toBeUndefined();
    expect(s.tbo.cacheSigningKeySecret).toBeUndefined();
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    expect(s.tbo.redisEndpoint).toBeUndefined();
  });

  it('existingRedis gets a generated cache signing key too (entries in a Redis the user runs are signed)', () => {
    const s = variant({ existingRedis: { endpoint: { host: 'my-redis.example.com', tls: true } } });
    expect(secretsOf(s.json)[SECRET_ENV.cacheSigningKey]).toEqual(ref(logicalId(s, s.tbo.cacheSigningKeySecret!)));
    expect(s.tbo.cacheSigningKeySecret).toBe(s.tbo.node.findChild('CacheSigningKey'));
  });
});

describe('HTTPS', () => {
  it('with a certificate: internet-facing HTTPS on 443 with a modern TLS policy, 80 redirects, no warning', () => {
    const s = variant((stack) => ({ certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/abc') }));
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Subnets: s.tbo.vpc.publicSubnets.map((sn) => ref(logicalId(s, sn))),
    });
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc' }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
    const ingress = s.json.Resources[logicalId(s, s.tbo.loadBalancerSecurityGroup)].Properties!.SecurityGroupIngress as { FromPort: number; CidrIp: string }[];
    expect(ingress.map((i) => `${i.CidrIp}:${i.FromPort}`).sort()).toEqual(['0.0.0.0/0:443', '0.0.0.0/0:80']);
    expect(s.warnings).toEqual([]);
    expect(JSON.stringify(Object.values(s.json.Outputs!).find((o) => JSON.stringify(o).includes('https://')))).toContain('DNSName');
    // the port 80 listener keeps its logical id whether it forwards or redirects
    expect(s.tbo.httpListener).not.toBe(s.tbo.listener);
    expect(logicalId(s, s.tbo.httpListener)).toMatch(/^TboLoadBalancerHttpListener/);
  });

  it('with domainName and hostedZone: a DNS-validated certificate and an alias record; the URL is the domain', () => {
    const s = variant((stack) => ({
      domainName: 'tbo.example.com',
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' }),
    }));
    s.template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'tbo.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'tbo.example.com', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }],
    });
    s.template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'tbo.example.com.', Type: 'A', HostedZoneId: 'Z0123456789ABCDEFGHIJ' });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    expect(s.tbo.url).toBe('https://tbo.example.com');
    expect(s.tbo.certificate).toBeDefined();
  });
});

describe('load balancer options', () => {
  it('internal, reachable only from allowedCidrs, without access logs, with a custom idle timeout', () => {
    const s = variant({ internetFacing: false, allowedCidrs: ['10.20.0.0/16', '2001:db8::/32'], accessLogs: false, idleTimeout: Duration.minutes(20) });
    const lb = onlyResource(s.json, 'AWS::ElasticLoadBalancingV2::LoadBalancer').props;
    expect(lb.Scheme).toBe('internal');
    const attrs = Object.fromEntries((lb.LoadBalancerAttributes as { Key: string; Value: unknown }[]).map((a) => [a.Key, a.Value]));
    expect(attrs['idle_timeout.timeout_seconds']).toBe('1200');
    expect(attrs).not.toHaveProperty('access_logs.s3.enabled');
    s.template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(s.warnings).toEqual([expect.stringMatching(/accessLogs: false turns off/), expect.stringMatching(/serves plain HTTP/)]);
    const ingress = s.json.Resources[logicalId(s, s.tbo.loadBalancerSecurityGroup)].Properties!.SecurityGroupIngress as Record<string, unknown>[];
    expect(ingress).toEqual([expect.objectContaining({ CidrIp: '10.20.0.0/16', FromPort: 80 }), expect.objectContaining({ CidrIpv6: '2001:db8::/32', FromPort: 80 })]);
  });

  it('allowPlaintextInternet: an internet-facing HTTP load balancer open to anywhere, with a warning that says so', () => {
    const s = variant({ allowPlaintextInternet: true });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP', DefaultActions: [Match.objectLike({ Type: 'forward' })] });
    const ingress = s.json.Resources[logicalId(s, s.tbo.loadBalancerSecurityGroup)].Properties!.SecurityGroupIngress as Record<string, unknown>[];
    expect(ingress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 80 })]);
    expect(s.warnings).toEqual([expect.stringMatching(/serves plain HTTP to the internet \(allowPlaintextInternet: true\), so API keys and prompts cross the internet unencrypted/)]);
  });

  it('internetFacing: false with a certificate: internal HTTPS', () => {
    const s = variant((stack) => ({ internetFacing: false, certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/abc') }));
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    expect(s.warnings).toEqual([]);
  });

  it('internal without allowedCidrs admits only the VPC', () => {
    const s = variant({ internetFacing: false });
    const ingress = s.json.Resources[logicalId(s, s.tbo.loadBalancerSecurityGroup)].Properties!.SecurityGroupIngress as Record<string, unknown>[];
    expect(ingress).toEqual([expect.objectContaining({ CidrIp: { 'Fn::GetAtt': [logicalId(s, s.tbo.vpc as ec2.Vpc), 'CidrBlock'] } })]);
  });

  it('logs to an existing bucket, and warns that its policy must allow log delivery', () => {
    const s = variant((stack) => ({ existingAccessLogsBucket: s3.Bucket.fromBucketName(stack, 'Logs', 'my-alb-logs') }));
    s.template.resourceCountIs('AWS::S3::Bucket', 0);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.bucket', Value: 'my-alb-logs' }]) });
    expect(s.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/existingAccessLogsBucket: .*allow Elastic Load Balancing to write/)]));
  });
});

describe('task, scaling and config options', () => {
  it('task size, log group, scaling thresholds', () => {
    const s = variant({
      cpu: 1024,
      memoryLimitMiB: 4096,
      logGroupName: '/ecs/tbo-prod',
      logRetention: logs.RetentionDays.ONE_YEAR,
      logGroupRemovalPolicy: RemovalPolicy.DESTROY,
      minCapacity: 3,
      maxCapacity: 12,
      targetCpuUtilization: 55,
      requestsPerTarget: 300,
      targetQueueLength: 20,
      overheadAlarmThreshold: Duration.millis(20),
    });
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '4096' });
    s.template.hasResource('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/ecs/tbo-prod', RetentionInDays: 365 }, DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(onlyResource(s.json, 'AWS::ECS::Service').props).not.toHaveProperty('DesiredCount');
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 12 });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 55 }) });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 300 }) });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ CustomizedMetricSpecification: Match.objectLike({ MetricName: 'QueueLength' }), TargetValue: 20, DisableScaleIn: true }),
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Overhead', ExtendedStatistic: 'p95', Threshold: 0.02 });
  });

  it('maxStreamDuration: the deregistration delay, so responses up to that long finish on deploy and scale-in; stop and drain timeouts unchanged', () => {
    const s = variant({ maxStreamDuration: Duration.minutes(45) });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '2700' }]),
    });
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ StopTimeout: 30 })] });
    expect(envOf(s.json)).toMatchObject({ TBO_DRAIN_TIMEOUT: '25', TBO_UPSTREAM_TIMEOUT: '600' });
  });

  it('serviceName names the deployment: TBO_SERVICE_NAME, the alarms\' dimension and names, the log group', () => {
    const s = variant({ serviceName: 'tbo-prod.eu_1' });
    expect(s.tbo.serviceName).toBe('tbo-prod.eu_1');
    expect(envOf(s.json)).toMatchObject({ TBO_SERVICE_NAME: 'tbo-prod.eu_1' });
    for (const alarm of [...s.tbo.alarms, s.tbo.overheadAlarm]) {
      expect(s.json.Resources[logicalId(s, alarm)].Properties).toMatchObject({ AlarmName: expect.stringMatching(/^tbo-prod\.eu_1-TBO/), Dimensions: [{ Name: 'Service', Value: 'tbo-prod.eu_1' }] });
    }
    expect(JSON.stringify(s.json.Resources[logicalId(s, s.tbo.logGroup)].Properties!.LogGroupName)).toContain('"/ecs/tbo-prod.eu_1/"');
    expect(s.tbo.metricQueueLength().dimensions).toEqual({ Service: 'tbo-prod.eu_1' });
  });

  it('config is rendered to env vars, and drives deregistration (the upstream timeout), stop timeout, health checks, idle timeout and the alarms\' metrics', () => {
    const s = variant({
      config: { anthropicBaseUrl: 'https://llm-proxy.internal.example.com:8443', optimizationLevel: 'speed', drainTimeout: 55, healthCheckInterval: 10, upstreamTimeout: 900, metricsNamespace: 'Acme/TBO', serviceName: 'tbo-prod', metricsExportInterval: 120 },
    });
    expect(s.json.Resources[logicalId(s, s.tbo.serviceSecurityGroup)].Properties!.SecurityGroupEgress).toEqual([
      expect.objectContaining({ FromPort: 443 }),
      expect.objectContaining({ FromPort: 8443 }),
    ]);
    expect(envOf(s.json)).toMatchObject({ TBO_OPTIMIZATION_LEVEL: 'speed', TBO_DRAIN_TIMEOUT: '55', TBO_METRICS_NAMESPACE: 'Acme/TBO', TBO_SERVICE_NAME: 'tbo-prod', TBO_METRICS_EMF: 'true' });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckIntervalSeconds: 10,
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '900' }]),
    });
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ StopTimeout: 60, HealthCheck: Match.objectLike({ Interval: 10 }) })] });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '900' }]) });
    const latency = TBO_ALERT_RULES.find((r) => r.signal === 'latencyP95')!;
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tbo-prod-TBOHighLatency',
      Namespace: 'Acme/TBO',
      Dimensions: [{ Name: 'Service', Value: 'tbo-prod' }],
      Period: 120,
      EvaluationPeriods: Math.ceil(latency.forSeconds / 120),
      Threshold: latency.threshold,
    });
    expect(s.tbo.metricLatency()).toMatchObject({ namespace: 'Acme/TBO', dimensions: { Service: 'tbo-prod' } });
    expect(s.tbo.serviceName).toBe('tbo-prod'); // config.serviceName names the deployment as the serviceName prop does
  });
});

describe('alarm notifications', () => {
  it('alarmEmails: a KMS-encrypted topic (rotating key CloudWatch may use) with the subscriptions, as alarm and OK action', () => {
    const s = variant({ alarmEmails: ['oncall@example.com'] });
    const topic = onlyResource(s.json, 'AWS::SNS::Topic');
    const key = onlyResource(s.json, 'AWS::KMS::Key');
    expect(topic.props.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
    expect(key.props.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.props.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: ref(topic.id) });
    const ruleAlarms = TBO_ALERT_RULES.map((r) => s.json.Resources[logicalId(s, s.tbo.node.findChild(r.name))].Properties!);
    for (const alarm of ruleAlarms) {
      expect(alarm.AlarmActions).toEqual([ref(topic.id)]);
      expect(alarm.OKActions).toEqual([ref(topic.id)]);
    }
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('existingAlarmTopic: its ARN is the action, no topic is created', () => {
    const arn = 'arn:aws:sns:us-east-1:111122223333:oncall';
    const s = variant((stack) => ({ existingAlarmTopic: sns.Topic.fromTopicArn(stack, 'Topic', arn) }));
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const rule of TBO_ALERT_RULES) expect(s.json.Resources[logicalId(s, s.tbo.node.findChild(rule.name))].Properties!.AlarmActions).toEqual([arn]);
  });
});

describe('admin port and metrics scrapers', () => {
  type Rule = Record<string, unknown>;
  const getAtt = (s: Synthesized, c: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(s, c), 'GroupId'] });
  /** Every rule that lets traffic into the tasks: separate ingress resources on their security group, and its inline rules. */
  function serviceIngress(s: Synthesized): Rule[] {
    const sg = logicalId(s, s.tbo.serviceSecurityGroup);
    const separate = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties!).filter((r) => JSON.stringify(r.GroupId).includes(sg));
    return [...separate, ...((s.json.Resources[sg].Properties!.SecurityGroupIngress ?? []) as Rule[])];
  }
  const port = (p: number) => ({ IpProtocol: 'tcp', FromPort: p, ToPort: p });

  it('metricsScrapers open the admin port to exactly the scrapers named; the load balancer still reaches only the public port', () => {
    const s = variant((stack) => {
      const vpc = new ec2.Vpc(stack, 'MyVpc', { maxAzs: 2, natGateways: 1 });
      const prometheus = new ec2.SecurityGroup(stack, 'Prometheus', { vpc, allowAllOutbound: false, description: 'Prometheus task' });
      return { existingVpc: vpc, metricsScrapers: [prometheus, ec2.Peer.ipv4('10.8.0.0/24'), ec2.Peer.ipv4(vpc.vpcCidrBlock)] };
    });
    const prometheus = s.stack.node.findChild('Prometheus') as ec2.SecurityGroup;
    const vpcCidr = { 'Fn::GetAtt': [logicalId(s, s.tbo.vpc as ec2.Vpc), 'CidrBlock'] };
    expect(serviceIngress(s)).toEqual([
      expect.objectContaining({ ...port(SERVICE_PORT), SourceSecurityGroupId: getAtt(s, s.tbo.loadBalancerSecurityGroup) }),
      expect.objectContaining({ ...port(ADMIN_PORT), SourceSecurityGroupId: getAtt(s, prometheus) }),
      expect.objectContaining({ ...port(ADMIN_PORT), CidrIp: '10.8.0.0/24' }),
      expect.objectContaining({ ...port(ADMIN_PORT), CidrIp: vpcCidr }),
    ]);
    // the scraper's own security group restricts egress: it gets the matching rule
    s.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { GroupId: getAtt(s, prometheus), ...port(ADMIN_PORT), DestinationSecurityGroupId: getAtt(s, s.tbo.serviceSecurityGroup) });
    // the load balancer: egress to the public port only, target group and health check on it
    const lbSg = logicalId(s, s.tbo.loadBalancerSecurityGroup);
    const lbEgress = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties!).filter((r) => JSON.stringify(r.GroupId).includes(lbSg));
    expect(lbEgress).toEqual([expect.objectContaining(port(SERVICE_PORT))]);
    const tg = onlyResource(s.json, 'AWS::ElasticLoadBalancingV2::TargetGroup').props;
    expect([tg.Port, tg.HealthCheckPort ?? 'traffic-port']).toEqual([SERVICE_PORT, 'traffic-port']);
  });

  it('allowMetricsScrapeFrom opens the admin port to a scraper created after the construct (an ADOT collector service)', () => {
    const s = variant({}, (tbo, stack) => {
      const collector = new ec2.SecurityGroup(stack, 'AdotCollector', { vpc: tbo.vpc, description: 'ADOT collector' });
      tbo.allowMetricsScrapeFrom(collector);
    });
    const collector = s.stack.node.findChild('AdotCollector') as ec2.SecurityGroup;
    expect(serviceIngress(s)).toEqual([
      expect.objectContaining({ ...port(SERVICE_PORT), SourceSecurityGroupId: getAtt(s, s.tbo.loadBalancerSecurityGroup) }),
      expect.objectContaining({ ...port(ADMIN_PORT), SourceSecurityGroupId: getAtt(s, collector) }),
    ]);
  });
});

describe('Redis key prefix', () => {
  /** Two constructs sharing one Redis in one stack, synthesized: the prefix each task runs with. */
  function twoDeployments(): { prefixes: string[]; addrs: string[] } {
    const app = new App({ outdir: dirs.make() });
    const stack = new Stack(app, 'Shared');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const shared = { endpoint: { host: 'shared-redis.example.com', tls: true } };
    const tbos = ['TboTeamA', 'TboTeamB'].map((id) => new TboFargateService(stack, id, { image: registryImage(), existingVpc: vpc, existingRedis: shared, logGroupName: `/ecs/${id}` }));
    const json = app.synth().getStackByName('Shared').template as Synthesized['json'];
    const prefixes = tbos.map((tbo) => {
      const [container] = json.Resources[stack.getLogicalId(tbo.taskDefinition.node.defaultChild as never)].Properties!.ContainerDefinitions as { Environment: { Name: string; Value: string }[] }[];
      return container.Environment.find((e) => e.Name === SETTINGS.redisKeyPrefix.env)!.Value;
    });
    return { prefixes, addrs: tbos.map((t) => t.node.addr) };
  }

  it('differs between two instances sharing a Redis in one stack, and is the same in every synth', () => {
    const first = twoDeployments();
    expect(first.prefixes[0]).not.toBe(first.prefixes[1]);
    expect(first.prefixes).toEqual(first.addrs.map(redisKeyPrefixFor));
    for (const prefix of first.prefixes) expect(prefix).toMatch(/^tbo-[0-9a-f]{12}$/);
    expect(twoDeployments().prefixes).toEqual(first.prefixes);
  });

  it('redisKeyPrefix overrides it (e.g. to keep the keyspace when the construct moves)', () => {
    const s = variant({ redisKeyPrefix: 'tbo-prod.eu_1' });
    expect(envOf(s.json)[SETTINGS.redisKeyPrefix.env]).toBe('tbo-prod.eu_1');
    expect(s.tbo.redisKeyPrefix).toBe('tbo-prod.eu_1');
    expect(s.tbo.serviceConfig.redisKeyPrefix).toBe('tbo-prod.eu_1');
  });
});

describe('every variant above', () => {
  it('passes cfn-lint with zero errors and no warnings', async () => {
    expect(synthesized.length).toBeGreaterThanOrEqual(15);
    const lint = await cfnLint(synthesized.map((s) => s.templateFile));
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
    expect(lint.statuses.every((st) => st === 0)).toBe(true);
  }, 180_000);

  it('passes cdk-nag AwsSolutions with only the user-side findings of imported resources', () => {
    const findings = synthesized.flatMap((s) => new AwsSolutionsChecks().validateScope(s.app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)));
    // Everything the construct creates is clean or acknowledged in the construct, except what a user turned off;
    // what remains is the test's own bring-your-own resources.
    expect(findings.filter((f) => f.includes('/Tbo/'))).toEqual(['AwsSolutions-ELB2 TestStack/Tbo/LoadBalancer/Resource']);
    findings.splice(findings.indexOf('AwsSolutions-ELB2 TestStack/Tbo/LoadBalancer/Resource'), 1);
    for (const f of findings) expect(f).toMatch(/ \/?TestStack\/(MyVpc|MyCluster)\//);
    expect(resourcesOfType(synthesized[0].json, 'AWS::ECS::Cluster')).toBeDefined();
  });
});
