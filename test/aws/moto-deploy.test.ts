import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { ADMIN_PORT, PROBE_PATHS, SERVICE_PORT } from '../../lib/core';
import { TboFargateService } from '../../lib/aws';
import { forMoto, MotoServer, motoSupport, type CfnTemplate } from './support/moto';
import { cfnLint } from './support/cfn-lint';
import { REGISTRY_IMAGE, registryImage, TempDirs, writeTemplate } from './support/synth';

const STACK = 'TboMoto';
let moto: MotoServer;
let template: CfnTemplate;
let serviceName = '';
let stackResources: { LogicalResourceId: string; ResourceType: string; ResourceStatus: string; PhysicalResourceId: string }[] = [];

beforeAll(async () => {
  // The registry-image variant (no Docker asset), with a synthesizer that needs no bootstrap stack.
  const app = new App();
  const stack = new Stack(app, STACK, { synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }) });
  ({ serviceName } = new TboFargateService(stack, 'Tbo', { image: registryImage() }));
  template = app.synth().getStackByName(STACK).template as typeof template;
  moto = await MotoServer.start();
}, 90_000);

const dirs = new TempDirs();
afterAll(async () => {
  await moto?.stop();
  dirs.cleanup();
});

describe('deploy on the moto CloudFormation emulator', () => {
  it('creates every resource moto models (CREATE_COMPLETE), after dropping the ones it does not', async () => {
    expect(template).not.toHaveProperty('Parameters.BootstrapVersion');
    expect(template).not.toHaveProperty('Rules');
    const support = motoSupport(template);
    // moto would list these as CREATE_COMPLETE while creating nothing (and fail policies that name a missing secret): drop them, explicitly.
    expect(support.unmodeled).toEqual([
      'AWS::ApplicationAutoScaling::ScalableTarget',
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      'AWS::CloudWatch::Alarm',
      'AWS::EC2::SecurityGroupEgress',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::ElastiCache::SubnetGroup',
      'AWS::S3::BucketPolicy',
      'AWS::SecretsManager::Secret',
    ]);
    // moto models target groups but cannot resolve Fn::GetAtt on them (the dashboard's TargetGroupFullName).
    expect(support.noGetAtt).toEqual(['AWS::ElasticLoadBalancingV2::TargetGroup']);
    const { template: deployable, dropped } = forMoto(template, support.unmodeled, support.noGetAtt);
    expect(dropped.map((d) => d.type).sort()).toEqual([
      'AWS::ApplicationAutoScaling::ScalableTarget',
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Alarm',
      'AWS::EC2::SecurityGroupEgress',
      'AWS::EC2::SecurityGroupEgress',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::ElastiCache::SubnetGroup',
      'AWS::S3::BucketPolicy',
      'AWS::SecretsManager::Secret',
      'AWS::SecretsManager::Secret',
      'AWS::SecretsManager::Secret',
      'AWS::SecretsManager::Secret',
      'AWS::SecretsManager::Secret',
    ]);
    const body = JSON.stringify(deployable);
    for (const { id } of dropped) {
      expect(body).not.toContain(`"Ref":"${id}"`);
      expect(body).not.toContain(`"Fn::GetAtt":["${id}"`);
      expect(body).not.toContain(`\${${id}`);
    }

    await moto.reset();
    moto.call('cloudformation', 'CreateStack', { StackName: STACK, TemplateBody: body, Capabilities: ['CAPABILITY_IAM'] });
    let status = '';
    let reason: unknown;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { Stacks } = moto.call<{ Stacks: { StackStatus: string; StackStatusReason?: string }[] }>('cloudformation', 'DescribeStacks', { StackName: STACK });
      ({ StackStatus: status, StackStatusReason: reason } = Stacks[0]);
      if (!status.endsWith('_IN_PROGRESS')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect({ status, reason }).toEqual({ status: 'CREATE_COMPLETE', reason: undefined });

    ({ StackResources: stackResources } = moto.call<{ StackResources: typeof stackResources }>('cloudformation', 'DescribeStackResources', { StackName: STACK }));
    const listed = Object.fromEntries(stackResources.map((r) => [r.LogicalResourceId, `${r.ResourceType} ${r.ResourceStatus}`]));
    const expected = Object.fromEntries(Object.entries(deployable.Resources).map(([id, r]) => [id, `${r.Type} CREATE_COMPLETE`]));
    expect(listed).toEqual(expected);
    expect(Object.keys(listed).length).toBeGreaterThanOrEqual(40);
  }, 180_000);

  it('deploys a template cfn-lint accepts with zero errors', async () => {
    const lint = await cfnLint([writeTemplate(dirs, STACK, template)]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 120_000);

  it('created the ECS service, its task and the load balancer as the construct described them', () => {
    const id = (type: string) => stackResources.filter((r) => r.ResourceType === type).map((r) => r.PhysicalResourceId);
    const [cluster] = id('AWS::ECS::Cluster');
    const [service] = id('AWS::ECS::Service');
    // (moto's CloudFormation model of a service keeps its desired count and task definition, not its launch type or load balancers)
    const { services } = moto.call<{ services: { desiredCount: number; taskDefinition: string }[] }>('ecs', 'DescribeServices', { cluster, services: [service] });
    // No DesiredCount in the template (autoscaling owns the count, so deploys keep it): moto's model then
    // reports 0, where ECS starts one task and registering the scalable target raises it to minCapacity.
    expect(Object.values(template.Resources).find((r) => r.Type === 'AWS::ECS::Service')?.Properties).not.toHaveProperty('DesiredCount');
    expect(services[0].desiredCount).toBe(0);
    type Container = { image: string; readonlyRootFilesystem: boolean; user: string; portMappings: { containerPort: number }[] };
    const { taskDefinition } = moto.call<{ taskDefinition: { memory: string; containerDefinitions: Container[] } }>('ecs', 'DescribeTaskDefinition', {
      taskDefinition: services[0].taskDefinition,
    });
    expect(taskDefinition).toMatchObject({
      memory: '1024',
      containerDefinitions: [{ image: REGISTRY_IMAGE, readonlyRootFilesystem: true, user: '1000:1000', portMappings: [{ containerPort: SERVICE_PORT }, { containerPort: ADMIN_PORT }] }],
    });
    // the container log group: named after the service and this stack's own id (a redeploy after destroy gets a fresh one)
    const { Stacks } = moto.call<{ Stacks: { StackId: string }[] }>('cloudformation', 'DescribeStacks', { StackName: STACK });
    const stackUuid = Stacks[0].StackId.split('/')[2];
    expect(id('AWS::Logs::LogGroup')).toContain(`/ecs/${serviceName}/${stackUuid.split('-')[0]}`);
    const { TargetGroups } = moto.call<{ TargetGroups: { HealthCheckPath: string; Port: number }[] }>('elbv2', 'DescribeTargetGroups', { TargetGroupArns: id('AWS::ElasticLoadBalancingV2::TargetGroup') });
    expect(TargetGroups[0]).toMatchObject({ HealthCheckPath: PROBE_PATHS.readiness, Port: SERVICE_PORT });
  }, 60_000);
});
