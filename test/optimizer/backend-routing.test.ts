/**
 * Routes name a backend (`bedrock:claude-sonnet-4-5`): the router keeps the client's model name,
 * resolves the backend's concrete id, chains a named model across the backends its tier routes it
 * to, and the config contract checks the backends' settings.
 */
import { bedrockModel, vertexHost, vertexModel } from '../../service/src/config/backends';
import { ConfigError, loadConfig } from '../../service/src/config/load';
import { modelResolver } from '../../service/src/config/model-ids';
import { decodeEntry, encodeEntry } from '../../service/src/optimizer/cache-entry';
import { cacheKey } from '../../service/src/optimizer/cache-key';
import { ModelCatalog } from '../../service/src/optimizer/models';
import { parseModelList, Router, type ModelRef } from '../../service/src/optimizer/routing';
import type { Backend } from '../../service/src/config/backends';

const ENV = { TBO_BEDROCK_REGION: 'eu-west-1' };

function router(lists: { fast: string; balanced: string; strongest: string }, available: Backend[], fallbackNamed = false): Router {
  const resolve = modelResolver(loadConfig(ENV), ENV);
  const tiers = { fast: parseModelList(lists.fast, resolve), balanced: parseModelList(lists.balanced, resolve), strongest: parseModelList(lists.strongest, resolve) };
  const catalog = new ModelCatalog(Object.values(tiers).flatMap((t) => t.map((r) => r.model)), [], undefined);
  return new Router(tiers, 'down', new Set(available), catalog, fallbackNamed, resolve);
}

const chainOf = (refs: readonly ModelRef[]) => refs.map((r) => `${r.backend}:${r.id}`);

describe('backend model ids', () => {
  it('Bedrock: the geography inference profile by default, the global one or the in-region id on request', () => {
    expect(bedrockModel('claude-sonnet-4-5', { region: 'us-east-1', crossRegion: 'geo' })).toEqual({
      id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', foundationModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0', profile: 'us',
    });
    expect(bedrockModel('claude-sonnet-4-5-20250929', { region: 'eu-central-1', crossRegion: 'geo' }).id).toBe('eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(bedrockModel('claude-haiku-4-5', { region: 'ap-northeast-1', crossRegion: 'global' }).id).toBe('global.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(bedrockModel('claude-3-5-haiku', { region: 'us-west-2', crossRegion: 'none' })).toEqual({ id: 'anthropic.claude-3-5-haiku-20241022-v1:0', foundationModel: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
  });

  it('Bedrock: table entries that already name a profile or an ARN are used as they are', () => {
    const ids = { mine: 'apac.anthropic.claude-sonnet-4-20250514-v1:0', pinned: 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123' };
    expect(bedrockModel('mine', { region: 'us-east-1', crossRegion: 'geo', ids })).toEqual({ id: ids.mine, foundationModel: 'anthropic.claude-sonnet-4-20250514-v1:0', profile: 'apac' });
    expect(bedrockModel('pinned', { region: 'us-east-1', crossRegion: 'global', ids })).toEqual({ id: ids.pinned });
    // A name the table does not know is the id (e.g. a client naming a Bedrock id itself).
    expect(bedrockModel('anthropic.claude-3-haiku-20240307-v1:0', { region: 'us-east-1', crossRegion: 'none' }).id).toBe('anthropic.claude-3-haiku-20240307-v1:0');
  });

  it('Bedrock: "geo" in a region without a known geography is refused, naming the setting and the accepted values', () => {
    expect(() => bedrockModel('claude-sonnet-4-5', { region: 'sa-east-1', crossRegion: 'geo' })).toThrow(/TBO_BEDROCK_CROSS_REGION.*sa-east-1.*accepted values: geo .*global, none/);
  });

  it('Vertex: model version ids for Claude, publisher/model for the OpenAI-compatible endpoint', () => {
    expect(vertexModel('claude-sonnet-4-5', 'vertex')).toBe('claude-sonnet-4-5@20250929');
    expect(vertexModel('gemini-2.5-flash', 'vertex-openai')).toBe('google/gemini-2.5-flash');
    expect(vertexModel('gemini-3-pro', 'vertex-openai')).toBe('google/gemini-3-pro');
    expect(vertexModel('meta/llama-4', 'vertex-openai')).toBe('meta/llama-4');
    expect(vertexModel('claude-sonnet-4-5', 'vertex', { 'claude-sonnet-4-5': 'claude-sonnet-4-5@20260101' })).toBe('claude-sonnet-4-5@20260101');
  });

  it('Vertex hosts: the global endpoint, the us/eu multi-regions and regional endpoints', () => {
    expect(['global', 'us', 'eu', 'us-east5'].map(vertexHost)).toEqual(['aiplatform.googleapis.com', 'aiplatform.us.rep.googleapis.com', 'aiplatform.eu.rep.googleapis.com', 'us-east5-aiplatform.googleapis.com']);
    expect(loadConfig({ TBO_VERTEX_REGION: 'eu' }).vertexRegion).toBe('eu');
  });
});

describe('routing across backends', () => {
  const lists = {
    fast: 'vertex-openai:gemini-2.5-flash,bedrock:claude-haiku-4-5',
    balanced: 'vertex:claude-sonnet-4-5,anthropic:claude-sonnet-4-5,openai:gpt-4o',
    strongest: 'bedrock:claude-opus-4-1',
  };

  it('"auto" chains every usable backend of the tier and the weaker tiers, with concrete ids', () => {
    const r = router(lists, ['anthropic', 'openai', 'bedrock', 'vertex', 'vertex-openai']);
    expect(chainOf(r.route('auto', 5).chain)).toEqual([
      'bedrock:eu.anthropic.claude-opus-4-1-20250805-v1:0',
      'vertex:claude-sonnet-4-5@20250929', 'anthropic:claude-sonnet-4-5', 'openai:gpt-4o',
      'vertex-openai:google/gemini-2.5-flash', 'bedrock:eu.anthropic.claude-haiku-4-5-20251001-v1:0',
    ]);
    // An Anthropic-surface request only goes to backends that speak its format.
    expect(chainOf(r.route('auto', 3, 'anthropic').chain)).toEqual([
      'vertex:claude-sonnet-4-5@20250929', 'anthropic:claude-sonnet-4-5', 'bedrock:eu.anthropic.claude-haiku-4-5-20251001-v1:0',
    ]);
  });

  it('a named model is answered by that model on each backend its tier routes it to (Vertex, then the public API), never another model', () => {
    const r = router(lists, ['anthropic', 'openai', 'bedrock', 'vertex', 'vertex-openai']);
    const decision = r.route('claude-sonnet-4-5', 3, 'anthropic');
    expect(chainOf(decision.chain)).toEqual(['vertex:claude-sonnet-4-5@20250929', 'anthropic:claude-sonnet-4-5']);
    expect(decision.chain.every((ref) => ref.model === 'claude-sonnet-4-5')).toBe(true);
    // Only the backends the service can call.
    expect(chainOf(router(lists, ['anthropic']).route('claude-sonnet-4-5', 3, 'anthropic').chain)).toEqual(['anthropic:claude-sonnet-4-5']);
  });

  it('with fallback for named models, the tier\'s other models follow', () => {
    const r = router(lists, ['bedrock', 'vertex'], true);
    expect(chainOf(r.route('claude-sonnet-4-5', 3, 'anthropic').chain)).toEqual(['vertex:claude-sonnet-4-5@20250929', 'bedrock:eu.anthropic.claude-haiku-4-5-20251001-v1:0']);
  });

  it('a model the tiers do not route goes to its provider\'s public API, else to the first cloud backend of that format', () => {
    expect(chainOf(router(lists, ['anthropic', 'bedrock']).route('claude-3-7-sonnet', 3, 'anthropic').chain)).toEqual(['anthropic:claude-3-7-sonnet']);
    // The first in the tiers' order (fast, balanced, strongest) that the service can call.
    expect(chainOf(router(lists, ['bedrock', 'vertex']).route('claude-3-7-sonnet', 3, 'anthropic').chain)).toEqual(['bedrock:eu.anthropic.claude-3-7-sonnet-20250219-v1:0']);
    expect(chainOf(router(lists, ['vertex']).route('claude-3-7-sonnet', 3, 'anthropic').chain)).toEqual(['vertex:claude-3-7-sonnet@20250219']);
  });

  it('with no backend for the format, the error says how to configure one', () => {
    expect(() => router(lists, ['bedrock']).route('gpt-4o-mini', 1, 'openai')).toThrow(/set OPENAI_API_KEY, or route models to vertex-openai/);
  });
});

describe('answers are kept apart by backend and concrete model id', () => {
  it('the cache key differs between backends, and between model ids of one backend', () => {
    const parts = { tenant: 't', endpoint: '/v1/messages', body: { model: 'claude-sonnet-4-5', messages: [] }, headers: {} };
    const keys = new Set([
      cacheKey({ ...parts, target: 'anthropic:claude-sonnet-4-5' }),
      cacheKey({ ...parts, target: 'bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0' }),
      cacheKey({ ...parts, target: 'bedrock:eu.anthropic.claude-sonnet-4-5-20250929-v1:0' }),
      cacheKey({ ...parts, target: 'vertex:claude-sonnet-4-5@20250929' }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('a cache entry keeps the backend and its model id (for the cost of hits), and old entries still read', () => {
    const facts = { provider: 'anthropic' as const, model: 'claude-sonnet-4-5-20250929', usage: { input: 3, output: 5 }, requestId: 'req_1', backend: 'bedrock' as const, backendModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' };
    expect(decodeEntry(encodeEntry(facts, '{"a":1}'))).toEqual({ facts, value: '{"a":1}' });
    expect(decodeEntry('anthropic\tclaude-sonnet-4-5\t1\t2\treq_9\n{}')).toEqual({ facts: { provider: 'anthropic', model: 'claude-sonnet-4-5', usage: { input: 1, output: 2 }, requestId: 'req_9' }, value: '{}' });
  });
});

describe('backend settings', () => {
  it('bedrock routes need a region: TBO_BEDROCK_REGION or AWS_REGION', () => {
    const env = { TBO_MODELS_FAST: 'bedrock:claude-haiku-4-5' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/TBO_BEDROCK_REGION.*bedrock routes need a region/);
    expect(loadConfig({ ...env, AWS_REGION: 'us-west-2' }).modelsFast).toBe('bedrock:claude-haiku-4-5');
  });

  it('refuses an unknown backend, a bad region and a malformed id table, naming the setting', () => {
    expect(() => loadConfig({ TBO_MODELS_FAST: 'azure:gpt-4o' })).toThrow(/TBO_MODELS_FAST.*backend one of anthropic, openai, bedrock, vertex, vertex-openai/);
    expect(() => loadConfig({ TBO_BEDROCK_REGION: 'mars' })).toThrow(/TBO_BEDROCK_REGION.*AWS region/);
    expect(() => loadConfig({ TBO_VERTEX_REGION: 'Europe' })).toThrow(/TBO_VERTEX_REGION.*Vertex AI location/);
    expect(() => loadConfig({ TBO_BEDROCK_MODEL_IDS: '{"claude-x": 3}' })).toThrow(/TBO_BEDROCK_MODEL_IDS/);
    expect(() => loadConfig({ TBO_MODELS_FAST: 'bedrock:claude-haiku-4-5', TBO_BEDROCK_REGION: 'sa-east-1' })).toThrow(/TBO_BEDROCK_CROSS_REGION/);
  });
});
