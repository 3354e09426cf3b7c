import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { ADMIN_PORT, PROBE_PATHS, SERVICE_PORT } from '../../lib/core';
import { TboFargateService, type TboFargateServiceProps } from '../../lib/aws';
import { forMoto, MOTO_ACCOUNT, MOTO_REGION, MotoServer, motoSupport, type CfnTemplate } from './support/moto';
import { cfnLint } from './support/cfn-lint';
import { REGISTRY_IMAGE, registryImage, TempDirs, writeTemplate } from './support/synth';

const STACK = 'TboMoto';
const BEDROCK_STACK = 'TboMotoBedrock';
let moto: MotoServer;
let template: CfnTemplate;
let bedrockTemplate: CfnTemplate;
let serviceName = '';
type StackResource = { LogicalResourceId: string; ResourceType: string; ResourceStatus: string; PhysicalResourceId: string };
let stackResources: StackResource[] = [];

/** Every route on Bedrock (no provider key), the us. profiles and the bedrock-runtime VPC endpoint. */
const BEDROCK_PROPS: TboFargateServiceProps = {
  config: {
    modelsFast: 'bedrock:claude-haiku-4-5',
    modelsBalanced: 'bedrock:claude-sonnet-4-5,bedrock:claude-haiku-4-5',
    modelsStrongest: 'bedrock:claude-opus-4-1,bedrock:claude-sonnet-4-5',
  },
  modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'], region: MOTO_REGION, vpcEndpoint: true } },
};

beforeAll(async () => {
  // The registry-image variant (no Docker asset), with a synthesizer that needs no bootstrap stack.
  const app = new App();
  const synthesizer = () => new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });
  ({ serviceName } = new TboFargateService(new Stack(app, STACK, { synthesizer: synthesizer() }), 'Tbo', { image: registryImage() }));
  new TboFargateService(new Stack(app, BEDROCK_STACK, { synthesizer: synthesizer() }), 'Tbo', { image: registryImage(), ...BEDROCK_PROPS });
  const assembly = app.synth();
  template = assembly.getStackByName(STACK).template as typeof template;
  bedrockTemplate = assembly.getStackByName(BEDROCK_STACK).template as typeof template;
  moto = await MotoServer.start();
}, 90_000);

/** Creates the stack on a reset moto and waits for it to settle; returns its final status and reason. */
async function createOnMoto(name: string, body: string): Promise<{ status: string; reason: unknown }> {
  await moto.reset();
  moto.call('cloudformation', 'CreateStack', { StackName: name, TemplateBody: body, Capabilities: ['CAPABILITY_IAM'] });
  let status = '';
  let reason: unknown;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { Stacks } = moto.call<{ Stacks: { StackStatus: string; StackStatusReason?: string }[] }>('cloudformation', 'DescribeStacks', { StackName: name });
    ({ StackStatus: status, StackStatusReason: reason } = Stacks[0]);
    if (!status.endsWith('_IN_PROGRESS')) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { status, reason };
}

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

    expect(await createOnMoto(STACK, body)).toEqual({ status: 'CREATE_COMPLETE', reason: undefined });

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

describe('deploy with modelAccess (every route on Bedrock, the bedrock-runtime VPC endpoint) on the moto CloudFormation emulator', () => {
  let resources: StackResource[] = [];

  it('creates every resource moto models (CREATE_COMPLETE), with no provider key secret to drop', async () => {
    const support = motoSupport(bedrockTemplate);
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
    const { template: deployable, dropped } = forMoto(bedrockTemplate, support.unmodeled, support.noGetAtt);
    // three secrets (the JWT key, the cache signing key, the Redis AUTH token): no Anthropic or OpenAI key
    expect(dropped.filter((d) => d.type === 'AWS::SecretsManager::Secret').map((d) => d.id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['TboCacheSigningKey', 'TboJwtSecret', 'TboRedisAuthToken']);
    expect(await createOnMoto(BEDROCK_STACK, JSON.stringify(deployable))).toEqual({ status: 'CREATE_COMPLETE', reason: undefined });
    ({ StackResources: resources } = moto.call<{ StackResources: StackResource[] }>('cloudformation', 'DescribeStackResources', { StackName: BEDROCK_STACK }));
    const listed = Object.fromEntries(resources.map((r) => [r.LogicalResourceId, `${r.ResourceType} ${r.ResourceStatus}`]));
    expect(listed).toEqual(Object.fromEntries(Object.entries(deployable.Resources).map(([id, r]) => [id, `${r.Type} CREATE_COMPLETE`])));
    expect(Object.values(listed)).toEqual(expect.arrayContaining(['AWS::IAM::Policy CREATE_COMPLETE', 'AWS::EC2::VPCEndpoint CREATE_COMPLETE']));
  }, 180_000);

  it('attached the Bedrock policy to the task role: the two invoke actions on the us. profiles and their models in each US Region', () => {
    const physical = (logicalPrefix: string, type: string) => resources.filter((r) => r.ResourceType === type && r.LogicalResourceId.startsWith(logicalPrefix)).map((r) => r.PhysicalResourceId);
    const [taskRole] = physical('TboTaskDefinitionTaskRole', 'AWS::IAM::Role');
    const policy = Object.entries(bedrockTemplate.Resources).find(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('TboBedrockInvokePolicy'))!;
    const policyName = (policy[1].Properties as { PolicyName: string }).PolicyName;
    // the task role has this one inline policy, nothing else
    const { PolicyNames } = moto.call<{ PolicyNames: string[] }>('iam', 'ListRolePolicies', { RoleName: taskRole });
    expect(PolicyNames).toEqual([policyName]);
    const { PolicyDocument } = moto.call<{ PolicyDocument: string | { Statement: { Action: string[]; Resource: string[] }[] } }>('iam', 'GetRolePolicy', { RoleName: taskRole, PolicyName: policyName });
    const doc = typeof PolicyDocument === 'string' ? (JSON.parse(decodeURIComponent(PolicyDocument)) as { Statement: { Action: string[]; Resource: string[] }[] }) : PolicyDocument;
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0].Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    const expected = ['anthropic.claude-haiku-4-5-20251001-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-opus-4-1-20250805-v1:0'].flatMap((id) => [
      `arn:aws:bedrock:${MOTO_REGION}:${MOTO_ACCOUNT}:inference-profile/us.${id}`,
      ...['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'].map((region) => `arn:aws:bedrock:${region}::foundation-model/${id}`),
    ]);
    expect([...doc.Statement[0].Resource].sort()).toEqual(expected.sort());
  });

  it('created the bedrock-runtime interface endpoint with private DNS', () => {
    const [endpointId] = resources.filter((r) => r.ResourceType === 'AWS::EC2::VPCEndpoint').map((r) => r.PhysicalResourceId);
    const { VpcEndpoints } = moto.call<{ VpcEndpoints: { ServiceName: string; VpcEndpointType: string; PrivateDnsEnabled: boolean; SubnetIds: string[] }[] }>('ec2', 'DescribeVpcEndpoints', { VpcEndpointIds: [endpointId] });
    expect(VpcEndpoints).toEqual([expect.objectContaining({ ServiceName: `com.amazonaws.${MOTO_REGION}.bedrock-runtime`, VpcEndpointType: 'Interface', PrivateDnsEnabled: true })]);
    expect(VpcEndpoints[0].SubnetIds).toHaveLength(2);
  });

  it('deploys a template cfn-lint accepts with zero errors and warnings', async () => {
    const lint = await cfnLint([writeTemplate(dirs, BEDROCK_STACK, bedrockTemplate)]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 120_000);
});
