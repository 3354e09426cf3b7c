/**
 * Claude on Amazon Bedrock Runtime, spoken to in the Anthropic Messages API's terms: a Messages
 * request goes in, what the Anthropic API would have answered comes out (its JSON, its SSE events,
 * its error shapes), so clients and the optimizer cannot tell the backends apart.
 *
 * - `InvokeModel` / `InvokeModelWithResponseStream` (`POST /model/{modelId}/invoke[-with-response-stream]`,
 *   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html) with the
 *   client's body minus `model` and `stream`, plus `anthropic_version: "bedrock-2023-05-31"` and the
 *   `anthropic-beta` header as `anthropic_beta` (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html).
 * - Signed with SigV4 (service `bedrock`) by the AWS SDK's signer, with credentials from the AWS
 *   SDK's standard provider chain: on ECS the task role's container credentials, refreshed before
 *   they expire without a restart.
 * - The binary event stream becomes Anthropic SSE (bedrock-stream.ts); Bedrock's errors become the
 *   Anthropic API's (bedrock-errors.ts); `x-amzn-requestid` becomes `request-id`.
 */
import { Readable } from 'node:stream';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { Agent, request, type Dispatcher } from 'undici';
import { bedrockRuntimeHost } from '../../config/backends';
import { copyTraceContext } from '../../observability/tracing';
import { isObject } from '../../protocols/types';
import { anthropicError, anthropicErrorBody, anthropicErrorFrame, errorCode, errorMessage, type AnthropicError, type BedrockCall } from './bedrock-errors';
import { anthropicFrames, type BedrockStreamItem } from './bedrock-stream';
import { readErrorBody } from './error-body';
import type { Upstream, UpstreamRequest, UpstreamResponse } from './types';

/** The Messages API version Bedrock's Claude models take in the body. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export interface BedrockUpstreamOptions {
  /** AWS region of Bedrock Runtime (and of the SigV4 signature). */
  readonly region: string;
  /** Bedrock Runtime endpoint URL. @default https://bedrock-runtime.<region>.amazonaws.com */
  readonly endpoint?: string;
  /** Keep-alive connections to Bedrock (the priority lanes' concurrency, as for the public APIs). */
  readonly connections: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Where signing credentials come from. @default the AWS SDK's standard chain (`fromNodeProviderChain()`) */
  readonly credentials?: AwsCredentialIdentityProvider;
}

/**
 * An {@link Upstream} for Claude on Amazon Bedrock: `send` takes an Anthropic Messages request
 * (`req.model` is the concrete Bedrock model id, `req.stream` chooses the operation) and resolves
 * with what the Anthropic API would have answered.
 */
export class BedrockUpstream implements Upstream {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly basePath: string;
  private readonly signer: SignatureV4;

  constructor(private readonly opts: BedrockUpstreamOptions) {
    this.url = new URL(opts.endpoint ?? `https://${bedrockRuntimeHost(opts.region)}`);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.signer = new SignatureV4({
      service: 'bedrock',
      region: opts.region,
      credentials: opts.credentials ?? fromNodeProviderChain(),
      sha256: Hash.bind(null, 'sha256'),
    });
    this.agent = new Agent({
      connections: opts.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
    });
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const call: BedrockCall = { model: req.model ?? '', region: this.opts.region, stream: req.stream === true };
    if (req.provider !== 'anthropic' || req.path !== '/v1/messages' || (req.method ?? 'POST') !== 'POST' || !req.model) {
      return errorResponse({ status: 404, kind: 'not_found', message: `Amazon Bedrock serves only the Messages API (POST /v1/messages) of routed models, not ${req.method ?? 'POST'} ${req.path}` });
    }
    let body: string;
    try {
      body = bedrockRequestBody(req.body, req.headers['anthropic-beta']);
    } catch {
      return errorResponse({ status: 400, kind: 'invalid_request', message: 'request body must be a JSON object' });
    }
    const path = `${this.basePath}/model/${encodeURIComponent(req.model)}/${call.stream ? 'invoke-with-response-stream' : 'invoke'}`;
    let headers: Record<string, string>;
    try {
      headers = await this.sign(path, body, call.stream);
    } catch (err) {
      return errorResponse(noCredentials(err));
    }
    copyTraceContext(req.headers, headers);
    const res = await request(`${this.url.origin}${path}`, { method: 'POST', headers, body, signal: req.signal, dispatcher: this.agent });
    const requestId = single(res.headers['x-amzn-requestid']);
    if (res.statusCode !== 200) return failed(res, call, requestId);
    const passed: Record<string, string> = requestId ? { 'request-id': requestId } : {};
    if (!call.stream) return { status: 200, headers: { 'content-type': 'application/json', ...passed }, body: res.body };
    return streamed(res.body, call, requestId, passed);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The request's headers with its SigV4 signature (`authorization`, `x-amz-date`, `x-amz-security-token` …). */
  private async sign(path: string, body: string, stream: boolean): Promise<Record<string, string>> {
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path,
      query: {},
      headers: { host: this.url.host, 'content-type': 'application/json', accept: stream ? 'application/vnd.amazon.eventstream' : 'application/json' },
      body,
    });
    return signed.headers;
  }
}

/**
 * The InvokeModel body of an Anthropic Messages request: the same fields without `model` (it is in
 * the URL) and `stream` (the operation says it), with Bedrock's `anthropic_version` and the
 * `anthropic-beta` header's values as `anthropic_beta`. Throws when the body is not a JSON object.
 */
export function bedrockRequestBody(raw: Buffer | string, betaHeader: string | undefined): string {
  const parsed: unknown = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  if (!isObject(parsed)) throw new Error('not a JSON object');
  const { model: _model, stream: _stream, anthropic_version: _version, ...rest } = parsed;
  const betas = (betaHeader ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (betas.length) {
    const listed = Array.isArray(rest.anthropic_beta) ? rest.anthropic_beta.filter((b): b is string => typeof b === 'string') : [];
    rest.anthropic_beta = [...new Set([...listed, ...betas])];
  }
  return JSON.stringify({ anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest });
}

/** A non-200 answer of Bedrock, in the Anthropic API's shape. */
async function failed(res: Dispatcher.ResponseData, call: BedrockCall, requestId: string | undefined): Promise<UpstreamResponse> {
  const text = await readErrorBody(res.body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const code = errorCode(res.headers, parsed);
  return errorResponse(anthropicError(code, res.statusCode, errorMessage(parsed), call, single(res.headers['retry-after'])), requestId);
}

/**
 * A response stream as Anthropic SSE. The first event is awaited: an exception before any chunk
 * (throttling as the stream opens …) becomes an HTTP error, which the dispatcher can retry or fail
 * over like any other; after the first chunk, an exception becomes the Anthropic stream's `error`
 * event and the stream ends.
 */
async function streamed(source: Readable, call: BedrockCall, requestId: string | undefined, passed: Record<string, string>): Promise<UpstreamResponse> {
  const items = anthropicFrames(source);
  let first: IteratorResult<BedrockStreamItem, void>;
  try {
    first = await items.next();
  } catch (err) {
    source.destroy();
    throw err;
  }
  if (!first.done && 'exception' in first.value) {
    source.destroy();
    const { code, message } = first.value.exception;
    return errorResponse(anthropicError(code, 500, message, call), requestId);
  }
  async function* sse(): AsyncGenerator<Buffer> {
    try {
      if (first.done) return;
      for (let item: BedrockStreamItem | void = first.value; item; item = (await items.next()).value) {
        if ('frame' in item) {
          yield Buffer.from(item.frame);
          continue;
        }
        yield Buffer.from(anthropicErrorFrame(anthropicError(item.exception.code, 500, item.exception.message, call)));
        return;
      }
    } finally {
      if (!source.readableEnded) source.destroy();
    }
  }
  return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', ...passed }, body: Readable.from(sse(), { objectMode: false }) };
}

/** An error answer as the Anthropic API sends it: JSON body, `request-id`, `retry-after` when throttled. */
function errorResponse(error: AnthropicError, requestId?: string): UpstreamResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (requestId) headers['request-id'] = requestId;
  if (error.retryAfter) headers['retry-after'] = error.retryAfter;
  return { status: error.status, headers, body: Readable.from([Buffer.from(anthropicErrorBody(error, requestId))]) };
}

/** The credential chain found nothing to sign with (no role, no keys): a configuration problem of the service. */
function noCredentials(err: unknown): AnthropicError {
  const cause = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0].slice(0, 200)}` : 'unknown error';
  return {
    status: 503,
    kind: 'not_configured',
    message: `Amazon Bedrock cannot be called: this service has no AWS credentials to sign with (${cause}); `
      + 'on ECS they come from the task role, elsewhere from the AWS SDK\'s standard chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, the container or instance metadata endpoint)',
  };
}


function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
