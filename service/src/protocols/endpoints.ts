import { z } from 'zod';
import { anthropic } from './anthropic';
import { openai } from './openai';
import { isObject, num, type Json, type Protocol, type Provider, type TokenUsage } from './types';

/**
 * A JSON-only API surface beside a provider's chat API (token counting, embeddings, moderations):
 * its own upstream path, request schema, success shape and usage; authentication, forwarded and
 * passed headers and the error shape are its provider's. Its answers go through the optimizer like
 * chat answers (cache, coalescing, lanes, breakers, retries), never streamed.
 */
export interface Endpoint {
  /** The route clients call; also the cache key's endpoint. */
  readonly route: string;
  /**
   * The wire format the dispatcher sends and the flight reads: the provider's protocol with this
   * endpoint's path, schema, success shape and usage (its stream members are never used).
   */
  readonly protocol: Protocol;
  /** Whether `model: "auto"` is routed by complexity (else it is refused with 400). */
  readonly routesAuto: boolean;
}

interface EndpointSpec {
  readonly route: string;
  readonly upstreamPath: string;
  readonly schema: z.ZodType<Record<string, unknown>>;
  /** True when a 200 body is this endpoint's success shape (only those are cached). */
  isAnswer(body: Readonly<Json>): boolean;
  /** Tokens the call spent (cost accounting); none when the call is free. */
  usage?(body: Readonly<Json>): TokenUsage | undefined;
  /** The model a request that names none is answered by (the API's default). */
  readonly defaultModel?: string;
  readonly routesAuto?: boolean;
}

const none = (): undefined => undefined;

function endpoint(base: Protocol, spec: EndpointSpec): Endpoint {
  const protocol: Protocol = {
    ...base,
    upstreamPath: spec.upstreamPath,
    schema: spec.schema,
    parse: (body) => ({ body, model: typeof body.model === 'string' ? body.model : (spec.defaultModel ?? ''), stream: false, includeUsage: false }),
    upstreamBody: (_request, raw) => raw,
    isAnswer: spec.isAnswer,
    usage: spec.usage ?? none,
  };
  return { route: spec.route, protocol, routesAuto: spec.routesAuto ?? false };
}

const model = z.string().min(1).max(256);
const parts = z.array(z.looseObject({ type: z.string().min(1) }));

/** Anthropic `POST /v1/messages/count_tokens`: deterministic for its request, free upstream but rate-limited. */
export const countTokens = endpoint(anthropic, {
  route: '/v1/messages/count_tokens',
  upstreamPath: '/v1/messages/count_tokens',
  schema: z.looseObject({
    model,
    messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), parts]) })).min(1),
    system: z.union([z.string(), parts]).optional(),
    tools: z.array(z.looseObject({})).optional(),
  }),
  isAnswer: (body) => typeof body.input_tokens === 'number',
  // Counting for "auto" counts for the model the tier would answer with.
  routesAuto: true,
});

/** OpenAI `POST /v1/embeddings`: deterministic for its request, so a prime cache target. */
export const embeddings = endpoint(openai, {
  route: '/v1/embeddings',
  upstreamPath: '/embeddings',
  schema: z.looseObject({
    model,
    input: z.union([
      z.string(),
      z.array(z.string()).min(1),
      z.array(z.number().int()).min(1),
      z.array(z.array(z.number().int()).min(1)).min(1),
    ]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().positive().optional(),
    user: z.string().optional(),
  }),
  isAnswer: (body) => body.object === 'list' && Array.isArray(body.data),
  usage: (body) => (isObject(body.usage) ? { input: num(body.usage.prompt_tokens), output: 0 } : undefined),
});

/** OpenAI `POST /v1/moderations`. */
export const moderations = endpoint(openai, {
  route: '/v1/moderations',
  upstreamPath: '/moderations',
  schema: z.looseObject({
    model: model.optional(),
    input: z.union([z.string(), z.array(z.string()).min(1), parts.min(1)]),
  }),
  isAnswer: (body) => Array.isArray(body.results),
  defaultModel: 'omni-moderation-latest',
});

/** The wire formats of a provider's model list (`GET`, one page) and of one model. */
export interface ModelsApi {
  /** The list, from its start or after the model `after` (the Anthropic list is paginated). */
  list(after?: string): Protocol;
  retrieve(id: string): Protocol;
}

/** Most models the Anthropic list returns in one page. */
const ANTHROPIC_PAGE_LIMIT = 1000;

function modelsApi(base: Protocol, path: string, listShape: (body: Readonly<Json>) => boolean, modelShape: (body: Readonly<Json>) => boolean, paginated: boolean): ModelsApi {
  const get = (upstreamPath: string, isAnswer: (body: Readonly<Json>) => boolean): Protocol => ({ ...base, upstreamMethod: 'GET', upstreamPath, isAnswer, usage: none });
  const first = get(paginated ? `${path}?limit=${ANTHROPIC_PAGE_LIMIT}` : path, listShape);
  return {
    list: (after) => (after === undefined ? first : get(`${path}?limit=${ANTHROPIC_PAGE_LIMIT}&after_id=${encodeURIComponent(after)}`, listShape)),
    retrieve: (id) => get(`${path}/${encodeURIComponent(id)}`, modelShape),
  };
}

/** Each provider's model list: `GET /v1/models` (Anthropic, paginated) and `GET /v1/models` (OpenAI, whole). */
export const MODELS: Readonly<Record<Provider, ModelsApi>> = {
  anthropic: modelsApi(anthropic, '/v1/models', (b) => Array.isArray(b.data), (b) => b.type === 'model' && typeof b.id === 'string', true),
  openai: modelsApi(openai, '/models', (b) => b.object === 'list' && Array.isArray(b.data), (b) => b.object === 'model' && typeof b.id === 'string', false),
};
