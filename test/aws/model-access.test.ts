import { App, Stack, Token, type StackProps } from 'aws-cdk-lib';
import { TboConfigValidationError } from '../../lib/core';
import { TboFargateService, type TboFargateServiceProps } from '../../lib/aws';
import { registryImage } from './support/synth';

const US_EAST_1: StackProps = { env: { region: 'us-east-1' } };

/** The problems of the validation error the construct throws (props are checked in the constructor). */
function problems(props: TboFargateServiceProps, stackProps: StackProps = US_EAST_1): string[] {
  try {
    new TboFargateService(new Stack(new App(), 'S', stackProps), 'Tbo', { image: registryImage(), redis: false, ...props });
  } catch (err) {
    expect(err).toBeInstanceOf(TboConfigValidationError);
    return [...(err as TboConfigValidationError).problems];
  }
  throw new Error('expected a TboConfigValidationError');
}

const bedrock = (b: NonNullable<NonNullable<TboFargateServiceProps['modelAccess']>['bedrock']>): TboFargateServiceProps => ({ modelAccess: { bedrock: b } });

describe('modelAccess.bedrock: synth-time checks name the prop, the value received and what is accepted', () => {
  it('refuses a bedrock: route the grant does not cover, naming modelAccess.bedrock.models and the missing model with the id it would invoke', () => {
    expect(problems({ config: { modelsStrongest: 'bedrock:claude-opus-4-1,bedrock:claude-sonnet-4-5' }, ...bedrock({ models: ['claude-sonnet-4-5'] }) })).toEqual([
      'TboFargateService: modelAccess.bedrock.models: received ["claude-sonnet-4-5"]; does not grant the bedrock: routes of claude-opus-4-1 (invoked as us.anthropic.claude-opus-4-1-20250805-v1:0); ' +
        'add it (the task role may invoke only granted models), or route it to another backend',
    ]);
  });

  it('refuses bedrock: routes with no modelAccess at all', () => {
    expect(problems({ config: { modelsFast: 'bedrock:claude-haiku-4-5', modelsBalanced: 'bedrock:claude-sonnet-4-5,openai:gpt-4o' } })).toEqual([
      expect.stringMatching(/^TboFargateService: modelAccess\.bedrock\.models: received undefined; does not grant the bedrock: routes of claude-haiku-4-5 \(invoked as us\.anthropic\.claude-haiku-4-5-20251001-v1:0\), claude-sonnet-4-5 \(invoked as us\.anthropic\.claude-sonnet-4-5-20250929-v1:0\); add them/),
    ]);
  });

  it('compares by the id the service invokes: a table entry that sends a granted name elsewhere is not granted', () => {
    const p = problems({
      config: { modelsBalanced: 'bedrock:claude-sonnet-4-5', bedrockModelIds: JSON.stringify({ 'claude-sonnet-4-5': 'anthropic.claude-sonnet-4-20250514-v1:0' }) },
      ...bedrock({ models: ['anthropic.claude-sonnet-4-5-20250929-v1:0'] }),
    });
    expect(p).toEqual([expect.stringContaining('does not grant the bedrock: routes of claude-sonnet-4-5 (invoked as us.anthropic.claude-sonnet-4-20250514-v1:0)')]);
  });

  it.each<[string, TboFargateServiceProps, StackProps, string[]]>([
    ['an unknown cross-region mode', bedrock({ models: ['claude-sonnet-4-5'], crossRegion: 'everywhere' as never }), US_EAST_1, ['TboFargateService: modelAccess.bedrock.crossRegion: received "everywhere"; accepted values: geo, global, none']],
    [
      'geo in a region with no geographic profile',
      bedrock({ models: ['claude-sonnet-4-5'] }),
      { env: { region: 'sa-east-1' } },
      ['TboFargateService: modelAccess.bedrock.crossRegion: received "geo"; region sa-east-1 has no geographic inference profile; accepted values: "geo" with a us-*, eu-*, ap-* or us-gov-* region, "global", "none"'],
    ],
    [
      'geo with a region unknown at synth',
      bedrock({ models: ['claude-sonnet-4-5'] }),
      {},
      [
        'TboFargateService: modelAccess.bedrock.region: received "(the stack\'s region, unknown at synth)"; crossRegion "geo" names the inference profile after the region\'s geography, so the region must be known at synth: ' +
          'set modelAccess.bedrock.region or the stack\'s env.region, or use crossRegion "global" or "none"',
      ],
    ],
    ['a region that is not one', bedrock({ models: ['claude-sonnet-4-5'], region: 'useast1' }), US_EAST_1, ['TboFargateService: modelAccess.bedrock.region: received "useast1"; must be an AWS Region such as us-east-1']],
    ['no model', bedrock({ models: [] }), US_EAST_1, [expect.stringMatching(/^TboFargateService: modelAccess\.bedrock\.models: received \[\]; must list at least one model/) as unknown as string]],
    [
      'a model known only at deploy',
      bedrock({ models: [Token.asString({ Ref: 'ModelId' })] }),
      US_EAST_1,
      ['TboFargateService: modelAccess.bedrock.models: received "(a deploy-time token)"; each must be a model name, Bedrock id or ARN known at synth: 1 to 2048 of A-Z a-z 0-9 . _ : / @ -'],
    ],
    [
      'a VPC endpoint for another Region\'s Bedrock',
      bedrock({ models: ['claude-sonnet-4-5'], region: 'us-west-2', vpcEndpoint: true }),
      US_EAST_1,
      ['TboFargateService: modelAccess.bedrock.vpcEndpoint: received true; an interface endpoint serves its own VPC\'s Region (us-east-1), not us-west-2; drop vpcEndpoint or set region to us-east-1'],
    ],
    [
      'destination Regions no geographic profile uses',
      bedrock({ models: ['claude-sonnet-4-5'], crossRegion: 'global', destinationRegions: ['us-east-2'] }),
      US_EAST_1,
      ['TboFargateService: modelAccess.bedrock.destinationRegions: received ["us-east-2"]; is unused: no granted model is served by a geographic inference profile (crossRegion "global"); remove it'],
    ],
    ['a destination that is not a Region', bedrock({ models: ['claude-sonnet-4-5'], destinationRegions: ['mars-1'] }), US_EAST_1, ['TboFargateService: modelAccess.bedrock.destinationRegions: received "mars-1"; each must be an AWS Region known at synth, such as us-east-2']],
    [
      'a profile of a geography with no default destinations',
      { config: { bedrockModelIds: JSON.stringify({ 'claude-sonnet-4-5': 'ca.anthropic.claude-sonnet-4-5-20250929-v1:0' }) }, ...bedrock({ models: ['claude-sonnet-4-5'], crossRegion: 'none' }) },
      { env: { region: 'ca-central-1' } },
      [
        'TboFargateService: modelAccess.bedrock.destinationRegions: received undefined; claude-sonnet-4-5 is served by the "ca." inference profile, whose Regions have no default here (known: us, us-gov, eu, apac, jp, au); list the Regions it routes to',
      ],
    ],
    [
      'a region different from config.bedrockRegion',
      { config: { bedrockRegion: 'us-west-2' }, ...bedrock({ models: ['claude-sonnet-4-5'], region: 'us-east-2' }) },
      US_EAST_1,
      ['TboFargateService: modelAccess.bedrock.region: received "us-east-2"; differs from config.bedrockRegion ("us-west-2"); both set TBO_BEDROCK_REGION, give one of them'],
    ],
    [
      'a cross-region mode different from config.bedrockCrossRegion',
      { config: { bedrockCrossRegion: 'none' }, ...bedrock({ models: ['claude-sonnet-4-5'], crossRegion: 'global' }) },
      US_EAST_1,
      ['TboFargateService: modelAccess.bedrock.crossRegion: received "global"; differs from config.bedrockCrossRegion ("none"); both set TBO_BEDROCK_CROSS_REGION, give one of them'],
    ],
  ])('%s', (_name, props, stackProps, expected) => {
    expect(problems(props, stackProps)).toEqual(expected);
  });

  it('takes the region and cross-region mode from the config when modelAccess does not set them', () => {
    const stack = new Stack(new App(), 'S', US_EAST_1);
    const tbo = new TboFargateService(stack, 'Tbo', {
      image: registryImage(),
      redis: false,
      config: { bedrockRegion: 'eu-west-1', bedrockCrossRegion: 'geo' },
      ...bedrock({ models: ['claude-sonnet-4-5'] }),
    });
    expect(tbo.bedrockModelGrants?.map((g) => g.modelId)).toEqual(['eu.anthropic.claude-sonnet-4-5-20250929-v1:0']);
    expect(tbo.serviceConfig).toMatchObject({ bedrockRegion: 'eu-west-1', bedrockCrossRegion: 'geo', modelsBalanced: 'bedrock:claude-sonnet-4-5,openai:gpt-4o' });
  });
});
