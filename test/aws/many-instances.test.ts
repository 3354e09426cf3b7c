import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SETTINGS, TBO_ALERT_RULES } from '../../lib/core';
import { TboFargateService } from '../../lib/aws';
import { cfnLint } from './support/cfn-lint';
import { registryImage, resourcesOfType, TempDirs, type Synthesized } from './support/synth';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** Properties that hold a physical name (unique per account and region, or per VPC / cluster). */
const PHYSICAL_NAMES = ['LogGroupName', 'AlarmName', 'DashboardName', 'ClusterName', 'ServiceName', 'Name', 'TopicName', 'BucketName', 'SecretName', 'ReplicationGroupId', 'CacheSubnetGroupName', 'PolicyName'];

interface TwoInstances {
  readonly app: App;
  readonly stack: Stack;
  readonly tbos: readonly TboFargateService[];
  readonly json: Synthesized['json'];
  readonly templateFile: string;
  readonly warnings: string[];
}

/** Two instances with every default in one stack (the second in the first's cluster), as a platform team composes them. */
function twoInstances(): TwoInstances {
  const outdir = dirs.make();
  const app = new App({ outdir });
  const stack = new Stack(app, 'TestStack');
  const first = new TboFargateService(stack, 'Tbo', { image: registryImage() });
  const second = new TboFargateService(stack, 'Second', { image: registryImage(), existingCluster: first.cluster });
  const artifact = app.synth().getStackByName('TestStack');
  return {
    app,
    stack,
    tbos: [first, second],
    json: artifact.template as Synthesized['json'],
    templateFile: join(outdir, artifact.templateFile),
    warnings: artifact.messages.filter((m) => m.level === 'warning').map((m) => `${m.id}: ${String(m.entry.data)}`),
  };
}

let t: TwoInstances;
beforeAll(() => {
  t = twoInstances();
}, 120_000);

const logicalId = (c: { node: { defaultChild?: unknown } }) => t.stack.getLogicalId(c.node.defaultChild as never);
const propsOf = (c: { node: { defaultChild?: unknown } }) => t.json.Resources[logicalId(c)].Properties!;
const envOf = (tbo: TboFargateService) => {
  const [container] = propsOf(tbo.taskDefinition).ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[];
  return Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
};

describe('two instances of TboFargateService in one stack', () => {
  it('get distinct service names, derived from their construct paths and the same in every synth', () => {
    const names = t.tbos.map((tbo) => tbo.serviceName);
    expect(names).toEqual([expect.stringMatching(/^TestStack-Tbo-[0-9A-F]{8}$/), expect.stringMatching(/^TestStack-Second-[0-9A-F]{8}$/)]);
    expect(twoInstances().tbos.map((tbo) => tbo.serviceName)).toEqual(names);
    expect(t.tbos.map((tbo) => envOf(tbo)[SETTINGS.serviceName.env])).toEqual(names); // the EMF Service dimension each task writes
  });

  it('share no physical name: log groups, alarms, scaling policies, every other named resource', () => {
    const named = Object.entries(t.json.Resources).flatMap(([id, r]) =>
      PHYSICAL_NAMES.filter((key) => r.Properties?.[key] !== undefined).map((key) => ({ id, type: r.Type, key, name: JSON.stringify(r.Properties![key]) })),
    );
    const seen = new Map<string, string>();
    const duplicates = named.filter(({ id, key, name }) => {
      const first = seen.get(`${key}=${name}`);
      seen.set(`${key}=${name}`, id);
      return first !== undefined;
    });
    expect(duplicates).toEqual([]);
    expect(named.filter((n) => n.type === 'AWS::Logs::LogGroup' && n.key === 'LogGroupName')).toHaveLength(2); // the container log groups (the flow logs' is named by CloudFormation)
    expect(named.filter((n) => n.type === 'AWS::CloudWatch::Alarm' && n.key === 'AlarmName')).toHaveLength(2 * (TBO_ALERT_RULES.length + 1));
    for (const tbo of t.tbos) expect(JSON.stringify(propsOf(tbo.logGroup).LogGroupName)).toContain(`"/ecs/${tbo.serviceName}/"`);
  });

  it('each alarm watches only its own service, and is named after it', () => {
    for (const tbo of t.tbos) {
      for (const alarm of [...tbo.alarms, tbo.overheadAlarm]) {
        expect(propsOf(alarm)).toMatchObject({ AlarmName: expect.stringMatching(new RegExp(`^${tbo.serviceName}-TBO`)), Dimensions: [{ Name: 'Service', Value: tbo.serviceName }] });
      }
    }
    // every alarm and EMF scaling policy in the stack belongs to exactly one of them
    const emfDimensions = [
      ...Object.values(resourcesOfType(t.json, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!.Dimensions),
      ...Object.values(resourcesOfType(t.json, 'AWS::ApplicationAutoScaling::ScalingPolicy'))
        .map((p) => (p.Properties!.TargetTrackingScalingPolicyConfiguration as { CustomizedMetricSpecification?: { Dimensions: unknown } }).CustomizedMetricSpecification?.Dimensions)
        .filter(Boolean),
    ];
    expect(emfDimensions).toHaveLength(2 * (TBO_ALERT_RULES.length + 2));
    const counts = t.tbos.map((tbo) => emfDimensions.filter((d) => JSON.stringify(d) === JSON.stringify([{ Name: 'Service', Value: tbo.serviceName }])).length);
    expect(counts).toEqual([TBO_ALERT_RULES.length + 2, TBO_ALERT_RULES.length + 2]);
  });

  it('keep the first instance\'s logical ids as a single instance has them (the second only adds its own)', () => {
    const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'default-logical-ids.json'), 'utf8')) as Record<string, string>;
    const first = Object.fromEntries(Object.entries(t.json.Resources).filter(([id]) => id.startsWith('Tbo')).map(([id, r]) => [id, r.Type]));
    expect(first).toEqual(fixture);
    expect(Object.keys(t.json.Resources).every((id) => id.startsWith('Tbo') || id.startsWith('Second') || id === 'CDKMetadata')).toBe(true);
  });

  it('synthesize with no warning but the plain-HTTP one each, and pass cfn-lint (no E3019 duplicate names) and cdk-nag', async () => {
    expect(t.warnings).toEqual([expect.stringMatching(/^\/TestStack\/Tbo: .*serves plain HTTP/), expect.stringMatching(/^\/TestStack\/Second: .*serves plain HTTP/)]);
    expect(new AwsSolutionsChecks().validateScope(t.app).violations).toEqual([]);
    const lint = await cfnLint([t.templateFile]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
    expect(lint.statuses.every((st) => st === 0)).toBe(true);
  }, 180_000);
});
