/**
 * Backends: where a routed model is answered. Each speaks one client wire format (`provider`) and
 * names models its own way; the tables here turn a client's model name into the backend's concrete
 * model id. The service calls with these ids and the construct library grants IAM on exactly them,
 * so both read this one module. It depends on nothing.
 */

/** The client-facing wire formats (API surfaces). */
export type WireFormat = 'anthropic' | 'openai';

/**
 * Where a route is answered:
 * - `anthropic`: the Anthropic API (`ANTHROPIC_API_KEY`);
 * - `openai`: the OpenAI API (`OPENAI_API_KEY`);
 * - `bedrock`: Claude on Amazon Bedrock Runtime (SigV4 with the AWS credential chain: the task role on ECS);
 * - `vertex`: Claude on Google Vertex AI `rawPredict` (Application Default Credentials);
 * - `vertex-openai`: Vertex AI's OpenAI-compatible Chat Completions (Gemini) with the same credentials.
 */
export const BACKENDS = ['anthropic', 'openai', 'bedrock', 'vertex', 'vertex-openai'] as const;
export type Backend = (typeof BACKENDS)[number];

/** The wire format each backend serves. */
export const BACKEND_FORMAT: Readonly<Record<Backend, WireFormat>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  bedrock: 'anthropic',
  vertex: 'anthropic',
  'vertex-openai': 'openai',
};

/** True for the vendors' public APIs (API keys, every endpoint); false for the cloud platforms. */
export function isPublicApi(backend: Backend): backend is WireFormat {
  return backend === 'anthropic' || backend === 'openai';
}

/** A model id without its snapshot date (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`). */
function undated(model: string): string {
  return model.replace(/-(\d{8}|latest)$/, '');
}

/**
 * Bedrock foundation-model ids of Claude by client model name (`TBO_BEDROCK_MODEL_IDS` adds to and
 * overrides these). The Claude 4 family is served on demand only through inference profiles, which
 * `TBO_BEDROCK_CROSS_REGION` chooses.
 */
export const DEFAULT_BEDROCK_MODEL_IDS: Readonly<Record<string, string>> = {
  'claude-haiku-4-5': 'anthropic.claude-haiku-4-5-20251001-v1:0',
  'claude-sonnet-4-5': 'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'claude-opus-4-1': 'anthropic.claude-opus-4-1-20250805-v1:0',
  'claude-opus-4-5': 'anthropic.claude-opus-4-5-20251101-v1:0',
  'claude-sonnet-4': 'anthropic.claude-sonnet-4-20250514-v1:0',
  'claude-opus-4': 'anthropic.claude-opus-4-20250514-v1:0',
  'claude-3-7-sonnet': 'anthropic.claude-3-7-sonnet-20250219-v1:0',
  'claude-3-5-haiku': 'anthropic.claude-3-5-haiku-20241022-v1:0',
};

/**
 * Vertex AI model version ids by client model name (`TBO_VERTEX_MODEL_IDS` adds to and overrides
 * these), as https://platform.claude.com/docs/en/build-with-claude/claude-on-vertex-ai lists them.
 */
export const DEFAULT_VERTEX_MODEL_IDS: Readonly<Record<string, string>> = {
  'claude-opus-4-6': 'claude-opus-4-6',
  'claude-sonnet-4-6': 'claude-sonnet-4-6',
  'claude-opus-4-5': 'claude-opus-4-5@20251101',
  'claude-haiku-4-5': 'claude-haiku-4-5@20251001',
  'claude-sonnet-4-5': 'claude-sonnet-4-5@20250929',
  'claude-opus-4-1': 'claude-opus-4-1@20250805',
  'claude-sonnet-4': 'claude-sonnet-4@20250514',
  'claude-opus-4': 'claude-opus-4@20250514',
  'claude-3-7-sonnet': 'claude-3-7-sonnet@20250219',
  'claude-3-5-haiku': 'claude-3-5-haiku@20241022',
  'gemini-2.5-flash': 'google/gemini-2.5-flash',
  'gemini-2.5-flash-lite': 'google/gemini-2.5-flash-lite',
  'gemini-2.5-pro': 'google/gemini-2.5-pro',
};

/** How Bedrock routes are served: through the region's geography's inference profile, the global one, or in-region. */
export const BEDROCK_CROSS_REGION = ['geo', 'global', 'none'] as const;
export type BedrockCrossRegion = (typeof BEDROCK_CROSS_REGION)[number];

/** Inference-profile prefixes Bedrock uses (`us.anthropic.…`, `global.anthropic.…`). */
const PROFILE_PREFIX = /^(us|eu|apac|us-gov|jp|au|ca|global)\./;

/** The geography prefix of a region's cross-region inference profiles; undefined where none is known. */
export function bedrockGeography(region: string): string | undefined {
  if (region.startsWith('us-gov-')) return 'us-gov';
  if (region.startsWith('us-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return undefined;
}

/** A client model name resolved for Bedrock. */
export interface BedrockModel {
  /** What `InvokeModel` is called with (in the URL): a foundation-model id, an inference-profile id or an ARN. */
  readonly id: string;
  /** The foundation-model id behind it (undefined when the table gives an ARN). */
  readonly foundationModel?: string;
  /** The inference profile's prefix (`us`, `eu`, `global` …) when {@link id} is a cross-region profile id. */
  readonly profile?: string;
}

export interface BedrockResolveOptions {
  readonly region: string;
  readonly crossRegion: BedrockCrossRegion;
  /** `TBO_BEDROCK_MODEL_IDS`, over {@link DEFAULT_BEDROCK_MODEL_IDS}. */
  readonly ids?: Readonly<Record<string, string>>;
}

/**
 * The Bedrock model a client's model name is served by: the table's id (the name, undated, looked
 * up), or the name itself; a foundation-model id gets the inference-profile prefix the cross-region
 * setting asks for. Throws when `geo` is asked for in a region with no known geography.
 */
export function bedrockModel(model: string, opts: BedrockResolveOptions): BedrockModel {
  const table = { ...DEFAULT_BEDROCK_MODEL_IDS, ...opts.ids };
  const id = table[model] ?? table[undated(model)] ?? model;
  if (id.startsWith('arn:')) return { id };
  const prefixed = PROFILE_PREFIX.exec(id);
  if (prefixed) return { id, foundationModel: id.slice(prefixed[0].length), profile: prefixed[1] };
  if (opts.crossRegion === 'none') return { id, foundationModel: id };
  const profile = opts.crossRegion === 'global' ? 'global' : bedrockGeography(opts.region);
  if (!profile) {
    throw new Error(`TBO_BEDROCK_CROSS_REGION: "geo" has no inference-profile geography for region ${opts.region}; accepted values: geo (us-*, eu-*, ap-*, us-gov-* regions), global, none`);
  }
  return { id: `${profile}.${id}`, foundationModel: id, profile };
}

/** The Vertex AI model id of a client's model name (`vertex` and `vertex-openai` backends). */
export function vertexModel(model: string, backend: 'vertex' | 'vertex-openai', ids?: Readonly<Record<string, string>>): string {
  const table = { ...DEFAULT_VERTEX_MODEL_IDS, ...ids };
  const id = table[model] ?? table[undated(model)];
  if (id) return id;
  // Model Garden's OpenAI-compatible endpoint names models publisher/model.
  return backend === 'vertex-openai' && !model.includes('/') ? `google/${model}` : model;
}

/**
 * The Vertex AI API host of a location: `global` has no regional prefix, the multi-regions `us` and
 * `eu` (processing kept within that jurisdiction) have their own hosts
 * (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/learn/locations#multi-region-endpoints).
 */
export function vertexHost(region: string): string {
  if (region === 'global') return 'aiplatform.googleapis.com';
  if (region === 'us' || region === 'eu') return `aiplatform.${region}.rep.googleapis.com`;
  return `${region}-aiplatform.googleapis.com`;
}

/** The Bedrock Runtime host of a region. */
export function bedrockRuntimeHost(region: string): string {
  return `bedrock-runtime.${region}.amazonaws.com`;
}

/** One routed model: the backend that answers it and the client's model name. */
export interface RouteEntry {
  readonly backend: Backend;
  readonly model: string;
}

/** Parses a routing list, `backend:model,backend:model` (validated by the config schema). */
export function parseRouteList(list: string): RouteEntry[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      return { backend: entry.slice(0, at) as Backend, model: entry.slice(at + 1) };
    });
}
