/**
 * What a deployment's routing asks of its platform: which backends its routes use (so a target
 * creates the API-key secrets only for the public APIs it calls, and grants its workload identity
 * exactly the cloud models it routes to). Read from the same settings the service routes by.
 */
import { BACKENDS, parseRouteList, type Backend, type RouteEntry } from '../../service/src/config/backends';
import { SETTINGS } from '../../service/src/config/settings';
import type { TboServiceConfig } from './contract';

export {
  BACKENDS,
  BACKEND_FORMAT,
  BEDROCK_CROSS_REGION,
  DEFAULT_BEDROCK_MODEL_IDS,
  DEFAULT_VERTEX_MODEL_IDS,
  bedrockGeography,
  bedrockModel,
  bedrockRuntimeHost,
  isPublicApi,
  vertexHost,
  vertexModel,
} from '../../service/src/config/backends';
export type { Backend, BedrockCrossRegion, BedrockModel, RouteEntry, WireFormat } from '../../service/src/config/backends';

const TIER_SETTINGS = ['modelsFast', 'modelsBalanced', 'modelsStrongest'] as const;

/** Every route of a configuration's three tiers (the service's defaults where the config sets none). */
export function routesOf(config: TboServiceConfig): RouteEntry[] {
  return TIER_SETTINGS.flatMap((name) => {
    const list = SETTINGS[name].schema.parse(config[name]) as string;
    return parseRouteList(list);
  });
}

/** The backends a configuration routes to. */
export function routedBackends(config: TboServiceConfig): ReadonlySet<Backend> {
  const used = new Set(routesOf(config).map((r) => r.backend));
  return new Set(BACKENDS.filter((b) => used.has(b)));
}

/** The client model names a configuration routes to one backend, in order, without repeats. */
export function modelsRoutedTo(config: TboServiceConfig, backend: Backend): string[] {
  return [...new Set(routesOf(config).filter((r) => r.backend === backend).map((r) => r.model))];
}
