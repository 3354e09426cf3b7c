/**
 * Amazon Bedrock Runtime's wire format for Claude, as the bench's fake Bedrock answers it
 * (bench/bedrock-upstream-server.ts): `POST /model/{modelId}/invoke-with-response-stream` answers
 * with the binary event stream (`application/vnd.amazon.eventstream`), one `chunk` event per
 * Anthropic stream event, its payload `{"bytes": base64(event JSON), "p": padding}`; `message_stop`
 * carries `amazon-bedrock-invocationMetrics`. `POST /model/{modelId}/invoke` answers the JSON
 * message. Messages are encoded by the AWS SDK's event-stream codec as the service installs it
 * (`@smithy/core/event-streams` in service/node_modules), the codec the service decodes them with.
 *
 * The events are exactly the fake Anthropic API's (test/support/fake-anthropic.ts) for the same
 * request, so a Bedrock stream and a public-API stream carry the same frames and text.
 *
 * The fake checks the request the way Bedrock would reject it (path, JSON body with
 * `anthropic_version` and without `model` or `stream`), and the shape and scope of the SigV4
 * `Authorization` header (access key, date, region, service `bedrock`, signed headers, a 64-hex
 * signature), but does not recompute the signature: that would only add CPU time to the fake, not
 * to TBO, whose signing cost is the same either way. test/ has the fake that verifies it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { anthropicProvider } from '../test/support/fake-anthropic';
import { isRecord, type JsonObject } from '../test/support/fake-text';

/** Static AWS credentials the bench's TBO signs with (the credential chain's environment step). */
export const BEDROCK_ACCESS_KEY_ID = 'AKIABENCHBEDROCK0001';
export const BEDROCK_SECRET_ACCESS_KEY = 'bench-bedrock-secret-access-key-0123456789';
/** The region TBO is configured for; the fake expects it in the credential scope. */
export const BEDROCK_REGION = 'us-east-1';

/** How bench/bedrock-upstream-server.ts names its Bedrock port on stdout: this, the port, a newline. */
export const BEDROCK_PORT_PREFIX = 'BEDROCK_PORT ';

/** Bedrock's `anthropic_version` for the Messages API. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** The two operations, by the path's last segment. */
export type BedrockOperation = 'invoke' | 'invoke-with-response-stream';

const ROUTE = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream)$/;
const INFERENCE_PROFILE = /^(us|eu|apac|us-gov|jp|au|ca|global)\./;
const SCOPE = new RegExp(`^AWS4-HMAC-SHA256 Credential=${BEDROCK_ACCESS_KEY_ID}/(\\d{8})/${BEDROCK_REGION}/bedrock/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$`);
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

/** A request Bedrock would answer. */
export interface BedrockCall {
  readonly operation: BedrockOperation;
  /** The model id from the path (URL-decoded): a foundation model, an inference profile id or an ARN. */
  readonly modelId: string;
  readonly body: JsonObject;
}

/** Why Bedrock would refuse a request: its HTTP status and `x-amzn-ErrorType`. */
export interface BedrockRejection {
  readonly status: number;
  readonly errorType: string;
  readonly message: string;
}

/** The operation and model of a path, or undefined for a path Bedrock Runtime does not serve here. */
export function bedrockRoute(path: string): { readonly operation: BedrockOperation; readonly modelId: string } | undefined {
  const match = ROUTE.exec(path);
  if (!match) return undefined;
  try {
    return { operation: match[2] as BedrockOperation, modelId: decodeURIComponent(match[1]) };
  } catch {
    return undefined;
  }
}

/** What Bedrock would refuse in the headers: a missing or misscoped SigV4 signature. */
export function authProblem(headers: Readonly<Record<string, string | string[] | undefined>>): BedrockRejection | undefined {
  const authorization = headers.authorization;
  const date = headers['x-amz-date'];
  if (typeof authorization !== 'string' || typeof date !== 'string') {
    return { status: 403, errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token (Authorization and X-Amz-Date headers)' };
  }
  const scope = SCOPE.exec(authorization);
  const day = AMZ_DATE.exec(date);
  if (!scope || !day || scope[1] !== day[1]) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `expected a SigV4 signature by ${BEDROCK_ACCESS_KEY_ID} for ${BEDROCK_REGION}/bedrock dated as X-Amz-Date, got: ${authorization.slice(0, 120)}` };
  }
  const signed = scope[2].split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date')) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `SignedHeaders must include host and x-amz-date, got ${scope[2]}` };
  }
  return undefined;
}

/** What Bedrock would refuse in the body of an Anthropic model call. */
export function bodyProblem(body: unknown): string | undefined {
  if (!isRecord(body)) return 'the request body must be a JSON object';
  if (body.anthropic_version !== BEDROCK_ANTHROPIC_VERSION) return `anthropic_version: expected ${BEDROCK_ANTHROPIC_VERSION}, got ${JSON.stringify(body.anthropic_version)}`;
  for (const key of ['model', 'stream']) if (key in body) return `#: extraneous key [${key}] is not permitted`;
  if (typeof body.max_tokens !== 'number') return '#: required key [max_tokens] not found';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return '#: required key [messages] not found';
  return undefined;
}

/**
 * The model name Claude reports on Bedrock: the foundation model without the inference-profile
 * prefix, the `anthropic.` provider and the `-v1:0` version (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`
 * → `claude-sonnet-4-5-20250929`).
 */
export function reportedModel(modelId: string): string {
  return modelId.replace(INFERENCE_PROFILE, '').replace(/^anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

/** The request as the fake Anthropic API would get it, so both fakes answer the same. */
function asAnthropicRequest(call: BedrockCall): JsonObject {
  return { ...call.body, model: reportedModel(call.modelId) };
}

/** Bedrock message ids carry a `msg_bdrk_` prefix. */
function bedrockId(message: JsonObject): JsonObject {
  return typeof message.id === 'string' ? { ...message, id: message.id.replace(/^msg_/, 'msg_bdrk_') } : message;
}

/** The JSON answer of `invoke` and its token-count headers. */
export function invokeReply(call: BedrockCall): { readonly body: JsonObject; readonly headers: Record<string, string> } {
  const reply = bedrockId(anthropicProvider.reply(asAnthropicRequest(call)));
  const usage = isRecord(reply.usage) ? reply.usage : {};
  return {
    body: reply,
    headers: {
      'x-amzn-bedrock-input-token-count': String(usage.input_tokens ?? 0),
      'x-amzn-bedrock-output-token-count': String(usage.output_tokens ?? 0),
      'x-amzn-bedrock-invocation-latency': '1',
    },
  };
}

interface StringHeader {
  readonly type: 'string';
  readonly value: string;
}

interface Codec {
  encode(message: { readonly headers: Readonly<Record<string, StringHeader>>; readonly body: Uint8Array }): Uint8Array;
}

type CodecClass = new (toUtf8: (bytes: Uint8Array) => string, fromUtf8: (text: string) => Uint8Array) => Codec;

/**
 * The codec the service decodes Bedrock's stream with, as it installs it: `@smithy/core`'s
 * event-streams (where `@smithy/eventstream-codec` has re-exported it from since it was deprecated).
 */
const requireFromService = createRequire(join(__dirname, '..', 'service', 'package.json'));
const { EventStreamCodec } = requireFromService('@smithy/core/event-streams') as { EventStreamCodec: CodecClass };
const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

const CHUNK_HEADERS: Readonly<Record<string, StringHeader>> = {
  ':event-type': { type: 'string', value: 'chunk' },
  ':content-type': { type: 'string', value: 'application/json' },
  ':message-type': { type: 'string', value: 'event' },
};

/** Bedrock pads each payload with a run of this alphabet (`"p"`), so sizes do not reveal the text. */
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** One event-stream `chunk` message carrying one Anthropic stream event. */
export function chunkMessage(event: JsonObject): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(event), 'utf8').toString('base64');
  const payload = JSON.stringify({ bytes, p: PADDING.slice(0, 1 + (bytes.length % PADDING.length)) });
  return codec.encode({ headers: CHUNK_HEADERS, body: Buffer.from(payload, 'utf8') });
}

/**
 * The event-stream messages of `invoke-with-response-stream`: the fake Anthropic API's stream for
 * the same request, event by event, with Bedrock's message id and its invocation metrics on
 * `message_stop`.
 */
export function streamMessages(call: BedrockCall): Uint8Array[] {
  const frames = anthropicProvider.stream(asAnthropicRequest(call)).frames;
  let inputTokens = 0;
  let outputTokens = 0;
  return frames.map((frame) => {
    const data = frame.slice(frame.indexOf('\ndata: ') + '\ndata: '.length).trimEnd();
    const event = JSON.parse(data) as JsonObject;
    if (event.type === 'message_start' && isRecord(event.message)) {
      const message = bedrockId(event.message);
      inputTokens = isRecord(message.usage) ? Number(message.usage.input_tokens ?? 0) : 0;
      return chunkMessage({ ...event, message });
    }
    if (event.type === 'message_delta' && isRecord(event.usage)) outputTokens = Number(event.usage.output_tokens ?? 0);
    if (event.type === 'message_stop') {
      return chunkMessage({ ...event, 'amazon-bedrock-invocationMetrics': { inputTokenCount: inputTokens, outputTokenCount: outputTokens, invocationLatency: 1, firstByteLatency: 1 } });
    }
    return chunkMessage(event);
  });
}
