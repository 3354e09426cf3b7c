/**
 * A fake Google Vertex AI on 127.0.0.1 (node:http only) for the two surfaces TBO calls:
 * - Claude: `POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict`
 *   and `:streamRawPredict`, with the Messages body less `model` plus `anthropic_version: "vertex-2023-10-16"`;
 * - the OpenAI-compatible endpoint: `POST /v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions`
 *   with `model: "google/…"`.
 * It checks what Vertex checks (a bearer token the metadata fake issued and that has not expired,
 * the project, the location, the URL's shape, the enabled models, the body) and answers with the
 * public-API fakes' providers (fake-anthropic.ts, fake-openai.ts), so its answers are those of the
 * public fakes for the same request. Failures come in Google's error shape
 * (`{"error":{"code","message","status","details"}}`, optionally inside a JSON array, as Vertex
 * sometimes sends them).
 */
import * as http from 'node:http';
import { anthropicProvider } from './fake-anthropic';
import { bearerToken, isRecord, newId, type JsonObject } from './fake-text';
import { openaiProvider } from './fake-openai';
import type { StreamPlan } from './fake-upstream';
import { LoopbackServer, parseJson, readBody } from './loopback-server';

/** Vertex's Claude model ids the fake serves unless told otherwise (the config table's defaults). */
export const DEFAULT_CLAUDE_MODELS = ['claude-haiku-4-5@20251001', 'claude-sonnet-4-5@20250929', 'claude-opus-4-1@20250805'] as const;
/** OpenAI-compatible models the fake serves unless told otherwise. */
export const DEFAULT_OPENAI_MODELS = ['google/gemini-2.5-flash', 'google/gemini-2.5-pro'] as const;

export interface FakeVertexOptions {
  /** The project calls must name. */
  readonly project: string;
  /** The location calls must name (the real API serves one per host). */
  readonly location: string;
  /** Whether a bearer token is valid now: the metadata fake's `isValid`. */
  readonly isValidToken: (token: string) => boolean;
  /** Claude models enabled in Model Garden. @default DEFAULT_CLAUDE_MODELS */
  readonly claudeModels?: readonly string[];
  /** Models of the OpenAI-compatible endpoint. @default DEFAULT_OPENAI_MODELS */
  readonly openaiModels?: readonly string[];
}

/** A scripted Google error. */
export interface VertexFailure {
  /** 400, 403, 404, 429, 500, 503 … with the matching Google status. */
  readonly status: number;
  /** Sent inside a one-element JSON array, as Vertex sometimes does. @default false */
  readonly array?: boolean;
  /** Sent as a `retry-after` header (Vertex's own 429s have none). */
  readonly retryAfter?: number;
}

/** A scripted answer: exactly this status, body and headers. */
export interface VertexScripted {
  readonly status: number;
  /** Sent as is when a string, else as JSON (an object, or an array as Google's errors sometimes are). */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FakeVertexRequest {
  readonly surface: 'claude' | 'openai';
  /** `rawPredict`, `streamRawPredict`, or `chat.completions`. */
  readonly method: string;
  readonly path: string;
  readonly project: string;
  readonly location: string;
  /** The model the call named: from the URL (Claude) or the body (OpenAI-compatible). */
  readonly model: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: JsonObject;
  readonly token: string | undefined;
}

export interface FakeVertex {
  readonly url: string;
  /** Calls that reached a model route (whatever their outcome). */
  readonly calls: number;
  readonly requests: readonly FakeVertexRequest[];
  /** Calls refused for their bearer token. */
  readonly unauthenticated: number;
  /** The next n calls (past the token check) fail with `failure`. */
  failNext(n: number, failure: VertexFailure): void;
  /** Every call fails with `failure` until `undefined`. */
  failAlways(failure: VertexFailure | undefined): void;
  /** The next n calls (past the token check) get exactly `response`. */
  respondNext(n: number, response: VertexScripted): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeVertex(opts: FakeVertexOptions): Promise<FakeVertex> {
  const fake = new FakeVertexServer(opts);
  await fake.listen();
  return fake;
}

const GOOGLE_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const CLAUDE_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;
const OPENAI_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/endpoints\/openapi\/chat\/completions$/;

class FakeVertexServer implements FakeVertex {
  readonly requests: FakeVertexRequest[] = [];
  calls = 0;
  unauthenticated = 0;
  private failures: VertexFailure[] = [];
  private always: VertexFailure | undefined;
  private scripted: VertexScripted[] = [];
  private readonly claudeModels: ReadonlySet<string>;
  private readonly openaiModels: ReadonlySet<string>;
  private readonly server = new LoopbackServer((req, res) => this.handle(req, res), {
    onError: (res, err) => sendJson(res, 500, { error: { code: 500, message: `fake vertex bug: ${String(err)}`, status: 'INTERNAL' } }),
  });

  constructor(private readonly opts: FakeVertexOptions) {
    this.claudeModels = new Set(opts.claudeModels ?? DEFAULT_CLAUDE_MODELS);
    this.openaiModels = new Set(opts.openaiModels ?? DEFAULT_OPENAI_MODELS);
  }

  get url(): string {
    return this.server.url;
  }

  listen(): Promise<void> {
    return this.server.listen();
  }

  failNext(n: number, failure: VertexFailure): void {
    for (let i = 0; i < n; i++) this.failures.push(failure);
  }

  failAlways(failure: VertexFailure | undefined): void {
    this.always = failure;
  }

  respondNext(n: number, response: VertexScripted): void {
    for (let i = 0; i < n; i++) this.scripted.push(response);
  }

  reset(): void {
    this.requests.length = 0;
    this.calls = 0;
    this.unauthenticated = 0;
    this.failures = [];
    this.always = undefined;
    this.scripted = [];
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    const claude = CLAUDE_PATH.exec(path);
    const chat = claude ? undefined : OPENAI_PATH.exec(path);
    if (req.method !== 'POST' || (!claude && !chat)) {
      sendGoogle(res, 404, `The requested URL ${path} was not found on this server.`);
      return;
    }
    const [project, location] = [decodeURIComponent((claude ?? chat)![1]), decodeURIComponent((claude ?? chat)![2])];
    const parsed = parseJson(raw);
    const body = isRecord(parsed) ? parsed : {};
    const surface = claude ? 'claude' : 'openai';
    const model = claude ? decodeURIComponent(claude[3]) : String(body.model ?? '');
    const token = bearerToken(req.headers);
    this.calls++;
    this.requests.push({ surface, method: claude ? claude[4] : 'chat.completions', path, project, location, model, headers: req.headers, body, token });

    if (token === undefined || !this.opts.isValidToken(token)) {
      this.unauthenticated++;
      sendGoogle(res, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.');
      return;
    }
    if (project !== this.opts.project) {
      sendGoogle(res, 403, `Permission denied on resource project ${project}.`, { reason: 'CONSUMER_INVALID' });
      return;
    }
    if (location !== this.opts.location) {
      sendGoogle(res, 400, `Location ${location} is not served by this endpoint (${this.opts.location}-aiplatform.googleapis.com).`);
      return;
    }
    const script = this.scripted.shift();
    if (script) {
      const payload = typeof script.body === 'string' ? script.body : JSON.stringify(script.body);
      res.writeHead(script.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...script.headers });
      res.end(payload);
      return;
    }
    const failure = this.always ?? this.failures.shift();
    if (failure) {
      sendFailure(res, failure, `projects/${project}/locations/${location}/publishers/${claude ? 'anthropic' : 'google'}/models/${model}`);
      return;
    }
    if (parsed === undefined) {
      sendGoogle(res, 400, 'Invalid JSON payload received.');
      return;
    }
    if (claude) this.answerClaude(res, claude[4], model, body, `projects/${project}/locations/${location}/publishers/anthropic/models/${model}`);
    else this.answerOpenAi(res, model, body);
  }

  private answerClaude(res: http.ServerResponse, method: string, model: string, body: JsonObject, resource: string): void {
    if (!this.claudeModels.has(model)) {
      sendGoogle(res, 404, `Publisher Model \`${resource}\` was not found or your project does not have access to it. Please ensure you are using a valid model version.`);
      return;
    }
    // Validation errors of the model itself come back in Anthropic's shape, as Vertex passes them.
    const headers = { 'request-id': newId('req_vrtx_') };
    const problem = body.anthropic_version !== 'vertex-2023-10-16'
      ? "anthropic_version: Input should be 'vertex-2023-10-16'"
      : 'model' in body
        ? 'model: Extra inputs are not permitted'
        : (body.stream === true) !== (method === 'streamRawPredict')
          ? `${method} does not match stream: ${String(body.stream)}`
          : anthropicProvider.invalid({ ...body, model });
    if (problem !== undefined) {
      sendJson(res, 400, anthropicProvider.error(400, problem), headers);
      return;
    }
    // Claude on Vertex names the model by its dated id, and its message ids say Vertex.
    const answered = { ...body, model: model.replace('@', '-') };
    if (method === 'rawPredict') {
      const reply = anthropicProvider.reply(answered);
      sendJson(res, 200, { ...reply, id: String(reply.id).replace(/^msg_/, 'msg_vrtx_') }, headers);
      return;
    }
    const plan = anthropicProvider.stream(answered);
    streamFrames(res, { ...plan, frames: plan.frames.map((f, i) => (i === 0 ? f.replace('"id":"msg_', '"id":"msg_vrtx_') : f)) }, headers);
  }

  private answerOpenAi(res: http.ServerResponse, model: string, body: JsonObject): void {
    if (!this.openaiModels.has(model)) {
      sendGoogle(res, 404, `Publisher Model \`${model}\` was not found or your project does not have access to it.`);
      return;
    }
    const headers = { 'x-request-id': newId('req_') };
    const problem = openaiProvider.invalid(body);
    if (problem !== undefined) {
      sendGoogle(res, 400, problem);
      return;
    }
    if (body.stream === true) streamFrames(res, openaiProvider.stream(body), headers);
    else sendJson(res, 200, openaiProvider.reply(body), headers);
  }
}

/** A scripted failure in Google's shape, with what the real errors carry. */
function sendFailure(res: http.ServerResponse, failure: VertexFailure, resource: string): void {
  const headers: Record<string, string> = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
  switch (failure.status) {
    case 429:
      sendGoogle(res, 429, 'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.', {}, failure.array, headers);
      return;
    case 403:
      sendGoogle(res, 403, `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`, {
        reason: 'IAM_PERMISSION_DENIED',
        metadata: { permission: 'aiplatform.endpoints.predict', resource },
      }, failure.array, headers);
      return;
    case 404:
      sendGoogle(res, 404, `Publisher Model \`${resource}\` was not found or your project does not have access to it.`, {}, failure.array, headers);
      return;
    default:
      sendGoogle(res, failure.status, failure.status >= 500 ? 'Internal error encountered.' : 'Request contains an invalid argument.', {}, failure.array, headers);
  }
}

function sendGoogle(res: http.ServerResponse, code: number, message: string, info: { reason?: string; metadata?: JsonObject } = {}, array = false, headers: Record<string, string> = {}): void {
  const details = info.reason ? [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: info.reason, domain: 'aiplatform.googleapis.com', metadata: info.metadata ?? {} }] : undefined;
  const error = { error: { code, message, status: GOOGLE_STATUS[code] ?? 'UNKNOWN', ...(details ? { details } : {}) } };
  sendJson(res, code, array ? [error] : error, headers);
}

function streamFrames(res: http.ServerResponse, plan: StreamPlan, headers: Record<string, string>): void {
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const frame of plan.frames) res.write(frame);
  res.end();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}
