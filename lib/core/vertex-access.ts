/**
 * Where a deployment that routes to Vertex AI calls it: the location (`TBO_VERTEX_REGION`) and the
 * project (`TBO_VERTEX_PROJECT`), given by a construct prop (`vertex`) or by the service config
 * (`config.vertexRegion` / `config.vertexProject`), validated at synth with the service's own schema,
 * and named in errors by whichever the user set. The GCP and Kubernetes targets share it; the same
 * helper reads any other setting a target also takes as a prop (the Kubernetes `bedrock.region`).
 */
import { SETTINGS } from '../../service/src/config/settings';
import { routedBackends, type Backend } from './backends';
import type { TboServiceConfig } from './contract';
import type { PropValidator } from './validate';

/** The backends served by Vertex AI (Claude through `rawPredict`, Gemini through the OpenAI-compatible endpoint). */
export const VERTEX_BACKENDS = ['vertex', 'vertex-openai'] as const satisfies readonly Backend[];

/** True when any routing tier of the configuration sends a model to Vertex AI. */
export function routesToVertex(config: TboServiceConfig): boolean {
  const used = routedBackends(config);
  return VERTEX_BACKENDS.some((b) => used.has(b));
}

/** Where the service calls Vertex AI (the `vertex` prop of the GCP and Kubernetes constructs). */
export interface TboVertexLocation {
  /**
   * Vertex AI location of the `vertex` and `vertex-openai` routes (`TBO_VERTEX_REGION`): `global`, or a
   * region where the routed models run, such as `us-east5` or `europe-west1`. Same as
   * `config.vertexRegion`; give one of the two.
   * @default - config.vertexRegion, else 'global'
   */
  readonly region?: string;
  /**
   * Google Cloud project whose Vertex AI the service calls (`TBO_VERTEX_PROJECT`), where the Claude
   * models are enabled in Model Garden. Same as `config.vertexProject`; give one of the two.
   * @default - config.vertexProject, else the target's own default (see the construct)
   */
  readonly project?: string;
}

/** The settings a construct may also take as props. */
export type PropBackedSetting = 'vertexRegion' | 'vertexProject' | 'bedrockRegion';

/** How a setting given as a prop is checked. */
export interface SettingPropOptions {
  /** The prop's name as users know it (`vertex.region`). */
  readonly prop: string;
  /** The prop's value, when given. */
  readonly value: string | undefined;
  /** The user's service config (the setting may be there instead). */
  readonly config: TboServiceConfig | undefined;
  /** Which setting the prop sets. */
  readonly setting: PropBackedSetting;
  /** What the prop accepts, for the error (the service's schema decides). */
  readonly accepted: string;
  /** True for a deploy-time token the framework resolves later (checked by the cloud, not here). @default - every value is a literal */
  readonly isUnresolved?: (value: string) => boolean;
}

/**
 * A setting a construct takes both as a prop and through `config`: the prop's value when given (checked
 * against the service's own schema, the error naming the prop), else the config's; a prop and a config
 * value that differ are refused, naming both. Returns undefined when neither is given (or the prop's
 * value is refused and the config has none: the recorded problem then stops the synth).
 */
export function settingFromProp(v: PropValidator, o: SettingPropOptions): string | undefined {
  const fromConfig = o.config?.[o.setting] as string | undefined;
  if (o.value === undefined) return fromConfig;
  if (o.isUnresolved?.(o.value)) return o.value;
  const parsed = SETTINGS[o.setting].schema.safeParse(o.value);
  if (!parsed.success) {
    v.check(false, o.prop, o.value, `${o.accepted} (it sets ${SETTINGS[o.setting].env})`);
    return fromConfig;
  }
  if (fromConfig !== undefined) {
    v.check(fromConfig === o.value, o.prop, o.value, `differs from config.${o.setting} (${JSON.stringify(fromConfig)}); give one of the two`);
  }
  return o.value;
}

/** A Vertex location with the region resolved (the project may be left to the target). */
export interface ResolvedVertexLocation {
  /** `TBO_VERTEX_REGION`. */
  readonly region: string;
  /** `TBO_VERTEX_PROJECT`, when the prop or the config gives it. */
  readonly project: string | undefined;
}

/** Accepted values of `vertex.region`, for errors. */
export const VERTEX_REGION_ACCEPTED = "must be 'global', the multi-regions 'us' or 'eu', or a Vertex AI region such as us-east5, europe-west1 or asia-southeast1";
/** Accepted values of `vertex.project`, for errors. */
export const VERTEX_PROJECT_ACCEPTED = 'must be a Google Cloud project id (6 to 30 lowercase letters, digits or hyphens, starting with a letter)';

/**
 * `vertex` (or `config.vertexRegion` / `config.vertexProject`) resolved and checked: the region
 * defaults to the service's default (`global`); the project is left undefined when neither gives it.
 * `prop` is the prop's name (`vertex`).
 */
export function resolveVertexLocation(
  v: PropValidator,
  given: TboVertexLocation | undefined,
  config: TboServiceConfig | undefined,
  prop = 'vertex',
  isUnresolved?: (value: string) => boolean,
): ResolvedVertexLocation {
  const region = settingFromProp(v, { prop: `${prop}.region`, value: given?.region, config, setting: 'vertexRegion', accepted: VERTEX_REGION_ACCEPTED, isUnresolved });
  const project = settingFromProp(v, { prop: `${prop}.project`, value: given?.project, config, setting: 'vertexProject', accepted: VERTEX_PROJECT_ACCEPTED, isUnresolved });
  return { region: region ?? (SETTINGS.vertexRegion.schema.parse(undefined) as string), project };
}
