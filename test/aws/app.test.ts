import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations, type App } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { SECRET_ENV } from '../../lib/core';
import { createTboAwsApp, TboAwsStack } from '../../bin/tbo-aws-stack';
import { cfnLint } from './support/cfn-lint';
import { filesContaining } from './support/files';
import { TempDirs } from './support/synth';

const REPO = join(__dirname, '..', '..');
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** Every cdk-nag acknowledgement recorded in the tree: construct path, rule, reason. */
function acknowledgements(root: IConstruct): { path: string; rule: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({ path: c.node.path, rule: rule.replace(/^annotation::/i, ''), reason }))),
  );
}

describe('the example app (bin/tbo-aws.ts)', () => {
  let app: App;
  let outdir: string;
  beforeAll(() => {
    outdir = dirs.make();
    app = createTboAwsApp({ outdir });
    app.synth(); // throws on any unacknowledged cdk-nag finding
  }, 120_000);

  it('is one environment-agnostic stack, TboAwsStack, composing the construct with its defaults', () => {
    const stack = app.node.findChild('TboAwsStack') as TboAwsStack;
    expect(stack).toBeInstanceOf(TboAwsStack);
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    expect(stack.tbo.node.id).toBe('Tbo');
  });

  it('runs x86_64 tasks on an image built for linux/amd64 unless -c cpuArchitecture=arm64', () => {
    const stack = app.node.findChild('TboAwsStack') as TboAwsStack;
    expect(stack.tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.X86_64);
    const assets = JSON.parse(readFileSync(join(outdir, 'TboAwsStack.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { platform?: string } }> };
    expect(Object.values(assets.dockerImages).map((i) => i.source.platform)).toEqual(['linux/amd64']);
  });

  it('has zero unacknowledged cdk-nag AwsSolutions findings', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('runs cdk-nag at synth: a non-compliant resource fails it', () => {
    const bad = createTboAwsApp({ outdir: dirs.make() });
    const stack = new Stack(bad, 'Bad');
    const sg = new ec2.SecurityGroup(stack, 'Open', { vpc: ec2.Vpc.fromVpcAttributes(stack, 'V', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'] }) });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(() => bad.synth()).toThrow(/AwsSolutions-EC23/);
  }, 120_000);

  it('carries every acknowledgement in the construct, each with a specific reason', () => {
    const acks = acknowledgements(app).filter((a) => a.rule.startsWith('AwsSolutions-')); // aws-cdk-lib records its own, for its built-in checks
    expect(acks.map((a) => `${a.rule} ${a.path}`).sort()).toEqual(
      [
        'AwsSolutions-AEC5 TboAwsStack/Tbo/Redis',
        'AwsSolutions-EC23 TboAwsStack/Tbo/LoadBalancerSecurityGroup',
        'AwsSolutions-ECS2 TboAwsStack/Tbo/TaskDefinition',
        'AwsSolutions-IAM5[Resource::*] TboAwsStack/Tbo/TaskDefinition/ExecutionRole',
        'AwsSolutions-S1 TboAwsStack/Tbo/AccessLogsBucket',
        'AwsSolutions-SMG4 TboAwsStack/Tbo/AnthropicApiKey',
        'AwsSolutions-SMG4 TboAwsStack/Tbo/CacheSigningKey',
        'AwsSolutions-SMG4 TboAwsStack/Tbo/JwtSecret',
        'AwsSolutions-SMG4 TboAwsStack/Tbo/OpenAiApiKey',
        'AwsSolutions-SMG4 TboAwsStack/Tbo/RedisAuthToken',
      ].sort(),
    );
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(120);
    expect(new Set(acks.map((a) => a.reason)).size).toBe(acks.length - 1); // the two provider keys share one reason
  });

  it('passes cfn-lint with zero errors', async () => {
    const lint = await cfnLint([join(outdir, 'TboAwsStack.template.json')]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
    expect(lint.statuses.every((st) => st === 0)).toBe(true);
  }, 180_000);
});

describe('the example app: no plain text on the internet', () => {
  const template = (app: App) => app.synth().getStackByName('TboAwsStack').template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const ofType = (t: ReturnType<typeof template>, type: string) => Object.values(t.Resources).filter((r) => r.Type === type).map((r) => r.Properties);

  it('is internal by default: plain HTTP only from inside the VPC', () => {
    const t = template(createTboAwsApp({ outdir: dirs.make() }));
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([expect.objectContaining({ Scheme: 'internal' })]);
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::Listener')).toEqual([expect.objectContaining({ Port: 80, Protocol: 'HTTP' })]);
  }, 120_000);

  it('serves a domain given as context over internet-facing HTTPS (certificate, alias record, redirect), passing cdk-nag and cfn-lint', async () => {
    const outdir = dirs.make();
    const app = createTboAwsApp({ outdir, context: { domainName: 'tbo.example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.com' } });
    const t = template(app); // throws on any unacknowledged cdk-nag finding
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([expect.objectContaining({ Scheme: 'internet-facing' })]);
    expect(ofType(t, 'AWS::CertificateManager::Certificate')).toEqual([expect.objectContaining({ DomainName: 'tbo.example.com', ValidationMethod: 'DNS' })]);
    expect(ofType(t, 'AWS::Route53::RecordSet')).toEqual([expect.objectContaining({ Name: 'tbo.example.com.', Type: 'A', HostedZoneId: 'Z0123456789ABCDEFGHIJ' })]);
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => `${l.Protocol}:${l.Port}`).sort()).toEqual(['HTTP:80', 'HTTPS:443']);
    expect((app.node.findChild('TboAwsStack') as TboAwsStack).tbo.url).toBe('https://tbo.example.com');
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    const lint = await cfnLint([join(outdir, 'TboAwsStack.template.json')]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 180_000);

  it('uses a certificate ARN given as context', () => {
    const arn = 'arn:aws:acm:us-east-1:111122223333:certificate/0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b';
    const t = template(createTboAwsApp({ outdir: dirs.make(), context: { certificateArn: arn } }));
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([expect.objectContaining({ Scheme: 'internet-facing' })]);
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::Listener')).toEqual(expect.arrayContaining([expect.objectContaining({ Port: 443, Certificates: [{ CertificateArn: arn }] })]));
  }, 120_000);

  it('refuses half a domain, naming the missing context keys', () => {
    expect(() => createTboAwsApp({ outdir: dirs.make(), context: { domainName: 'tbo.example.com' } })).toThrow(
      expect.objectContaining({
        problems: ['TboAwsStack: context: received {"domainName":"tbo.example.com"}; a domain needs all three of -c domainName=… -c hostedZoneId=… -c hostedZoneName=… (missing: hostedZoneId, hostedZoneName)'],
      }),
    );
  });
});

describe('the example app: Claude on Bedrock from context', () => {
  const template = (app: App) => app.synth().getStackByName('TboAwsStack').template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

  it('grants the named models to the task role and routes them to Bedrock, passing cdk-nag and cfn-lint', async () => {
    const outdir = dirs.make();
    const app = createTboAwsApp({ outdir, context: { bedrockModels: 'claude-haiku-4-5,claude-sonnet-4-5,claude-opus-4-1', bedrockRegion: 'us-east-1' } });
    const t = template(app); // throws on any unacknowledged cdk-nag finding
    const tbo = (app.node.findChild('TboAwsStack') as TboAwsStack).tbo;
    expect(tbo.bedrockModelGrants?.map((g) => g.modelId)).toEqual([
      'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-opus-4-1-20250805-v1:0',
    ]);
    expect(tbo.serviceConfig).toMatchObject({ modelsFast: 'bedrock:claude-haiku-4-5,openai:gpt-4o-mini', bedrockRegion: 'us-east-1', bedrockCrossRegion: 'geo' });
    expect(tbo.anthropicApiKeySecret).toBeUndefined(); // no route left on the Anthropic API
    const policies = Object.values(t.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('bedrock:InvokeModel'));
    expect(policies).toHaveLength(1);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    const lint = await cfnLint([join(outdir, 'TboAwsStack.template.json')]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 180_000);

  it('refuses Bedrock settings without the models to grant', () => {
    expect(() => createTboAwsApp({ outdir: dirs.make(), context: { bedrockRegion: 'us-east-1' } })).toThrow(
      expect.objectContaining({
        problems: ['TboAwsStack: context: received {"bedrockRegion":"us-east-1"}; Bedrock settings need the models to grant: -c bedrockModels=claude-sonnet-4-5,claude-haiku-4-5'],
      }),
    );
  });
});

describe('the example app: Graviton (arm64) from context', () => {
  type Stacked = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const assetPlatforms = (outdir: string) =>
    Object.values((JSON.parse(readFileSync(join(outdir, 'TboAwsStack.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { platform?: string } }> }).dockerImages).map((i) => i.source.platform);
  const runtimePlatform = (t: Stacked) => Object.values(t.Resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition').map((r) => r.Properties.RuntimePlatform);

  it('-c cpuArchitecture=arm64 runs ARM64 tasks on an image built for linux/arm64, passing cdk-nag and cfn-lint', async () => {
    const outdir = dirs.make();
    const app = createTboAwsApp({ outdir, context: { cpuArchitecture: 'arm64' } });
    const t = app.synth().getStackByName('TboAwsStack').template as Stacked; // throws on any unacknowledged cdk-nag finding
    expect(runtimePlatform(t)).toEqual([{ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' }]);
    expect(assetPlatforms(outdir)).toEqual(['linux/arm64']);
    expect((app.node.findChild('TboAwsStack') as TboAwsStack).tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.ARM64);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    const lint = await cfnLint([join(outdir, 'TboAwsStack.template.json')]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 180_000);

  it('takes x86_64 and amd64, in any case (x86_64 is also the default: see above)', () => {
    for (const context of [{ cpuArchitecture: 'X86_64' }, { cpuArchitecture: 'amd64' }]) {
      const outdir = dirs.make();
      const t = createTboAwsApp({ outdir, context }).synth().getStackByName('TboAwsStack').template as Stacked;
      expect(runtimePlatform(t)).toEqual([{ CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' }]);
      expect(assetPlatforms(outdir)).toEqual(['linux/amd64']);
    }
  }, 240_000);

  it('refuses an architecture Fargate does not run, naming the key and the accepted values', () => {
    expect(() => createTboAwsApp({ outdir: dirs.make(), context: { cpuArchitecture: 'aarch64' } })).toThrow(
      expect.objectContaining({
        problems: ['TboAwsStack: context: received {"cpuArchitecture":"aarch64"}; accepted values of -c cpuArchitecture=…: x86_64, amd64, arm64 (x86_64 when not given)'],
      }),
    );
  });
});

describe('npx cdk synth (cdk.json)', () => {
  it('works offline with no credentials, and no secret in the shell environment reaches cdk.out', async () => {
    const outdir = dirs.make();
    const sentinel = 'sk-ant-TBO-CLI-SENTINEL-7d1e5c';
    const secretEnv = Object.fromEntries(Object.values(SECRET_ENV).map((name) => [name, `${sentinel}-${name}`]));
    const env: NodeJS.ProcessEnv = { ...process.env, ...secretEnv, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1' };
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']) delete env[name];
    const run = spawnSync('npx', ['cdk', 'synth', '--no-notices', '-o', outdir], { cwd: REPO, env, encoding: 'utf8', timeout: 240_000 });
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(existsSync(join(outdir, 'TboAwsStack.template.json'))).toBe(true);
    expect(readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toEqual(['TboAwsStack.template.json']);
    expect(run.stderr).toMatch(/serves plain HTTP/); // the synth warning reaches the user
    expect(filesContaining(outdir, sentinel)).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { environment?: string }> };
    expect(manifest.artifacts.TboAwsStack.environment).toBe('aws://unknown-account/unknown-region');
    const lint = await cfnLint([join(outdir, 'TboAwsStack.template.json')]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 300_000);
});
