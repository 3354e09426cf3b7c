import { App, Duration, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { TboConfigValidationError } from '../../lib/core';
import { TboFargateService, type TboFargateServiceProps } from '../../lib/aws';
import { registryImage } from './support/synth';

/** Builds the construct (no synth needed: props are checked in the constructor). */
function build(props: TboFargateServiceProps | ((stack: Stack) => TboFargateServiceProps)): () => TboFargateService {
  return () => {
    const stack = new Stack(new App(), 'S');
    return new TboFargateService(stack, 'Tbo', { image: registryImage(), ...(typeof props === 'function' ? props(stack) : props) });
  };
}

/** The one-line problems of the validation error the construct throws. */
function problems(props: Parameters<typeof build>[0]): string[] {
  try {
    build(props)();
  } catch (err) {
    expect(err).toBeInstanceOf(TboConfigValidationError);
    return [...(err as TboConfigValidationError).problems];
  }
  throw new Error('expected a TboConfigValidationError');
}

describe('synth-time validation: each message names the prop, the value received and what is accepted', () => {
  it.each<[string, TboFargateServiceProps, RegExp]>([
    ['keep-alive not above the ALB idle timeout', { idleTimeout: Duration.seconds(120), config: { keepAliveTimeout: 60 } }, /^TboFargateService: config\.keepAliveTimeout: received 60; must be above the load balancer idle timeout \(120 s\)/],
    ['min > max', { minCapacity: 5, maxCapacity: 3 }, /^TboFargateService: minCapacity: received 5; must be ≤ maxCapacity \(3\)$/],
    ['a desired count (autoscaling owns the task count; deploys would reset it)', { desiredCount: 3 } as never, /^TboFargateService: desiredCount: received 3; no longer accepted: autoscaling owns the task count, .*minCapacity is the floor and what the first deploy starts$/],
    ['non-integer capacity', { maxCapacity: 2.5 }, /^TboFargateService: maxCapacity: received 2.5; must be an integer from 1 to 10000$/],
    ['a CPU architecture Fargate does not name so', { cpuArchitecture: ecs.CpuArchitecture.of('arm64') }, /^TboFargateService: cpuArchitecture: received "arm64"; accepted values: ecs\.CpuArchitecture\.X86_64, ecs\.CpuArchitecture\.ARM64 \(Linux on Fargate; known at synth, as it also picks the platform the bundled image is built for\)$/],
    ['a CPU architecture as a plain string (from JavaScript)', { cpuArchitecture: 'ARM64' as never }, /^TboFargateService: cpuArchitecture: received "ARM64"; accepted values: ecs\.CpuArchitecture\.X86_64, ecs\.CpuArchitecture\.ARM64 /],
    ['a CPU architecture known only at deploy', { cpuArchitecture: ecs.CpuArchitecture.of(Token.asString({ Ref: 'Arch' })) }, /^TboFargateService: cpuArchitecture: received "\$\{Token\[.*\]\}"; accepted values: .* known at synth/],
    ['CPU not a Fargate size', { cpu: 300 }, /^TboFargateService: cpu: received 300; accepted values: 256, 512, 1024, 2048, 4096, 8192, 16384$/],
    ['memory that does not fit the CPU', { cpu: 256, memoryLimitMiB: 4096 }, /^TboFargateService: memoryLimitMiB: received 4096; with cpu 256, Fargate accepts 512, 1024, 2048$/],
    ['CPU target above 100 %', { targetCpuUtilization: 120 }, /^TboFargateService: targetCpuUtilization: received 120; must be a percentage above 0 and at most 100$/],
    ['scaling on the load balancer\'s latency', { scaleOutLatency: Duration.seconds(2) } as never, /^TboFargateService: scaleOutLatency: received "2 seconds"; no longer accepted: .*model's generation time.*targetQueueLength.*overheadAlarmThreshold/],
    ['a queue target of 0', { targetQueueLength: 0 }, /^TboFargateService: targetQueueLength: received 0; must be a number of waiting requests per task above 0/],
    ['a zero overhead threshold', { overheadAlarmThreshold: Duration.seconds(0) }, /^TboFargateService: overheadAlarmThreshold: received "0 s"; must be above 0 seconds/],
    ['streams longer than the load balancer can wait for', { maxStreamDuration: Duration.hours(2) }, /^TboFargateService: maxStreamDuration: received "2 hours"; accepted values: 1 second to 60 minutes \(the load balancer keeps a deregistering task at most 3600 s; Fargate's stop timeout, at most 120 s, cannot carry a stream\)$/],
    ['a zero stream duration', { maxStreamDuration: Duration.seconds(0) }, /^TboFargateService: maxStreamDuration: received "0 seconds"; accepted values: 1 second to 60 minutes/],
    ['an internet-facing load balancer without a certificate', { internetFacing: true }, /^TboFargateService: internetFacing: received true; without a certificate an internet-facing load balancer would carry API keys and prompts in plain text; pass certificate .*allowPlaintextInternet: true/],
    ['allowPlaintextInternet with internetFacing: false', { allowPlaintextInternet: true, internetFacing: false }, /^TboFargateService: allowPlaintextInternet: received true; contradicts internetFacing: false/],
    ['a service name with a space', { serviceName: 'tbo prod' }, /^TboFargateService: serviceName: received "tbo prod"; accepted values: 1 to 64 characters of A-Z a-z 0-9 \. _ - known at synth/],
    ['a service name over 64 characters', { serviceName: 's'.repeat(65) }, /^TboFargateService: serviceName: received "s{65}"; accepted values: 1 to 64 characters/],
    ['a service name known only at deploy', { serviceName: Token.asString({ Ref: 'Name' }) }, /^TboFargateService: serviceName: received "\$\{Token\[.*\]\}"; accepted values: .* known at synth/],
    ['serviceName and a different config.serviceName', { serviceName: 'a', config: { serviceName: 'b' } }, /^TboFargateService: serviceName: received "a"; differs from config\.serviceName \("b"\); both name the same thing \(TBO_SERVICE_NAME\), give one of them$/],
    ['a log group removal policy a log group cannot have', { logGroupRemovalPolicy: RemovalPolicy.SNAPSHOT }, /^TboFargateService: logGroupRemovalPolicy: received "snapshot"; accepted values: RemovalPolicy\.RETAIN, RemovalPolicy\.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy\.DESTROY/],
    ['requests per target below 1', { requestsPerTarget: 0 }, /^TboFargateService: requestsPerTarget: received 0; must be an integer from 1/],
    ['a malformed CIDR', { allowedCidrs: ['10.0.0.0'] }, /^TboFargateService: allowedCidrs: received "10.0.0.0"; each must be an IPv4 or IPv6 CIDR range/],
    ['no CIDR at all', { allowedCidrs: [] }, /^TboFargateService: allowedCidrs: received \[\]; must list at least one CIDR range/],
    ['domainName alone', { domainName: 'tbo.example.com' }, /^TboFargateService: domainName: received "tbo.example.com"; needs hostedZone .* or certificate$/],
    ['an idle timeout ALB refuses', { idleTimeout: Duration.seconds(5000) }, /^TboFargateService: idleTimeout: received 5000; must be an integer from 1 to 4000$/],
    ['a bad alarm email', { alarmEmails: ['oncall'] }, /^TboFargateService: alarmEmails: received "oncall"; each must be an email address$/],
    ['too many Redis replicas', { redis: { replicasPerShard: 6 } }, /^TboFargateService: redis.replicasPerShard: received 6; must be an integer from 1 to 5$/],
    ['no Redis replica (no failover)', { redis: { replicasPerShard: 0 } }, /^TboFargateService: redis.replicasPerShard: received 0; must be an integer from 1 to 5$/],
    ['shards without cluster mode', { redis: { shards: 3 } }, /^TboFargateService: redis.shards: received 3; more than one shard needs redis.clusterMode: true$/],
    ['snapshot retention above 35 days', { redis: { snapshotRetentionDays: 40 } }, /^TboFargateService: redis.snapshotRetentionDays: received 40; must be an integer from 0 to 35$/],
    ['redis: false with existingRedis', { redis: false, existingRedis: { endpoint: { host: 'r' } } }, /^TboFargateService: redis: received false; redis: false \(no Redis\) contradicts existingRedis/],
    ['Redis shape options with existingRedis', { redis: { nodeType: 'cache.r7g.large' }, existingRedis: { endpoint: { host: 'r' } } }, /^TboFargateService: redis.nodeType: received \["nodeType"\]; these options shape a Redis the construct creates and do not apply to existingRedis/],
    ['a health check interval the ALB refuses', { config: { healthCheckInterval: 2 } }, /^TboFargateService: config.healthCheckInterval: received 2; the ALB and ECS health checks accept whole seconds from 5 to 300$/],
    ['a drain timeout Fargate cannot wait for', { config: { drainTimeout: 200 } }, /^TboFargateService: config.drainTimeout: received 200; Fargate stops a container at most 120 s after SIGTERM, so the drain timeout must be at most 115 s$/],
    ['openAi: false with an OpenAI secret', { openAi: false, existingOpenAiApiKeySecret: secretsmanager.Secret.fromSecretNameV2(new Stack(), 'O', 'openai') }, /^TboFargateService: existingOpenAiApiKeySecret: received "openai"; is unused with openAi: false/],
    ['accessLogs: false with a bucket', { accessLogs: false, existingAccessLogsBucket: { bucketName: 'logs' } as never }, /^TboFargateService: existingAccessLogsBucket: received "logs"; is unused with accessLogs: false/],
    ['redis: false with a cache signing key', { redis: false, existingCacheSigningKeySecret: secretsmanager.Secret.fromSecretNameV2(new Stack(), 'K', 'signing') }, /^TboFargateService: existingCacheSigningKeySecret: received "signing"; is unused with redis: false \(only entries in Redis are signed\); remove one of them$/],
    ['a Redis key prefix with a colon (the service\'s separator)', { redisKeyPrefix: 'tbo:prod' }, /^TboFargateService: redisKeyPrefix: received "tbo:prod"; accepted values: 1 to 64 characters of A-Z a-z 0-9 \. _ - known at synth/],
    ['an empty Redis key prefix', { redisKeyPrefix: '' }, /^TboFargateService: redisKeyPrefix: received ""; accepted values: 1 to 64 characters/],
    ['a Redis key prefix over 64 characters', { redisKeyPrefix: 'p'.repeat(65) }, /^TboFargateService: redisKeyPrefix: received "p{65}"; accepted values: 1 to 64 characters/],
    ['a Redis key prefix known only at deploy', { redisKeyPrefix: Token.asString({ Ref: 'Prefix' }) }, /^TboFargateService: redisKeyPrefix: received "\$\{Token\[.*\]\}"; accepted values: .* known at synth/],
    ['the admin port open to any IPv4 address', { metricsScrapers: [ec2.Peer.anyIpv4()] }, /^TboFargateService: metricsScrapers: received "0\.0\.0\.0\/0"; the admin port \(9464\) answers \/metrics and \/health\/details without authentication: name the scrapers/],
    ['the admin port open to any IPv6 address', { metricsScrapers: [ec2.Peer.ipv6('::/0')] }, /^TboFargateService: metricsScrapers: received "::\/0"; the admin port \(9464\)/],
  ])('%s', (_name, props, message) => {
    expect(problems(props)).toEqual([expect.stringMatching(message)]);
  });

  it('cluster mode with an existingRedis that is not a cluster names both props', () => {
    expect(problems({ redis: { clusterMode: true }, existingRedis: { endpoint: { host: 'r.example.com', tls: true } } })).toEqual([
      'TboFargateService: redis.clusterMode: received true; existingRedis.endpoint.cluster is false; set existingRedis.endpoint.cluster: true for a cluster-mode Redis (the service then runs with REDIS_CLUSTER=true)',
    ]);
  });

  it('allowPlaintextInternet with a certificate (it would change nothing)', () => {
    const message = problems((stack) => ({ allowPlaintextInternet: true, certificate: acm.Certificate.fromCertificateArn(stack, 'C', 'arn:aws:acm:us-east-1:111122223333:certificate/abc') }));
    expect(message).toEqual(['TboFargateService: allowPlaintextInternet: received true; is unused with a certificate (the listener is HTTPS and HTTP redirects to it); remove one of them']);
  });

  it('hostedZone without domainName', () => {
    const message = problems((stack) => ({ hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Z', { hostedZoneId: 'Z1', zoneName: 'example.com' }) }));
    expect(message).toEqual(['TboFargateService: hostedZone: received "example.com"; needs domainName (the name to serve in that zone)']);
  });

  it('an existingCluster outside existingVpc', () => {
    const message = problems((stack) => ({
      existingVpc: ec2.Vpc.fromVpcAttributes(stack, 'A', { vpcId: 'vpc-aaaa', availabilityZones: ['us-east-1a'] }),
      existingCluster: ecs.Cluster.fromClusterAttributes(stack, 'C', { clusterName: 'c', vpc: ec2.Vpc.fromVpcAttributes(stack, 'B', { vpcId: 'vpc-bbbb', availabilityZones: ['us-east-1a'] }) }),
    }));
    expect(message).toEqual(['TboFargateService: existingCluster: received "c"; must be in existingVpc (vpc-aaaa); omit existingVpc to use the cluster\'s VPC']);
  });

  it('subnets in a single AZ for the multi-AZ Redis', () => {
    const message = problems((stack) => ({
      existingVpc: ec2.Vpc.fromVpcAttributes(stack, 'V', { vpcId: 'vpc-aaaa', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'] }),
    }));
    expect(message).toEqual(['TboFargateService: taskSubnets: received ["us-east-1a"]; the Redis primary and its replicas need subnets in at least 2 availability zones (or pass existingRedis, or redis: false)']);
  });

  it('a secret whose value would be written into the template, without showing the value', () => {
    const message = problems((stack) => ({
      existingAnthropicApiKeySecret: new secretsmanager.Secret(stack, 'Key', { secretStringValue: SecretValue.unsafePlainText('sk-ant-do-not-show') }),
    }));
    expect(message).toEqual([expect.stringMatching(/^TboFargateService: existingAnthropicApiKeySecret: received "\(secret, not shown\)"; its value would be written into the template in plain text/)]);
    expect(message.join('\n')).not.toContain('sk-ant-do-not-show');
  });

  it('a signing key or admin keys secret whose value would be written into the template', () => {
    const message = problems((stack) => ({
      existingCacheSigningKeySecret: new secretsmanager.Secret(stack, 'Signing', { secretStringValue: SecretValue.unsafePlainText('do-not-show-signing-key-0123456789abcdef') }),
      existingAdminKeysSecret: new secretsmanager.Secret(stack, 'Admin', { secretStringValue: SecretValue.unsafePlainText('do-not-show-admin-key-0123') }),
    }));
    expect(message).toEqual([
      expect.stringMatching(/^TboFargateService: existingAdminKeysSecret: received "\(secret, not shown\)"; its value would be written into the template/),
      expect.stringMatching(/^TboFargateService: existingCacheSigningKeySecret: received "\(secret, not shown\)"; its value would be written into the template/),
    ]);
    expect(message.join('\n')).not.toContain('do-not-show');
  });

  it('allowMetricsScrapeFrom refuses anywhere, as metricsScrapers does, and the load balancer', () => {
    const tbo = build({})();
    expect(() => tbo.allowMetricsScrapeFrom(ec2.Peer.anyIpv4())).toThrow(
      expect.objectContaining({ problems: [expect.stringMatching(/^TboFargateService: allowMetricsScrapeFrom: received "0\.0\.0\.0\/0"; the admin port \(9464\)/)] }),
    );
    expect(() => tbo.allowMetricsScrapeFrom(tbo.loadBalancer)).toThrow(
      expect.objectContaining({ problems: ['TboFargateService: allowMetricsScrapeFrom: received "the load balancer"; the load balancer reaches only the public port; name the scrapers (a Prometheus task, an ADOT collector)'] }),
    );
    expect(() => tbo.allowMetricsScrapeFrom(ec2.Peer.ipv4('10.0.0.0/16'))).not.toThrow();
  });

  it('reports every problem at once', () => {
    expect(problems({ minCapacity: 9, maxCapacity: 4, cpu: 100, redis: { shards: 2 } })).toHaveLength(3);
  });

  it('rejects config the service would refuse, and secrets passed as config, naming config.<setting>', () => {
    expect(build({ config: { optimizationLevel: 'fast' as never } })).toThrow(/config\.optimizationLevel: .*received "fast".*accepted values: speed, balanced, quality, research/);
    const leak = build({ config: { anthropicApiKey: 'sk-ant-do-not-show' } as never });
    expect(leak).toThrow(/config\.anthropicApiKey: not a tunable setting/);
    try {
      leak();
    } catch (err) {
      expect(String(err)).not.toContain('sk-ant-do-not-show');
    }
  });

  it('accepts every default and every valid edge', () => {
    expect(build({})).not.toThrow();
    expect(build({ minCapacity: 0, maxCapacity: 1, cpu: 16384, memoryLimitMiB: 122880, config: { drainTimeout: 115, healthCheckInterval: 300 } })).not.toThrow();
    expect(build({ maxStreamDuration: Duration.hours(1), config: { upstreamTimeout: 3600 } })).not.toThrow();
    expect(build({ maxStreamDuration: Duration.seconds(1) })).not.toThrow();
    expect(build({ serviceName: 's'.repeat(64), config: { serviceName: 's'.repeat(64) } })).not.toThrow();
    expect(build({ allowPlaintextInternet: true, internetFacing: true })).not.toThrow();
    expect(build({ redisKeyPrefix: 'p'.repeat(64), metricsScrapers: [] })).not.toThrow();
    expect(build({ redisKeyPrefix: 'A.z_0-9' })).not.toThrow();
    expect(build({ cpuArchitecture: ecs.CpuArchitecture.ARM64, cpu: 256, memoryLimitMiB: 512 })).not.toThrow();
    expect(build({ cpuArchitecture: ecs.CpuArchitecture.X86_64 })).not.toThrow();
  });
});
