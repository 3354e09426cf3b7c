/**
 * What Bedrock routes ask of IAM, for any target whose workload identity is an AWS role (the ECS
 * task role, an EKS IRSA or Pod Identity role): the concrete model ids the service will invoke,
 * computed with the service's own `bedrockModel()`, and the resources a grant must name for each.
 * Targets turn {@link BedrockResource}s into ARNs of their partition and account.
 *
 * The IAM rules follow the Amazon Bedrock user guide:
 * - https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html (a grant on
 *   an inference profile must also name the foundation model in each Region associated with it);
 * - https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html (the
 *   geographic profile in the source Region, the model in every destination Region);
 * - https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html (the
 *   global profile and the model in the source Region, and the Region-less model ARN
 *   `arn:aws:bedrock:::foundation-model/<model>` that stands for every commercial Region).
 */
import { bedrockModel, parseRouteList, type BedrockCrossRegion, type BedrockModel } from '../../service/src/config/backends';
import { SETTINGS, type ServiceConfig } from '../../service/src/config/settings';
import type { TboServiceConfig } from './contract';

/**
 * The Regions a geographic inference profile may route to, by its prefix: every Region AWS lists
 * for that geography (the union over models, so no model's profile reaches a Region its grant
 * lacks; a grant on a Region a profile does not use gives nothing). From the AWS CDK reference of
 * `CrossRegionInferenceProfileRegion`
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/@aws-cdk_aws-bedrock-alpha.CrossRegionInferenceProfileRegion.html)
 * and the per-model table of https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
 * (us-west-1 is a Region of the US Claude 4.5 profiles). A deployment narrows or extends it with
 * its `destinationRegions`.
 */
export const BEDROCK_PROFILE_DESTINATIONS: Readonly<Record<string, readonly string[]>> = {
  us: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'],
  'us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  eu: ['eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3'],
  apac: [
    'ap-east-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-south-1',
    'ap-south-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-7',
    'me-central-1',
  ],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
};

/** Whether a value is an AWS Region name as the service's `TBO_BEDROCK_REGION` accepts it (`us-east-1`, `us-gov-west-1`). */
export function isAwsRegionName(value: string): boolean {
  return SETTINGS.bedrockRegion.schema.safeParse(value).success;
}

/** One resource of a Bedrock grant, before a target formats it as an ARN of its partition and account. */
export type BedrockResource =
  /** `arn:<partition>:bedrock:<region>::foundation-model/<modelId>`; region `''` is the Region-less ARN of global profiles. */
  | { readonly kind: 'foundation-model'; readonly region: string; readonly modelId: string }
  /** `arn:<partition>:bedrock:<region>:<account>:inference-profile/<profileId>` (a system-defined cross-region profile). */
  | { readonly kind: 'inference-profile'; readonly region: string; readonly profileId: string }
  /** An ARN the model table or the grant list gives: granted as given. */
  | { readonly kind: 'arn'; readonly arn: string };

/** What one granted model needs. */
export interface BedrockGrant {
  /** The model as the grant lists it (a client model name, a Bedrock id or an ARN). */
  readonly model: string;
  /** What the service invokes for it (`InvokeModel`'s model id), from the service's own `bedrockModel()`. */
  readonly invoked: BedrockModel;
  /** The resources `bedrock:InvokeModel*` must be allowed on, in order, without repeats. */
  readonly resources: readonly BedrockResource[];
}

/** The Bedrock settings of a deployment, as the service resolves model ids with them. */
export interface BedrockResolution {
  /** `TBO_BEDROCK_REGION`: the source Region (a deploy-time token only with `global` or `none`). */
  readonly region: string;
  /** `TBO_BEDROCK_CROSS_REGION`. */
  readonly crossRegion: BedrockCrossRegion;
  /** `TBO_BEDROCK_MODEL_IDS`, parsed. */
  readonly modelIds: Readonly<Record<string, string>>;
}

/** A problem with a Bedrock grant: the setting, the value received and what is accepted. */
export interface BedrockAccessProblem {
  /** Where under the target's grant prop (`destinationRegions`, `models`, `crossRegion`). */
  readonly field: 'models' | 'crossRegion' | 'destinationRegions';
  readonly received: unknown;
  readonly accepted: string;
}

/** What a target grants: the models, and the Regions geographic profiles may route to. */
export interface BedrockAccessSpec extends BedrockResolution {
  readonly models: readonly string[];
  /** @default - {@link BEDROCK_PROFILE_DESTINATIONS} of each profile's geography */
  readonly destinationRegions?: readonly string[];
}

/** The model id the service invokes for a client's model name on Bedrock. */
export function invokedBedrockModel(model: string, r: BedrockResolution): BedrockModel {
  return bedrockModel(model, { region: r.region, crossRegion: r.crossRegion, ids: r.modelIds });
}

/**
 * The grants of a Bedrock model list: for each model, what the service invokes and the resources
 * that takes. An in-Region model: its foundation-model ARN in the source Region. A geographic
 * profile: the profile in the source Region, and the foundation model in the source Region and in
 * each destination Region. The global profile: the profile and the foundation model in the source
 * Region, and the Region-less foundation-model ARN. An ARN: itself.
 */
export function bedrockGrants(spec: BedrockAccessSpec): { grants: BedrockGrant[]; problems: BedrockAccessProblem[] } {
  const grants: BedrockGrant[] = [];
  const problems: BedrockAccessProblem[] = [];
  for (const model of [...new Set(spec.models)]) {
    let invoked: BedrockModel;
    try {
      invoked = invokedBedrockModel(model, spec);
    } catch (err) {
      problems.push({ field: 'crossRegion', received: spec.crossRegion, accepted: (err as Error).message });
      continue;
    }
    const resources: BedrockResource[] = [];
    const { foundationModel, profile } = invoked;
    if (foundationModel === undefined) {
      resources.push({ kind: 'arn', arn: invoked.id });
    } else if (profile === undefined) {
      resources.push({ kind: 'foundation-model', region: spec.region, modelId: foundationModel });
    } else if (profile === 'global') {
      resources.push(
        { kind: 'inference-profile', region: spec.region, profileId: invoked.id },
        { kind: 'foundation-model', region: spec.region, modelId: foundationModel },
        { kind: 'foundation-model', region: '', modelId: foundationModel },
      );
    } else {
      const destinations = spec.destinationRegions ?? BEDROCK_PROFILE_DESTINATIONS[profile];
      if (!destinations) {
        problems.push({
          field: 'destinationRegions',
          received: undefined,
          accepted: `${model} is served by the "${profile}." inference profile, whose Regions have no default here (known: ${Object.keys(BEDROCK_PROFILE_DESTINATIONS).join(', ')}); list the Regions it routes to`,
        });
        continue;
      }
      resources.push({ kind: 'inference-profile', region: spec.region, profileId: invoked.id });
      for (const region of new Set([spec.region, ...destinations])) resources.push({ kind: 'foundation-model', region, modelId: foundationModel });
    }
    grants.push({ model, invoked, resources });
  }
  return { grants, problems };
}

/** The resolution the service will use for a configuration (its `bedrockRegion`, or `region` when unset). */
export function bedrockResolutionOf(config: Pick<ServiceConfig, 'bedrockRegion' | 'bedrockCrossRegion' | 'bedrockModelIds'>, region: string): BedrockResolution {
  return {
    region: config.bedrockRegion ?? region,
    crossRegion: config.bedrockCrossRegion,
    modelIds: JSON.parse(config.bedrockModelIds) as Record<string, string>,
  };
}

const TIERS = ['modelsFast', 'modelsBalanced', 'modelsStrongest'] as const;

/** Whether a client model name resolves to one of the granted ids (an unresolvable name is not granted). */
function grantedBy(grants: readonly BedrockGrant[], r: BedrockResolution): (model: string) => boolean {
  const ids = new Set(grants.map((g) => g.invoked.id));
  return (model) => {
    try {
      return ids.has(invokedBedrockModel(model, r).id);
    } catch {
      return false;
    }
  };
}

/**
 * The routing tiers a deployment renders when it grants Bedrock models: each tier the config leaves
 * unset becomes the service's default list with every `anthropic:<m>` entry whose model resolves
 * to a granted Bedrock model id moved, in place, to `bedrock:<m>` (the client's model name is
 * kept). Tiers the config sets are its own and stay as they are.
 */
export function bedrockTiers(config: TboServiceConfig, grants: readonly BedrockGrant[], r: BedrockResolution): Partial<Pick<TboServiceConfig, (typeof TIERS)[number]>> {
  const granted = grantedBy(grants, r);
  const tiers: Partial<Record<(typeof TIERS)[number], string>> = {};
  for (const tier of TIERS) {
    if (config[tier] !== undefined) continue;
    const defaults = parseRouteList(SETTINGS[tier].schema.parse(undefined) as string);
    tiers[tier] = defaults.map(({ backend, model }) => `${backend === 'anthropic' && granted(model) ? 'bedrock' : backend}:${model}`).join(',');
  }
  return tiers;
}

/** The models of a configuration's `bedrock:` routes that no grant covers (by the id the service will invoke), without repeats. */
export function ungrantedBedrockRoutes(config: ServiceConfig, grants: readonly BedrockGrant[], r: BedrockResolution): string[] {
  const granted = grantedBy(grants, r);
  const routed = TIERS.flatMap((tier) => parseRouteList(config[tier])).filter((route) => route.backend === 'bedrock').map((route) => route.model);
  return [...new Set(routed)].filter((model) => !granted(model));
}

/** The granted models no `bedrock:` route of the configuration uses. */
export function unroutedBedrockGrants(config: ServiceConfig, grants: readonly BedrockGrant[], r: BedrockResolution): string[] {
  const routed = TIERS.flatMap((tier) => parseRouteList(config[tier])).filter((route) => route.backend === 'bedrock');
  const routedIds = new Set(
    routed.flatMap((route) => {
      try {
        return [invokedBedrockModel(route.model, r).id];
      } catch {
        return [];
      }
    }),
  );
  return grants.filter((g) => !routedIds.has(g.invoked.id)).map((g) => g.model);
}

