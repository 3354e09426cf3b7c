import { Token } from 'aws-cdk-lib';
import {
  BEDROCK_CROSS_REGION,
  bedrockGeography,
  bedrockGrants,
  bedrockTiers,
  isAwsRegionName,
  SETTINGS,
  type BedrockCrossRegion,
  type BedrockGrant,
  type BedrockResolution,
  type PropValidator,
  type TboServiceConfig,
} from '../core';
import type { TboBedrockModelAccess } from './props';

const PROP = 'modelAccess.bedrock';
/** Bedrock ids and ARNs as the service's `TBO_BEDROCK_MODEL_IDS` accepts them. */
const MODEL_REF = /^[A-Za-z0-9._:/@-]{1,2048}$/;

/** Bedrock access with every default filled in: what the task role is granted and how the service resolves model ids. */
export interface ResolvedBedrockAccess {
  /** The Region (a deploy-time token only with `global` or `none`), cross-region mode and model id table the service resolves with. */
  readonly resolution: BedrockResolution;
  /** What each granted model needs. */
  readonly grants: readonly BedrockGrant[];
  readonly vpcEndpoint: boolean;
  /** Whether `resolution.region` is known at synth (else `TBO_BEDROCK_REGION` is rendered as the token). */
  readonly regionKnown: boolean;
}

/** What `modelAccess` renders into the container's config, and the access it grants. */
export interface ModelAccessRendering {
  /** Settings over the user's config: the routing tiers and the Bedrock Region and cross-region mode. */
  readonly config: TboServiceConfig;
  /** undefined without `modelAccess.bedrock`. */
  readonly bedrock?: ResolvedBedrockAccess;
}

/** The user's `bedrockModelIds` table, or none when it is invalid (the config's own validation reports it). */
function modelIdsOf(config: TboServiceConfig): Record<string, string> {
  const parsed = SETTINGS.bedrockModelIds.schema.safeParse(config.bedrockModelIds);
  return parsed.success ? (JSON.parse(parsed.data) as Record<string, string>) : {};
}

/** A setting given both in `modelAccess.bedrock` and in `config` must agree. */
function agree(v: PropValidator, field: string, fromProp: string | undefined, configName: string, fromConfig: string | undefined): string | undefined {
  v.check(
    fromProp === undefined || fromConfig === undefined || fromProp === fromConfig,
    `${PROP}.${field}`,
    fromProp,
    `differs from config.${configName} (${JSON.stringify(fromConfig)}); both set TBO_BEDROCK_${configName === 'bedrockRegion' ? 'REGION' : 'CROSS_REGION'}, give one of them`,
  );
  return fromProp ?? fromConfig;
}

/**
 * Validates `modelAccess.bedrock`, computes what each model needs with the service's own
 * resolution, and renders the routing to match. `stackRegion` is the stack's region (a token for
 * an environment-agnostic stack).
 */
export function resolveModelAccess(access: TboBedrockModelAccess | undefined, userConfig: TboServiceConfig, stackRegion: string, v: PropValidator): ModelAccessRendering {
  if (!access) return { config: {} };
  const models = access.models ?? [];
  v.check(Array.isArray(models) && models.length > 0, `${PROP}.models`, access.models, 'must list at least one model: a client model name (claude-sonnet-4-5), a Bedrock model id, an inference-profile id or an ARN');
  for (const model of models) {
    const known = typeof model === 'string' && !Token.isUnresolved(model);
    v.check(known && MODEL_REF.test(model), `${PROP}.models`, known ? model : '(a deploy-time token)', 'each must be a model name, Bedrock id or ARN known at synth: 1 to 2048 of A-Z a-z 0-9 . _ : / @ -');
  }
  if (access.region !== undefined && !Token.isUnresolved(access.region)) {
    v.check(isAwsRegionName(access.region), `${PROP}.region`, access.region, 'must be an AWS Region such as us-east-1');
  }
  v.oneOf(`${PROP}.crossRegion`, access.crossRegion, BEDROCK_CROSS_REGION);

  const region = agree(v, 'region', access.region, 'bedrockRegion', userConfig.bedrockRegion) ?? stackRegion;
  const crossRegion = agree(v, 'crossRegion', access.crossRegion, 'bedrockCrossRegion', userConfig.bedrockCrossRegion) ?? 'geo';
  const regionKnown = !Token.isUnresolved(region);
  const vpcEndpoint = access.vpcEndpoint ?? false;
  // what the service can resolve with: a Region name (or a deploy-time one) and a known mode
  const usable = (!regionKnown || isAwsRegionName(region)) && (BEDROCK_CROSS_REGION as readonly string[]).includes(crossRegion);

  if (access.destinationRegions !== undefined) {
    v.check(access.destinationRegions.length > 0, `${PROP}.destinationRegions`, access.destinationRegions, 'must list at least one Region (omit it for the geography\'s default)');
    for (const r of access.destinationRegions) v.check(!Token.isUnresolved(r) && isAwsRegionName(r), `${PROP}.destinationRegions`, r, 'each must be an AWS Region known at synth, such as us-east-2');
  }
  let geoKnown = true;
  if (crossRegion === 'geo') {
    if (!regionKnown) {
      geoKnown = false;
      v.check(false, `${PROP}.region`, '(the stack\'s region, unknown at synth)', 'crossRegion "geo" names the inference profile after the region\'s geography, so the region must be known at synth: set modelAccess.bedrock.region or the stack\'s env.region, or use crossRegion "global" or "none"');
    } else if (isAwsRegionName(region) && !bedrockGeography(region)) {
      geoKnown = false;
      v.check(false, `${PROP}.crossRegion`, crossRegion, `region ${region} has no geographic inference profile; accepted values: "geo" with a us-*, eu-*, ap-* or us-gov-* region, "global", "none"`);
    }
  }
  if (vpcEndpoint && regionKnown && !Token.isUnresolved(stackRegion)) {
    v.check(region === stackRegion, `${PROP}.vpcEndpoint`, true, `an interface endpoint serves its own VPC's Region (${stackRegion}), not ${region}; drop vpcEndpoint or set region to ${stackRegion}`);
  }
  if (!usable || !geoKnown) return { config: {} };

  const valid = models.filter((m) => typeof m === 'string' && !Token.isUnresolved(m) && MODEL_REF.test(m));
  const resolution: BedrockResolution = { region, crossRegion: crossRegion as BedrockCrossRegion, modelIds: modelIdsOf(userConfig) };
  const { grants, problems } = bedrockGrants({ ...resolution, models: valid, destinationRegions: access.destinationRegions });
  for (const p of problems) v.check(false, `${PROP}.${p.field}`, p.received, p.accepted);
  if (access.destinationRegions !== undefined && grants.length > 0) {
    const geographic = grants.some((g) => g.invoked.profile !== undefined && g.invoked.profile !== 'global');
    v.check(geographic, `${PROP}.destinationRegions`, access.destinationRegions, `is unused: no granted model is served by a geographic inference profile (crossRegion ${JSON.stringify(crossRegion)}); remove it`);
  }

  return {
    config: {
      ...bedrockTiers(userConfig, grants, resolution),
      bedrockCrossRegion: resolution.crossRegion,
      ...(regionKnown ? { bedrockRegion: region } : {}),
    },
    bedrock: { resolution, grants, vpcEndpoint, regionKnown },
  };
}
