import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SECRET_ENV, SETTINGS, type TboServiceConfig } from '../../lib/core';
import { BEDROCK_INVOKE_ACTIONS, type TboFargateServiceProps } from '../../lib/aws';
import { parseRouteList } from '../../service/src/config/backends';
import { loadConfig } from '../../service/src/config/load';
import { modelResolver } from '../../service/src/config/model-ids';
import { bedrockStatements, cfnText, modelArn, profileArn, resourceArns } from './support/bedrock';
import { cfnLint } from './support/cfn-lint';
import { envOf, onlyResource, registryImage, resourcesOfType, secretsOf, synthTbo, TempDirs, type Synthesized } from './support/synth';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const US_EAST_1: StackProps = { env: { region: 'us-east-1' } };
const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const OPUS = 'anthropic.claude-opus-4-1-20250805-v1:0';
/** Every tier on Bedrock: no public API is called. */
const ALL_ON_BEDROCK: TboServiceConfig = {
  modelsFast: 'bedrock:claude-haiku-4-5',
  modelsBalanced: 'bedrock:claude-sonnet-4-5,bedrock:claude-haiku-4-5',
  modelsStrongest: 'bedrock:claude-opus-4-1,bedrock:claude-sonnet-4-5',
};

function synth(props: TboFargateServiceProps, stackProps: StackProps = US_EAST_1): Synthesized {
  return synthTbo(dirs, { image: registryImage(), redis: false, ...props }, stackProps);
}

/** The one Bedrock statement of the template (fails unless there is exactly one, on the task role). */
function theStatement(s: Synthesized) {
  const found = bedrockStatements(s.json);
  expect(found).toHaveLength(1);
  const taskRole = s.stack.getLogicalId(s.tbo.taskDefinition.taskRole.node.defaultChild as never);
  expect(found[0].roles).toEqual([{ Ref: taskRole }]);
  return found[0].statement;
}

describe('modelAccess.bedrock: the task role gets exactly the model access it routes to', () => {
  it('in-Region (crossRegion none): the foundation-model ARN in the Region, and nothing else', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-3-5-haiku'], crossRegion: 'none' } } }, { env: { region: 'us-west-2' } });
    const statement = theStatement(s);
    expect(statement.Effect).toBe('Allow');
    expect(statement.Action).toEqual([...BEDROCK_INVOKE_ACTIONS]);
    expect(statement.Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    expect(resourceArns(statement)).toEqual([modelArn('us-west-2', 'anthropic.claude-3-5-haiku-20241022-v1:0')]);
  });

  it('geographic (us-east-1, the default geo): the us. profile in us-east-1 and the model in every US destination Region', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-sonnet-4-5'] } } });
    const statement = theStatement(s);
    expect(statement.Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    expect(resourceArns(statement)).toEqual(
      [
        profileArn('us-east-1', `us.${SONNET}`),
        modelArn('us-east-1', SONNET),
        modelArn('us-east-2', SONNET),
        modelArn('us-west-1', SONNET),
        modelArn('us-west-2', SONNET),
      ].sort(),
    );
    expect(s.tbo.bedrockModelGrants?.map((g) => [g.model, g.modelId, g.resourceArns.map((a) => cfnText(s.stack.resolve(a))).sort()])).toEqual([['claude-sonnet-4-5', `us.${SONNET}`, resourceArns(statement)]]);
  });

  it('geographic with destinationRegions: the profile in the source Region, the model in the source Region and each listed one', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-haiku-4-5'], destinationRegions: ['eu-central-1', 'eu-west-3'] } } }, { env: { region: 'eu-west-1' } });
    expect(resourceArns(theStatement(s))).toEqual(
      [profileArn('eu-west-1', `eu.${HAIKU}`), modelArn('eu-west-1', HAIKU), modelArn('eu-central-1', HAIKU), modelArn('eu-west-3', HAIKU)].sort(),
    );
  });

  it('global: the global profile and the model in the source Region, and the Region-less model ARN AWS requires for global routing', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-sonnet-4-5'], crossRegion: 'global' } } });
    expect(resourceArns(theStatement(s))).toEqual(
      [profileArn('us-east-1', `global.${SONNET}`), modelArn('us-east-1', SONNET), `arn:\${AWS::Partition}:bedrock:::foundation-model/${SONNET}`].sort(),
    );
  });

  it('global in an environment-agnostic stack: every ARN and TBO_BEDROCK_REGION take the deploy-time Region', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-sonnet-4-5'], crossRegion: 'global' } } }, {});
    expect(resourceArns(theStatement(s))).toEqual(
      [profileArn('${AWS::Region}', `global.${SONNET}`), modelArn('${AWS::Region}', SONNET), `arn:\${AWS::Partition}:bedrock:::foundation-model/${SONNET}`].sort(),
    );
    expect(envOf(s.json)[SETTINGS.bedrockRegion.env]).toEqual({ Ref: 'AWS::Region' });
    expect(envOf(s.json)[SETTINGS.bedrockCrossRegion.env]).toBe('global');
  });

  it('grants ARN-valued ids of the model table, and ARNs listed as models, exactly as given', () => {
    const appProfile = 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6';
    const s = synth({
      config: { bedrockModelIds: JSON.stringify({ 'claude-sonnet-4-5': appProfile }), modelsBalanced: 'bedrock:claude-sonnet-4-5' },
      modelAccess: { bedrock: { models: ['claude-sonnet-4-5', `arn:aws:bedrock:us-east-1::foundation-model/${SONNET}`] } },
    });
    expect(resourceArns(theStatement(s))).toEqual([appProfile, `arn:aws:bedrock:us-east-1::foundation-model/${SONNET}`].sort());
  });

  it('names no wildcard anywhere in the policy, one statement for several models, each ARN once', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1', 'claude-sonnet-4-5'] } } });
    const statement = theStatement(s);
    const arns = resourceArns(statement);
    expect(arns).toHaveLength(3 * 5);
    expect(new Set(arns).size).toBe(arns.length);
    expect(JSON.stringify(statement)).not.toContain('*');
    for (const id of [HAIKU, SONNET, OPUS]) expect(arns).toContain(profileArn('us-east-1', `us.${id}`));
    expect(s.tbo.bedrockPolicy).toBeDefined();
    // the service is created after the grant, so no task runs without it
    expect(onlyResource(s.json, 'AWS::ECS::Service').props).toBeDefined();
    const serviceId = Object.entries(resourcesOfType(s.json, 'AWS::ECS::Service'))[0][0];
    expect(s.json.Resources[serviceId].DependsOn).toContain(s.stack.getLogicalId(s.tbo.bedrockPolicy!.node.defaultChild as never));
  });

  it('grants nothing Bedrock without modelAccess (the default deployment)', () => {
    const s = synth({});
    expect(bedrockStatements(s.json)).toEqual([]);
    expect(s.tbo.bedrockPolicy).toBeUndefined();
    expect(s.tbo.bedrockModelGrants).toBeUndefined();
  });
});

describe('modelAccess.bedrock: the routing rendered matches the grant', () => {
  it('moves each default tier\'s granted anthropic: entry to bedrock: in place, and renders the Region and cross-region mode', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-sonnet-4-5'] } } });
    const env = envOf(s.json);
    expect(env[SETTINGS.modelsFast.env]).toBe('anthropic:claude-haiku-4-5,openai:gpt-4o-mini'); // not granted: stays on the API
    expect(env[SETTINGS.modelsBalanced.env]).toBe('bedrock:claude-sonnet-4-5,openai:gpt-4o');
    expect(env[SETTINGS.modelsStrongest.env]).toBe('anthropic:claude-opus-4-1,openai:gpt-4.1');
    expect(env[SETTINGS.bedrockRegion.env]).toBe('us-east-1');
    expect(env[SETTINGS.bedrockCrossRegion.env]).toBe('geo');
    // the Anthropic API is still routed to, so its key is still there
    expect(secretsOf(s.json)).toHaveProperty(SECRET_ENV.anthropicApiKey);
    expect(s.tbo.serviceConfig.modelsBalanced).toBe('bedrock:claude-sonnet-4-5,openai:gpt-4o');
  });

  it('moves a default entry whose model resolves to a granted Bedrock id, however the grant names it', () => {
    const s = synth({ modelAccess: { bedrock: { models: [SONNET, `us.${HAIKU}`] } } });
    const env = envOf(s.json);
    expect(env[SETTINGS.modelsFast.env]).toBe('bedrock:claude-haiku-4-5,openai:gpt-4o-mini');
    expect(env[SETTINGS.modelsBalanced.env]).toBe('bedrock:claude-sonnet-4-5,openai:gpt-4o');
  });

  it('keeps the tiers the config sets', () => {
    const s = synth({ config: { modelsFast: 'anthropic:claude-haiku-4-5' }, modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5'] } } });
    const env = envOf(s.json);
    expect(env[SETTINGS.modelsFast.env]).toBe('anthropic:claude-haiku-4-5');
    expect(env[SETTINGS.modelsBalanced.env]).toBe('bedrock:claude-sonnet-4-5,openai:gpt-4o');
  });

  it.each<[string, TboFargateServiceProps, StackProps]>([
    ['geo', { modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'] } } }, US_EAST_1],
    ['global', { modelAccess: { bedrock: { models: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'], crossRegion: 'global' } } }, US_EAST_1],
    ['none', { config: { modelsFast: 'bedrock:claude-3-5-haiku' }, modelAccess: { bedrock: { models: ['claude-3-5-haiku', 'claude-3-7-sonnet'], crossRegion: 'none' } } }, { env: { region: 'us-west-2' } }],
    ['geo with a model id table', { config: { ...ALL_ON_BEDROCK, bedrockModelIds: JSON.stringify({ 'claude-opus-4-1': `eu.${OPUS}` }) }, modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'] } } }, { env: { region: 'eu-central-1' } }],
  ])('%s: the service, loading the rendered environment, invokes only ids the policy allows', (_name, props, stackProps) => {
    const s = synth(props, stackProps);
    const region = stackProps.env!.region!;
    // what ECS gives the container: the rendered environment, and the task's Region
    const env: NodeJS.ProcessEnv = { AWS_REGION: region, ...Object.fromEntries(Object.entries(envOf(s.json)).filter((e): e is [string, string] => typeof e[1] === 'string')) };
    const config = loadConfig(env);
    const resolve = modelResolver(config, env);
    const routes = [config.modelsFast, config.modelsBalanced, config.modelsStrongest].flatMap((list) => parseRouteList(list)).filter((r) => r.backend === 'bedrock');
    expect(routes.length).toBeGreaterThan(0);
    const allowed = resourceArns(theStatement(s));
    for (const { model } of routes) {
      const id = resolve('bedrock', model);
      const profile = /^(us|eu|apac|us-gov|jp|au|ca|global)\.(.+)$/.exec(id);
      if (profile) {
        expect(allowed).toContain(profileArn(region, id));
        expect(allowed).toContain(modelArn(region, profile[2]));
        if (profile[1] === 'global') expect(allowed).toContain(`arn:\${AWS::Partition}:bedrock:::foundation-model/${profile[2]}`);
        else expect(allowed.filter((a) => a.endsWith(`::foundation-model/${profile[2]}`)).length).toBeGreaterThan(1);
      } else {
        expect(allowed).toContain(modelArn(region, id));
      }
    }
  });
});

describe('modelAccess.bedrock: no API key the routing does not use', () => {
  it('creates no Anthropic or OpenAI key secret, injects neither key, and outputs no fill command when every route is on Bedrock', () => {
    const s = synth({ config: ALL_ON_BEDROCK, modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'] } } });
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.anthropicApiKey);
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.openaiApiKey);
    expect(Object.keys(secretsOf(s.json)).sort()).toEqual([SECRET_ENV.jwtSecretKey]);
    expect(s.tbo.anthropicApiKeySecret).toBeUndefined();
    expect(s.tbo.openAiApiKeySecret).toBeUndefined();
    expect(s.tbo.node.tryFindChild('AnthropicApiKey')).toBeUndefined();
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 1); // the JWT key (no Redis here)
    expect(Object.keys(s.json.Outputs ?? {}).filter((k) => k.includes('FillCommand'))).toEqual([]);
    expect(JSON.stringify(s.json)).not.toContain('ANTHROPIC_API_KEY');
  });

  it('creates the OpenAI key when openAi is true even with no openai: route', () => {
    const s = synth({ config: ALL_ON_BEDROCK, openAi: true, modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'] } } });
    expect(secretsOf(s.json)).toHaveProperty(SECRET_ENV.openaiApiKey);
    expect(secretsOf(s.json)).not.toHaveProperty(SECRET_ENV.anthropicApiKey);
  });

  it('keeps the logical id of every resource the default deployment has (only the unused key secrets go)', () => {
    const expected = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'default-logical-ids.json'), 'utf8')) as Record<string, string>;
    const s = synthTbo(dirs, { config: ALL_ON_BEDROCK, modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'], vpcEndpoint: true } } }, US_EAST_1);
    const actual = Object.fromEntries(Object.entries(s.json.Resources).map(([id, r]) => [id, r.Type]));
    const { TboAnthropicApiKeyF2D9D387, TboOpenAiApiKey19D14950, ...kept } = expected;
    expect([TboAnthropicApiKeyF2D9D387, TboOpenAiApiKey19D14950]).toEqual(['AWS::SecretsManager::Secret', 'AWS::SecretsManager::Secret']);
    expect(actual).toEqual(expect.objectContaining(kept));
    expect(actual).not.toHaveProperty('TboAnthropicApiKeyF2D9D387');
    const added = Object.keys(actual).filter((id) => !(id in expected)).map((id) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(added.sort()).toEqual(
      ['TboBedrockInvokePolicy', 'TboBedrockRuntimeEndpoint', 'TboBedrockRuntimeEndpointSecurityGroup', 'TboBedrockRuntimeEndpointSecurityGroupfromTestStackTboServiceSecurityGroup829721FB443'].sort(),
    );
  }, 60_000);
});

describe('modelAccess.bedrock: the network path to Bedrock Runtime', () => {
  it('keeps the tasks\' egress as restricted as before: HTTPS only, to anywhere (the public APIs and Bedrock Runtime alike)', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-sonnet-4-5'] } } });
    const sg = s.json.Resources[s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never)].Properties!;
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    expect(s.tbo.bedrockRuntimeEndpoint).toBeUndefined();
    s.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it('opens the port of a configured Bedrock endpoint that is not 443', () => {
    const s = synth({ config: { bedrockEndpoint: 'https://bedrock-proxy.internal.example:8443' }, modelAccess: { bedrock: { models: ['claude-sonnet-4-5'] } } });
    const sg = s.json.Resources[s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never)].Properties!;
    expect((sg.SecurityGroupEgress as { FromPort: number }[]).map((e) => e.FromPort).sort()).toEqual([443, 8443]);
  });

  it('vpcEndpoint: an interface endpoint for bedrock-runtime with private DNS in the task subnets, open only to the tasks on 443', () => {
    const s = synth({ modelAccess: { bedrock: { models: ['claude-sonnet-4-5'], vpcEndpoint: true } } });
    const { id, props } = onlyResource(s.json, 'AWS::EC2::VPCEndpoint');
    const sgId = s.stack.getLogicalId(s.tbo.bedrockRuntimeEndpointSecurityGroup!.node.defaultChild as never);
    const serviceSg = s.stack.getLogicalId(s.tbo.serviceSecurityGroup.node.defaultChild as never);
    expect(id).toBe(s.stack.getLogicalId(s.tbo.bedrockRuntimeEndpoint!.node.defaultChild as never));
    expect(props).toEqual({
      ServiceName: 'com.amazonaws.us-east-1.bedrock-runtime',
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      VpcId: { Ref: s.stack.getLogicalId(s.tbo.vpc.node.defaultChild as never) },
      SubnetIds: s.tbo.vpc.privateSubnets.map((sn) => ({ Ref: s.stack.getLogicalId(sn.node.defaultChild as never) })),
      SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
    });
    // in: only the tasks, only 443; out: nothing (CDK's "no egress" rule)
    const sg = s.json.Resources[sgId].Properties!;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    const ingress = Object.values(resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties!).filter((p) => JSON.stringify(p.GroupId).includes(sgId));
    expect(ingress).toEqual([{ GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] }, SourceSecurityGroupId: { 'Fn::GetAtt': [serviceSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: 'HTTPS from the TBO tasks' }]);
    // private DNS answers on the default name: the service needs no endpoint setting
    expect(envOf(s.json)).not.toHaveProperty(SETTINGS.bedrockEndpoint.env);
  });
});

describe('modelAccess.bedrock: checks', () => {
  it.each<[string, TboFargateServiceProps, StackProps]>([
    ['geo with a VPC endpoint', { config: ALL_ON_BEDROCK, modelAccess: { bedrock: { models: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'], vpcEndpoint: true } } }, US_EAST_1],
    ['global, environment-agnostic', { modelAccess: { bedrock: { models: ['claude-sonnet-4-5', 'claude-haiku-4-5'], crossRegion: 'global' } } }, {}],
  ])('%s: zero unacknowledged cdk-nag findings (no wildcard for AwsSolutions-IAM5) and a template cfn-lint accepts', async (_name, props, stackProps) => {
    const s = synthTbo(dirs, props, stackProps);
    expect(new AwsSolutionsChecks().validateScope(s.app).violations).toEqual([]);
    const lint = await cfnLint([s.templateFile]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 180_000);

  it('warns at synth about a granted model no route uses', () => {
    const s = synth({ config: { modelsStrongest: 'anthropic:claude-opus-4-1' }, modelAccess: { bedrock: { models: ['claude-opus-4-1', 'claude-sonnet-4-5'] } } });
    expect(s.warnings.filter((w) => w.includes('modelAccess.bedrock.models'))).toEqual([
      expect.stringMatching(/grants claude-opus-4-1, which no bedrock: route uses/),
    ]);
  });
});
