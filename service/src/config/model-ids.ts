import { bedrockModel, parseRouteList, vertexModel, type Backend } from './backends';
import type { ServiceConfig } from './settings';

/** The settings that say how routed models are named on each backend. */
type ModelIdSettings = Pick<ServiceConfig, 'bedrockRegion' | 'bedrockCrossRegion' | 'bedrockModelIds' | 'vertexModelIds'>;

/** Bedrock's region: `TBO_BEDROCK_REGION`, else the region the AWS SDKs use (`AWS_REGION`, `AWS_DEFAULT_REGION`). */
export function bedrockRegionOf(config: Pick<ServiceConfig, 'bedrockRegion'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return config.bedrockRegion ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
}

/** Turns a client's model name into the concrete id each backend is called with. */
export function modelResolver(config: ModelIdSettings, env: NodeJS.ProcessEnv = process.env): (backend: Backend, model: string) => string {
  const bedrockIds = JSON.parse(config.bedrockModelIds) as Record<string, string>;
  const vertexIds = JSON.parse(config.vertexModelIds) as Record<string, string>;
  const region = bedrockRegionOf(config, env) ?? '';
  return (backend, model) => {
    switch (backend) {
      case 'bedrock':
        return bedrockModel(model, { region, crossRegion: config.bedrockCrossRegion, ids: bedrockIds }).id;
      case 'vertex':
      case 'vertex-openai':
        return vertexModel(model, backend, vertexIds);
      default:
        return model;
    }
  };
}

/** Problems with the backends the routing tiers use (each names its setting), for the config loader. */
export function backendProblems(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const routes = [config.modelsFast, config.modelsBalanced, config.modelsStrongest].flatMap((list) => parseRouteList(list));
  const problems: string[] = [];
  const bedrock = routes.filter((r) => r.backend === 'bedrock');
  if (bedrock.length) {
    const region = bedrockRegionOf(config, env);
    if (!region) problems.push('TBO_BEDROCK_REGION (upstreams.bedrock.region): bedrock routes need a region; set it, or AWS_REGION');
    else {
      const resolve = modelResolver(config, env);
      for (const { model } of bedrock) {
        try {
          resolve('bedrock', model);
        } catch (err) {
          problems.push((err as Error).message);
          break;
        }
      }
    }
  }
  return problems;
}
