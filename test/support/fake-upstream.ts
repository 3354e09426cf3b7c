/**
 * A scriptable fake LLM upstream on 127.0.0.1 (node:http only) that speaks the real wire formats of
 * the Anthropic Messages API (`POST /v1/messages`) and OpenAI Chat Completions
 * (`POST /v1/chat/completions`). Answers are `echo: <last user message text>`. The other APIs are
 * in fake-endpoints.ts (models, token counting, embeddings, moderations), fake-batches.ts (Anthropic
 * message batches) and fake-responses.ts (the OpenAI Responses API, JSON and typed SSE).
 */
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicProvider } from './fake-anthropic';
import { fakeBatches, type FakeBatches } from './fake-batches';
import { DEFAULT_FAKE_MODELS, FAKE_ENDPOINTS, type FakeEndpoint } from './fake-endpoints';
import { openaiProvider } from './fake-openai';
import { fakeResponses, type FakeResponses } from './fake-responses';
import { isRecord, newId, type JsonObject } from './fake-text';
import { LoopbackServer, parseJson, readBody } from './loopback-server';

/** Stream frames of one response and how many of them a truncated stream sends before the cut. */
export interface StreamPlan {
  readonly frames: readonly string[];
  readonly cutAfter: number;
}

/** One provider's wire format. */
export interface FakeProvider {
  readonly name: 'anthropic' | 'openai';
  readonly path: string;
  readonly requestIdHeader: string;
  /** Rate-limit state the real API sends with every response (names as the provider spells them). */
  readonly rateLimitHeaders: Readonly<Record<string, string>>;
  /** Named in the 401 for a missing credential. */
  readonly credentialName: string;
  /** The credential the client sent (`x-api-key` / `Authorization: Bearer`), if any. */
  credential(headers: http.IncomingHttpHeaders): string | undefined;
  /** A 400 message when required fields are missing. */
  invalid(body: JsonObject): string | undefined;
  error(status: number, message?: string): JsonObject;
  reply(body: JsonObject): JsonObject;
  stream(body: JsonObject): StreamPlan;
}

export interface FailureSpec {
  /** 429, 529, 500, 401 … mapped to the provider's error type. */
  readonly status: number;
  /** Seconds, sent as a `retry-after` header. */
  readonly retryAfter?: number;
}

/** A scripted answer: exactly this status, body and headers (e.g. a 200 whose body is an error object). */
export interface ScriptedResponse {
  /** @default 200 */
  readonly status?: number;
  /** Sent as JSON when an object, as is when a string. */
  readonly body: JsonObject | string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RecordedRequest {
  readonly provider: 'anthropic' | 'openai';
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (`{}` when it was not a JSON object). */
  readonly body: JsonObject;
  /** The credential forwarded to us: the `x-api-key` value, else the Bearer token. */
  readonly apiKey: string | undefined;
}

export interface FakeUpstreamOptions {
  /** @default a free port */
  readonly port?: number;
  /** When set, other credentials get a 401 in the provider's shape. @default any non-empty key */
  readonly validKeys?: readonly string[];
}

export interface FakeUpstream {
  readonly url: string;
  readonly port: number;
  /** Requests that reached a provider route. */
  readonly calls: number;
  readonly requests: readonly RecordedRequest[];
  /** Requests whose client disconnected before the response completed. */
  readonly aborted: number;
  failNext(n: number, spec: FailureSpec): void;
  /** Every call for this model fails with `spec` until cleared with `undefined` (or `reset()`). */
  failModel(model: string, spec: FailureSpec | undefined): void;
  /** Delay before the response headers (time to first token). */
  setLatency(ms: number): void;
  /** Delay between stream frames. */
  setStreamChunkDelay(ms: number): void;
  /**
   * Extra delay before a non-streamed chat answer (on top of `setLatency`): as with a real model, a
   * JSON answer arrives only once the whole generation is done, while a stream starts at once.
   */
  setJsonLatency(ms: number): void;
  /** The next n calls never get a response; they end when the client aborts. */
  stallNext(n: number): void;
  /** The next n streams lose their socket after a couple of deltas. */
  truncateNextStream(n: number): void;
  /** The next n calls (that pass the key check) get exactly `response` instead of an answer. */
  respondNext(n: number, response: ScriptedResponse): void;
  /** Every call for this model never gets a response (until `false`, or `reset()`); it ends when the client aborts. */
  stallModel(model: string, stalled: boolean): void;
  /** Answers (JSON and streams) report this model instead of the requested one; `undefined` restores echoing it. */
  setReplyModel(model: string | undefined): void;
  /** The models a provider lists (`GET /v1/models`); `undefined` restores the defaults (also `reset()`). */
  setModels(provider: 'anthropic' | 'openai', ids: readonly string[] | undefined): void;
  /** Anthropic message batches the fake holds (`/v1/messages/batches`), and their lifecycle. */
  readonly batches: FakeBatches;
  /** OpenAI responses the fake stores (`/v1/responses`). */
  readonly responses: FakeResponses;
  /** Clears records, every scripted behaviour, batches and stored responses. */
  reset(): void;
  close(): Promise<void>;
}

const PROVIDERS: readonly FakeProvider[] = [anthropicProvider, openaiProvider];

export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const fake = new FakeUpstreamServer(opts.validKeys);
  await fake.listen(opts.port ?? 0);
  return fake;
}

class FakeUpstreamServer implements FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  calls = 0;
  aborted = 0;
  private failures: FailureSpec[] = [];
  private readonly modelFailures = new Map<string, FailureSpec>();
  private latencyMs = 0;
  private chunkDelayMs = 0;
  private jsonLatencyMs = 0;
  private stalls = 0;
  private truncations = 0;
  private scripted: ScriptedResponse[] = [];
  private readonly stalledModels = new Set<string>();
  private replyModel: string | undefined;
  private models = { ...DEFAULT_FAKE_MODELS };
  readonly batches = fakeBatches();
  readonly responses = fakeResponses();
  private readonly endpoints: readonly FakeEndpoint[] = [...FAKE_ENDPOINTS, ...this.batches.endpoints, ...this.responses.endpoints];
  private closing = false;
  private readonly server = new LoopbackServer((req, res) => this.handle(req, res), {
    onError: (res, err) => sendJson(res, 500, { error: { type: 'fake_upstream_bug', message: String(err) } }, {}),
  });

  constructor(private readonly validKeys: readonly string[] | undefined) {}

  get port(): number {
    return this.server.port;
  }

  get url(): string {
    return this.server.url;
  }

  listen(port: number): Promise<void> {
    return this.server.listen(port);
  }

  failNext(n: number, spec: FailureSpec): void {
    for (let i = 0; i < n; i++) this.failures.push(spec);
  }

  failModel(model: string, spec: FailureSpec | undefined): void {
    if (spec) this.modelFailures.set(model, spec);
    else this.modelFailures.delete(model);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setStreamChunkDelay(ms: number): void {
    this.chunkDelayMs = ms;
  }

  setJsonLatency(ms: number): void {
    this.jsonLatencyMs = ms;
  }

  stallNext(n: number): void {
    this.stalls += n;
  }

  truncateNextStream(n: number): void {
    this.truncations += n;
  }

  respondNext(n: number, response: ScriptedResponse): void {
    for (let i = 0; i < n; i++) this.scripted.push(response);
  }

  stallModel(model: string, stalled: boolean): void {
    if (stalled) this.stalledModels.add(model);
    else this.stalledModels.delete(model);
  }

  setReplyModel(model: string | undefined): void {
    this.replyModel = model;
  }

  setModels(provider: 'anthropic' | 'openai', ids: readonly string[] | undefined): void {
    this.models = { ...this.models, [provider]: ids ?? DEFAULT_FAKE_MODELS[provider] };
  }

  reset(): void {
    this.models = { ...DEFAULT_FAKE_MODELS };
    this.requests.length = 0;
    this.calls = 0;
    this.aborted = 0;
    this.failures = [];
    this.latencyMs = 0;
    this.chunkDelayMs = 0;
    this.jsonLatencyMs = 0;
    this.stalls = 0;
    this.modelFailures.clear();
    this.truncations = 0;
    this.scripted = [];
    this.stalledModels.clear();
    this.replyModel = undefined;
    this.batches.reset();
    this.responses.reset();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let gone = false;
    let cut = false;
    res.once('close', () => {
      gone = true;
      if (!res.writableFinished && !cut && !this.closing) this.aborted++;
    });
    const [path, search = ''] = (req.url ?? '/').split('?');
    // The chat APIs, else the JSON-only endpoints (models, token counting, embeddings, moderations).
    const endpoint = PROVIDERS.some((p) => p.path === path) ? undefined : this.endpoints.find((e) => e.method === req.method && e.matches(path, req.headers));
    const provider = endpoint?.provider ?? PROVIDERS.find((p) => p.path === path);
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      return; // client went away mid-body; counted by the 'close' handler
    }
    if (provider === undefined || (endpoint === undefined && req.method !== 'POST')) {
      sendJson(res, 404, { error: { type: 'not_found_error', message: `fake upstream: no route ${req.method} ${path}` } }, {});
      return;
    }
    const parsed = parseJson(raw);
    const body = isRecord(parsed) ? parsed : {};
    const apiKey = provider.credential(req.headers);
    this.calls++;
    this.requests.push({ provider: provider.name, method: req.method ?? 'GET', path, headers: req.headers, body, apiKey });
    const headers: Record<string, string> = { [provider.requestIdHeader]: newId('req_'), ...provider.rateLimitHeaders };

    if (apiKey === undefined || (this.validKeys !== undefined && !this.validKeys.includes(apiKey))) {
      const why = apiKey === undefined ? `missing ${provider.credentialName}` : 'invalid api key';
      sendJson(res, 401, provider.error(401, why), headers);
      return;
    }
    if (this.stalls > 0) {
      this.stalls--;
      return; // never answer; the client's abort closes the socket
    }
    if (this.stalledModels.has(String(body.model))) return; // never answer, as above
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (gone) return;
    const script = this.scripted.shift();
    if (script !== undefined) {
      const payload = typeof script.body === 'string' ? script.body : JSON.stringify(script.body);
      res.writeHead(script.status ?? 200, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...script.headers });
      res.end(payload);
      return;
    }
    const failure = this.modelFailures.get(String(body.model)) ?? this.failures.shift();
    if (failure !== undefined) {
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      sendJson(res, failure.status, provider.error(failure.status), headers);
      return;
    }
    const request = endpoint && { body, path, query: new URLSearchParams(search), models: this.models, headers: req.headers };
    const problem = parsed === undefined && req.method === 'POST' && !(endpoint?.bodyless && raw === '') ? 'request body is not valid JSON' : request ? endpoint?.invalid(request) : provider.invalid(body);
    if (problem !== undefined) {
      sendJson(res, 400, provider.error(400, problem), headers);
      return;
    }
    const answered = this.replyModel === undefined ? body : { ...body, model: this.replyModel };
    let plan: StreamPlan;
    if (endpoint && request) {
      const reply = endpoint.reply({ ...request, body: answered });
      if ('chunks' in reply) {
        res.writeHead(reply.status, { ...headers, 'content-type': reply.contentType });
        for (const [i, chunk] of reply.chunks.entries()) {
          if (i > 0 && this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
          if (gone) return;
          res.write(chunk);
        }
        res.end();
        return;
      }
      if (!('stream' in reply)) {
        sendJson(res, reply.status, reply.body, headers);
        return;
      }
      plan = reply.stream;
    } else if (body.stream !== true) {
      if (this.jsonLatencyMs > 0) await sleep(this.jsonLatencyMs);
      if (gone) return;
      sendJson(res, 200, provider.reply(answered), headers);
      return;
    } else {
      plan = provider.stream(answered);
    }
    const truncate = this.truncations > 0;
    if (truncate) this.truncations--;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (let i = 0; i < plan.frames.length; i++) {
      if (i > 0 && this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      if (gone) return;
      if (truncate && i + 1 >= plan.cutAfter) {
        cut = true;
        await new Promise<void>((resolve) => res.write(plan.frames[i], () => resolve())); // let the deltas leave
        res.socket?.destroy();
        return;
      }
      res.write(plan.frames[i]);
    }
    res.end();
  }
}

function sendJson(res: http.ServerResponse, status: number, body: JsonObject, headers: Record<string, string>): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}
