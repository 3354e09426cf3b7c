import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { vertexHost } from '../../config/backends';
import { TboError } from '../../errors';
import { copyTraceContext } from '../../observability/tracing';
import { isObject, type Json } from '../../protocols/types';
import type { VertexAuth } from './google-adc';
import { readErrorBody } from './error-body';
import type { Upstream, UpstreamRequest, UpstreamResponse } from './types';
import { clientError, errorBody, type VertexCall } from './vertex-errors';

export { adcAuth, type VertexAuth } from './google-adc';

/**
 * The `anthropic_version` Vertex AI requires in a Claude request's body (it replaces the
 * `anthropic-version` header): https://docs.anthropic.com/en/api/claude-on-vertex-ai
 */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** A Claude model id as Vertex names publisher models (`claude-sonnet-4-5@20250929`, `claude-sonnet-4-6`): safe in a URL path. */
const CLAUDE_MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(@[A-Za-z0-9._-]{1,64})?$/;
/** Response headers that may carry the call's id, most specific first. */
const REQUEST_ID_HEADERS = ['request-id', 'x-request-id', 'x-goog-request-id'] as const;
/** Options of {@link VertexUpstream}. */
export interface VertexUpstreamOptions {
  /** Connections kept to Vertex AI (the priority lanes bound calls in flight). */
  readonly connections: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /**
   * `anthropic`: Claude through `rawPredict` / `streamRawPredict` of the Anthropic publisher's
   * models; `openai`: the OpenAI-compatible Chat Completions endpoint (Gemini).
   */
  readonly format: 'anthropic' | 'openai';
  /** Vertex AI location: `global` or a region such as `us-east5` (`TBO_VERTEX_REGION`). */
  readonly region: string;
  /** Base URL instead of `https://<region>-aiplatform.googleapis.com` (`TBO_VERTEX_ENDPOINT`). */
  readonly endpoint?: string;
  /** The workload's Google identity (shared by both formats). */
  readonly auth: VertexAuth;
}

/**
 * Claude and Gemini on Google Vertex AI, called with the workload's own OAuth token (Application
 * Default Credentials) and no API key. A request in the client's wire format goes in, an answer in
 * that format comes out:
 * - Claude (`format: 'anthropic'`): `POST /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict`
 *   (`:streamRawPredict` for streams) with the Messages body less `model`, plus
 *   `anthropic_version: "vertex-2023-10-16"`; the answer is Anthropic's JSON or SSE as it is
 *   (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude);
 * - Gemini (`format: 'openai'`): `POST /v1/projects/{project}/locations/{region}/endpoints/openapi/chat/completions`
 *   with the body's `model` set to the Vertex id (`google/gemini-2.5-flash`); the answer is OpenAI's
 *   JSON or SSE (https://cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/overview).
 * Errors come back in the client's API shape (see vertex-errors.ts); a failure to get a token or
 * the project rejects, like a connection failure, so the dispatcher retries and fails over.
 */
export class VertexUpstream implements Upstream {
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly opts: VertexUpstreamOptions) {
    const url = new URL(opts.endpoint ?? `https://${vertexHost(opts.region)}`);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.agent = new Agent({
      connections: opts.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
    });
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { format, region } = this.opts;
    const model = req.model ?? '';
    const problem = this.requestProblem(model, req);
    if (problem) return localError(format, problem.kind, problem.status, problem.message);
    const body = parseBody(req.body);
    if (!body) return localError(format, 'invalid_request', 400, 'the request body is not a JSON object');
    if (format === 'anthropic') {
      const urlDocument = documentUrlSource(body);
      if (urlDocument) return localError(format, 'invalid_request', 400, urlDocument);
    }

    const [token, project] = await this.credentials(req.signal);
    const call: VertexCall = { format, model, project, region };
    const where = `/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(region)}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    let path: string;
    let payload: string;
    if (format === 'anthropic') {
      // The body says whether it streams (as the Anthropic Vertex SDK decides): the operation must agree.
      path = `${where}/publishers/anthropic/models/${model}:${body.stream === true ? 'streamRawPredict' : 'rawPredict'}`;
      const { model: _named, ...rest } = body;
      payload = JSON.stringify({ ...rest, anthropic_version: VERTEX_ANTHROPIC_VERSION });
      // Beta features go as the header, as on the public API; the API key and version headers do not.
      const beta = req.headers['anthropic-beta'];
      if (beta) headers['anthropic-beta'] = beta;
    } else {
      path = `${where}/endpoints/openapi/chat/completions`;
      payload = JSON.stringify({ ...body, model });
    }

    copyTraceContext(req.headers, headers);
    const res = await request(this.origin + this.basePath + path, { method: 'POST', headers, body: payload, signal: req.signal, dispatcher: this.agent });
    const idHeader = format === 'anthropic' ? 'request-id' : 'x-request-id';
    const requestId = REQUEST_ID_HEADERS.map((name) => res.headers[name]).find((v): v is string => typeof v === 'string');
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return { status: res.statusCode, headers: { ...res.headers, ...(requestId ? { [idHeader]: requestId } : {}) }, body: res.body };
    }
    const raw = await readErrorBody(res.body);
    const principal = res.statusCode === 403 ? await this.opts.auth.principal?.() : undefined;
    const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined;
    const error = clientError(res.statusCode, raw, { ...call, ...(principal ? { principal } : {}) }, retryAfter);
    return {
      status: error.status,
      headers: { 'content-type': 'application/json', ...(requestId ? { [idHeader]: requestId } : {}), ...(error.retryAfter ? { 'retry-after': error.retryAfter } : {}) },
      body: Readable.from([Buffer.from(error.body)]),
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Why a call cannot go to Vertex AI at all, if it cannot. */
  private requestProblem(model: string, req: UpstreamRequest): { kind: 'not_found' | 'invalid_request'; status: number; message: string } | undefined {
    if (!model) return { kind: 'not_found', status: 404, message: `Vertex AI serves only routed chat calls here; ${req.path} goes to the public API` };
    if (req.method && req.method !== 'POST') return { kind: 'invalid_request', status: 405, message: `Vertex AI takes POST here, not ${req.method}` };
    // The Claude model id goes into the URL path: only what Vertex model ids are made of.
    if (this.opts.format === 'anthropic' && !CLAUDE_MODEL_ID.test(model)) {
      return { kind: 'not_found', status: 404, message: `model: "${model.slice(0, 200)}" is not a Vertex AI Claude model id (such as claude-sonnet-4-5@20250929)` };
    }
    return undefined;
  }

  /** The bearer token and project, or a rejection that names Application Default Credentials. */
  private async credentials(signal: AbortSignal): Promise<[string, string]> {
    const { auth } = this.opts;
    const both = Promise.all([auth.token(), auth.project()]);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([both, aborted]);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new TboError('upstream_unavailable', `Vertex AI: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      both.catch(() => undefined); // settled later when the race was lost to an abort
    }
  }
}

/** An error answered without calling Vertex AI, in the client's shape. */
function localError(format: 'anthropic' | 'openai', kind: 'not_found' | 'invalid_request', status: number, message: string): UpstreamResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Readable.from([Buffer.from(errorBody(format, kind, message))]) };
}

function parseBody(body: Buffer | string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Vertex AI takes no URL sources in document blocks (the Anthropic Vertex SDK refuses them before
 * sending, https://github.com/anthropics/anthropic-sdk-typescript/tree/main/packages/vertex-sdk):
 * the message for such a request, else undefined.
 */
function documentUrlSource(body: Json): string | undefined {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const isUrlDocument = (block: unknown) => isObject(block) && block.type === 'document' && isObject(block.source) && block.source.type === 'url';
  for (const [i, message] of messages.entries()) {
    const content: unknown[] = isObject(message) && Array.isArray(message.content) ? message.content : [];
    for (const block of content) {
      const nested: unknown[] = isObject(block) && block.type === 'tool_result' && Array.isArray(block.content) ? block.content : [];
      if (isUrlDocument(block) || nested.some(isUrlDocument)) {
        return `messages.${i}: Vertex AI does not accept URL sources in document blocks; send the document as base64 or text`;
      }
    }
  }
  return undefined;
}

