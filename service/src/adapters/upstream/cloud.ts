import type { Backend } from '../../config/backends';
import { bedrockRegionOf } from '../../config/model-ids';
import type { ServiceConfig } from '../../config/settings';
import type { Upstream } from './types';
import type { VertexAuth } from './vertex';

/*
 * The adapters are loaded when a route first needs one: the AWS and Google client libraries they
 * bring are a fifth of the bundle, and a deployment that routes only to the public APIs should not
 * spend its cold start evaluating them (esbuild keeps a module reached only by require() unevaluated
 * until that call).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- deliberate lazy loading, see above */
const bedrockModule = () => require('./bedrock') as typeof import('./bedrock');
const vertexModule = () => require('./vertex') as typeof import('./vertex');
/* eslint-enable @typescript-eslint/no-require-imports */

/** Connection pool and timeouts every upstream client shares. */
export interface HttpClientOptions {
  readonly connections: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

/**
 * Clients for the cloud platforms' model APIs, each authenticated by the workload's own identity:
 * the AWS credential chain (the ECS task role, IRSA, Pod Identity) for Bedrock, Application
 * Default Credentials (the metadata server on Cloud Run and GKE) for Vertex AI, shared by both
 * Vertex backends so one token serves them.
 */
export class CloudUpstreams {
  private vertexAuth: VertexAuth | undefined;

  constructor(private readonly config: ServiceConfig, private readonly http: HttpClientOptions, private readonly env: NodeJS.ProcessEnv = process.env) {}

  create(backend: Exclude<Backend, 'anthropic' | 'openai'>): Upstream {
    const { config, http } = this;
    if (backend === 'bedrock') {
      // The config loader has checked that bedrock routes have a region.
      return new (bedrockModule().BedrockUpstream)({ ...http, region: bedrockRegionOf(config, this.env) ?? '', endpoint: config.bedrockEndpoint });
    }
    const { adcAuth, VertexUpstream } = vertexModule();
    this.vertexAuth ??= adcAuth(config.vertexProject);
    return new VertexUpstream({ ...http, format: backend === 'vertex' ? 'anthropic' : 'openai', region: config.vertexRegion, endpoint: config.vertexEndpoint, auth: this.vertexAuth });
  }
}
