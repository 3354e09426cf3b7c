/**
 * A fake Amazon Bedrock Runtime on 127.0.0.1 that checks what Bedrock checks and answers as it
 * answers, for Claude through `InvokeModel` and `InvokeModelWithResponseStream`
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html):
 * - every request's SigV4 signature is recomputed with @smithy/signature-v4 from the credentials it
 *   accepts (region, service `bedrock`, session token, a signing time within 5 minutes); unknown,
 *   expired or wrongly signed requests get the 403 AWS sends (`UnrecognizedClientException`,
 *   `ExpiredTokenException`, `InvalidSignatureException`, `MissingAuthenticationTokenException`);
 * - the body must be a Messages request with `anthropic_version: "bedrock-2023-05-31"` and no
 *   `model` or `stream` (Bedrock's JSON schema rejects extraneous keys); the model id (from the
 *   path) must be one it knows; Claude 4 models only through an inference profile;
 * - answers are the public-API fake's (fake-anthropic.ts), so a request gets the same message
 *   from both: as JSON, or as a binary event stream (@smithy/core's codec) of `chunk` events
 *   whose `{"bytes": base64, "p": padding}` payload is one Anthropic stream event, `message_stop`
 *   with Bedrock's `amazon-bedrock-invocationMetrics`;
 * - errors are Bedrock's: `x-amzn-errortype: <Code>:http://internal.amazon.com/coral/…` and
 *   `{"message": …}` with the shape's status; in a stream, `:message-type: exception` events.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStreamCodec, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, Hash, toUtf8 } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { DEFAULT_BEDROCK_MODEL_IDS } from '../../service/src/config/backends';
import { anthropicProvider } from './fake-anthropic';
import type { CredentialStatus } from './fake-aws-credentials';
import { isRecord, newId, type JsonObject } from './fake-text';
import { LoopbackServer, parseJson, readBytes } from './loopback-server';

/** The HTTP status of each Bedrock Runtime error shape. */
export const BEDROCK_ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

/** The inference-profile prefixes the default model list serves each Claude model through. */
const PROFILES = ['us', 'eu', 'apac', 'global'] as const;
const ACCOUNT = '123456789012';
/** Bedrock pads each chunk with a prefix of this alphabet (`p`), so sizes do not reveal tokens. */
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456';

/** A scripted Bedrock error. */
export interface BedrockFailure {
  /** The error shape: `ThrottlingException`, `ValidationException`, `InternalServerException` … */
  readonly code: string;
  /** @default the shape's status ({@link BEDROCK_ERROR_STATUS}) */
  readonly status?: number;
  /** @default a message in Bedrock's words */
  readonly message?: string;
}

/** An exception event that ends a response stream. */
export interface StreamException {
  /** The `:exception-type`, a member of Bedrock's ResponseStream union. */
  readonly type: 'internalServerException' | 'modelStreamErrorException' | 'validationException' | 'throttlingException' | 'modelTimeoutException' | 'serviceUnavailableException';
  /** Chunks sent before it. @default 2 */
  readonly afterChunks?: number;
  readonly message?: string;
}

export interface RecordedBedrockRequest {
  readonly operation: 'InvokeModel' | 'InvokeModelWithResponseStream';
  /** The model id from the path, decoded. */
  readonly modelId: string;
  /** The path as sent (the model id percent-encoded). */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: JsonObject;
  /** The access key id that signed it. */
  readonly accessKeyId: string;
  /** The `x-amzn-requestid` it was answered with. */
  readonly requestId: string;
}

/** A request refused before Bedrock looked at it: signature or credentials. */
export interface AuthRejection {
  readonly code: string;
  readonly accessKeyId: string | undefined;
}

export interface FakeBedrockOptions {
  /** Whether a signature by this access key id is accepted now, and with which secret (the fake credentials endpoint's `status`). */
  readonly credentials: (accessKeyId: string) => CredentialStatus;
  /** The region signatures must be scoped to. @default us-east-1 */
  readonly region?: string;
  /** Model ids it serves. @default {@link defaultBedrockModels} */
  readonly models?: readonly string[];
}

export interface FakeBedrock {
  readonly url: string;
  /** Requests with a valid signature. */
  readonly requests: readonly RecordedBedrockRequest[];
  /** Requests refused for their signature or credentials. */
  readonly rejections: readonly AuthRejection[];
  /** The next n signed requests fail with `failure`. */
  failNext(n: number, failure: BedrockFailure): void;
  /** Every request for this model id fails with `failure` until cleared with `undefined`. */
  failModel(modelId: string, failure: BedrockFailure | undefined): void;
  /** The service's role may not invoke this model id: an AccessDeniedException naming the action, until `false`. */
  denyModel(modelId: string, denied: boolean): void;
  /** The next n response streams end with this exception event. */
  failNextStream(n: number, exception: StreamException): void;
  /** Delay before the response headers. */
  setLatency(ms: number): void;
  /** Clears records and every scripted behaviour. */
  reset(): void;
  close(): Promise<void>;
}

/** Every Claude model of the built-in table through each inference profile, and the Claude 3 ones in-region too. */
export function defaultBedrockModels(): string[] {
  const ids = Object.values(DEFAULT_BEDROCK_MODEL_IDS);
  return [...ids.flatMap((id) => PROFILES.map((p) => `${p}.${id}`)), ...ids.filter((id) => id.includes('claude-3'))];
}

export async function startFakeBedrock(opts: FakeBedrockOptions): Promise<FakeBedrock> {
  const fake = new FakeBedrockServer(opts);
  await fake.listen();
  return fake;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const sha256 = Hash.bind(null, 'sha256');

class FakeBedrockServer implements FakeBedrock {
  readonly requests: RecordedBedrockRequest[] = [];
  readonly rejections: AuthRejection[] = [];
  private failures: BedrockFailure[] = [];
  private readonly modelFailures = new Map<string, BedrockFailure>();
  private readonly denied = new Set<string>();
  private streamFailures: StreamException[] = [];
  private latencyMs = 0;
  private readonly region: string;
  private readonly models: ReadonlySet<string>;
  private readonly server = new LoopbackServer((req, res) => this.handle(req, res), {
    onError: (res, err) => sendError(res, { code: 'InternalServerException', status: 500, message: `fake bedrock bug: ${String(err)}` }),
  });

  constructor(private readonly opts: FakeBedrockOptions) {
    this.region = opts.region ?? 'us-east-1';
    this.models = new Set(opts.models ?? defaultBedrockModels());
  }

  get url(): string {
    return this.server.url;
  }

  listen(): Promise<void> {
    return this.server.listen();
  }

  failNext(n: number, failure: BedrockFailure): void {
    for (let i = 0; i < n; i++) this.failures.push(failure);
  }

  failModel(modelId: string, failure: BedrockFailure | undefined): void {
    if (failure) this.modelFailures.set(modelId, failure);
    else this.modelFailures.delete(modelId);
  }

  denyModel(modelId: string, denied: boolean): void {
    if (denied) this.denied.add(modelId);
    else this.denied.delete(modelId);
  }

  failNextStream(n: number, exception: StreamException): void {
    for (let i = 0; i < n; i++) this.streamFailures.push(exception);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  reset(): void {
    this.requests.length = 0;
    this.rejections.length = 0;
    this.failures = [];
    this.modelFailures.clear();
    this.denied.clear();
    this.streamFailures = [];
    this.latencyMs = 0;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBytes(req);
    const [path, search = ''] = (req.url ?? '/').split('?');
    const route = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream)$/.exec(path);
    if (req.method !== 'POST' || !route) {
      sendError(res, { code: 'UnknownOperationException', status: 404, message: 'Unknown operation' });
      return;
    }
    const auth = await verifySignature(req, path, search, raw, this.region, this.opts.credentials);
    if ('code' in auth) {
      this.rejections.push({ code: auth.code, accessKeyId: auth.accessKeyId });
      sendError(res, { code: auth.code, status: auth.code === 'IncompleteSignature' ? 400 : 403, message: auth.message });
      return;
    }
    const modelId = decodeURIComponent(route[1]);
    const stream = route[2] === 'invoke-with-response-stream';
    const body = parseObject(raw);
    const requestId = randomUUID();
    this.requests.push({ operation: stream ? 'InvokeModelWithResponseStream' : 'InvokeModel', modelId, path, headers: req.headers, body: body ?? {}, accessKeyId: auth.accessKeyId, requestId });
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    const failure = this.modelFailures.get(modelId) ?? this.failures.shift();
    if (failure) {
      sendError(res, failure, requestId);
      return;
    }
    if (this.denied.has(modelId)) {
      const action = stream ? 'bedrock:InvokeModelWithResponseStream' : 'bedrock:InvokeModel';
      sendError(res, {
        code: 'AccessDeniedException',
        message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/tbo-task-role/${auth.accessKeyId} is not authorized to perform: ${action} on resource: ${this.arnOf(modelId)} because no identity-based policy allows the ${action} action`,
      }, requestId);
      return;
    }
    const unknown = this.unknownModel(modelId);
    if (unknown) {
      sendError(res, unknown, requestId);
      return;
    }
    const problem = body === undefined ? 'Malformed input request, please reformat your input and try again.' : invalidBody(body, anthropicModel(modelId));
    if (problem !== undefined) {
      sendError(res, { code: 'ValidationException', message: problem }, requestId);
      return;
    }
    const request = { ...(body as JsonObject), model: anthropicModel(modelId) };
    if (stream) await this.stream(res, request, requestId);
    else answer(res, request, requestId);
  }

  /** Bedrock's answer to a model id it does not serve, if it does not. */
  private unknownModel(modelId: string): BedrockFailure | undefined {
    if (this.models.has(modelId)) return undefined;
    if (Object.values(DEFAULT_BEDROCK_MODEL_IDS).includes(modelId)) {
      return { code: 'ValidationException', message: `Invocation of model ID ${modelId} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.` };
    }
    if (modelId.startsWith('arn:')) return { code: 'ResourceNotFoundException', message: 'Could not resolve the foundation model from the provided model identifier.' };
    return { code: 'ValidationException', message: 'The provided model identifier is invalid.' };
  }

  private arnOf(modelId: string): string {
    if (modelId.startsWith('arn:')) return modelId;
    return /^[a-z-]+\.anthropic\./.test(modelId)
      ? `arn:aws:bedrock:${this.region}:${ACCOUNT}:inference-profile/${modelId}`
      : `arn:aws:bedrock:${this.region}::foundation-model/${modelId}`;
  }

  private async stream(res: http.ServerResponse, request: JsonObject, requestId: string): Promise<void> {
    const exception = this.streamFailures.shift();
    const events = anthropicProvider.stream(request).frames.map(eventOf);
    const id = bedrockMessageId();
    res.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-bedrock-content-type': 'application/json',
      'x-amzn-requestid': requestId,
    });
    for (const [i, event] of events.entries()) {
      if (exception && i === (exception.afterChunks ?? 2)) {
        res.end(exceptionMessage(exception));
        return;
      }
      if (event.type === 'message_start' && isRecord(event.message)) event.message = { ...event.message, id };
      if (event.type === 'message_stop') event['amazon-bedrock-invocationMetrics'] = { inputTokenCount: 10, outputTokenCount: 5, invocationLatency: 120, firstByteLatency: 40 };
      res.write(chunkMessage(event));
      await new Promise<void>((resolve) => setImmediate(resolve)); // frames in separate writes, as a live stream
    }
    res.end();
  }
}

/** The Anthropic model name Bedrock reports for a model id (`us.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5-20250929`). */
export function anthropicModel(modelId: string): string {
  const last = modelId.slice(modelId.lastIndexOf('/') + 1);
  return last.replace(/^([a-z-]+\.)?anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

function answer(res: http.ServerResponse, request: JsonObject, requestId: string): void {
  const reply: JsonObject = { ...anthropicProvider.reply(request), id: bedrockMessageId() };
  const usage = isRecord(reply.usage) ? reply.usage : {};
  const payload = JSON.stringify(reply);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    'x-amzn-requestid': requestId,
    'x-amzn-bedrock-input-token-count': String(usage.input_tokens ?? 0),
    'x-amzn-bedrock-output-token-count': String(usage.output_tokens ?? 0),
    'x-amzn-bedrock-invocation-latency': '120',
  });
  res.end(payload);
}

/** Bedrock's checks of an Anthropic Messages body, in its words (JSON-schema style), else the public API's. */
function invalidBody(body: JsonObject, model: string): string | undefined {
  const malformed = (what: string) => `Malformed input request: ${what}, please reformat your input and try again.`;
  if (body.anthropic_version === undefined) return malformed('#: required key [anthropic_version] not found');
  if (body.anthropic_version !== 'bedrock-2023-05-31') return malformed(`#/anthropic_version: ${JSON.stringify(body.anthropic_version)} is not a valid enum value`);
  for (const key of ['model', 'stream']) if (key in body) return malformed(`#: extraneous key [${key}] is not permitted`);
  if (body.anthropic_beta !== undefined && (!Array.isArray(body.anthropic_beta) || !body.anthropic_beta.every((b) => typeof b === 'string'))) {
    return malformed('#/anthropic_beta: expected type: JSONArray of String');
  }
  return anthropicProvider.invalid({ ...body, model });
}

/**
 * Checks a request's SigV4 signature as AWS does: parses `Authorization`, checks the credential
 * scope (date, region, service `bedrock`), the signing time (within 5 minutes), the access key and
 * session token, then signs the same method, path, query, signed headers and body again with the
 * accepted secret and compares.
 */
async function verifySignature(
  req: http.IncomingMessage,
  path: string,
  search: string,
  body: Buffer,
  region: string,
  credentials: (accessKeyId: string) => CredentialStatus,
): Promise<{ readonly accessKeyId: string } | { readonly code: string; readonly message: string; readonly accessKeyId?: string }> {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(req.headers.authorization ?? '');
  if (!req.headers.authorization) return { code: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  if (!auth) return { code: 'IncompleteSignature', message: 'Authorization header requires Credential, SignedHeaders and Signature.' };
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedList] = auth;
  const invalid = (message: string) => ({ code: 'InvalidSignatureException', message, accessKeyId });
  if (scopeService !== 'bedrock') return invalid("Credential should be scoped to correct service: 'bedrock'.");
  if (scopeRegion !== region) return invalid(`Credential should be scoped to a valid region, not '${scopeRegion}'.`);
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || amzDate.slice(0, 8) !== scopeDate) return invalid('Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
  const signedAt = new Date(Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]));
  if (Math.abs(Date.now() - signedAt.getTime()) > 5 * 60_000) return invalid(`Signature expired: ${amzDate} is now earlier or later than 5 minutes from the server's time.`);
  const status = credentials(accessKeyId);
  if (!status.valid) {
    return status.reason === 'expired'
      ? { code: 'ExpiredTokenException', message: 'The security token included in the request is expired', accessKeyId }
      : { code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', accessKeyId };
  }
  const secret = status.credentials;
  if (req.headers['x-amz-security-token'] !== secret.sessionToken) {
    return { code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', accessKeyId };
  }
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host')) return invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return invalid(`The request signature names header ${name}, which the request does not have.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The payload hash is recomputed from the body received, not taken from the header.
  if ('x-amz-content-sha256' in headers) headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  const signer = new SignatureV4({
    service: 'bedrock',
    region,
    credentials: { accessKeyId, secretAccessKey: secret.secretAccessKey, sessionToken: secret.sessionToken },
    sha256,
    applyChecksum: 'x-amz-content-sha256' in headers,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const expected = await signer.sign(
    { method: req.method ?? 'POST', protocol: 'http:', hostname: '127.0.0.1', path, query, headers, body: new Uint8Array(body) },
    { signingDate: signedAt },
  );
  if (expected.headers.authorization !== req.headers.authorization) {
    return invalid('The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
  return { accessKeyId };
}

/** One frame of the public-API fake's SSE plan, as the event object it carries. */
function eventOf(frame: string): JsonObject {
  const data = /^data: (.*)$/m.exec(frame)?.[1];
  const parsed: unknown = data === undefined ? undefined : JSON.parse(data);
  if (!isRecord(parsed)) throw new Error(`fake bedrock: not an Anthropic stream frame: ${frame}`);
  return parsed;
}

function stringHeaders(values: Record<string, string>): MessageHeaders {
  const headers: MessageHeaders = {};
  for (const [name, value] of Object.entries(values)) headers[name] = { type: 'string', value };
  return headers;
}

/** A `chunk` event carrying one Anthropic stream event, padded as Bedrock pads them. */
function chunkMessage(event: JsonObject): Uint8Array {
  const payload = { bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: PADDING.slice(0, 1 + randomInt(PADDING.length)) };
  return codec.encode({
    headers: stringHeaders({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }),
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function exceptionMessage(exception: StreamException): Uint8Array {
  const message = exception.message ?? `fake bedrock ${exception.type}`;
  const payload = exception.type === 'modelStreamErrorException' ? { message, originalStatusCode: 500, originalMessage: 'Overloaded' } : { message };
  return codec.encode({
    headers: stringHeaders({ ':exception-type': exception.type, ':content-type': 'application/json', ':message-type': 'exception' }),
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function bedrockMessageId(): string {
  return newId('msg_bdrk_');
}

function sendError(res: http.ServerResponse, failure: BedrockFailure, requestId: string = randomUUID()): void {
  const payload = JSON.stringify({ message: failure.message ?? `fake bedrock ${failure.code}` });
  res.writeHead(failure.status ?? BEDROCK_ERROR_STATUS[failure.code] ?? 400, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${failure.code}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(payload);
}

function parseObject(raw: Buffer): JsonObject | undefined {
  const parsed = parseJson(raw.toString('utf8'));
  return isRecord(parsed) ? parsed : undefined;
}

/** What {@link signedInvoke} got back. */
export interface SignedInvokeResult {
  readonly status: number;
  /** The `x-amzn-errortype` code, if it failed. */
  readonly code: string | undefined;
  readonly body: string;
}

/**
 * Calls the fake's InvokeModel directly, signed with @smithy/signature-v4 and the given
 * credentials, region and service; `tamper` changes the body after signing. For tests that prove
 * what the fake accepts and refuses.
 */
export async function signedInvoke(
  fake: FakeBedrock,
  modelId: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string },
  opts: { readonly region?: string; readonly service?: string; readonly tamper?: boolean } = {},
): Promise<SignedInvokeResult> {
  const url = new URL(fake.url);
  const path = `/model/${encodeURIComponent(modelId)}/invoke`;
  const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'signed' }] });
  const signer = new SignatureV4({ service: opts.service ?? 'bedrock', region: opts.region ?? 'us-east-1', credentials, sha256 });
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: {}, headers: { host: url.host, 'content-type': 'application/json' }, body });
  const sent = opts.tamper ? body.replace('signed', 'forged') : body;
  return new Promise((resolve, reject) => {
    const req = http.request(`${fake.url}${path}`, { method: 'POST', headers: signed.headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] || undefined, body: text }));
    });
    req.on('error', reject);
    req.end(sent);
  });
}
