/**
 * Bedrock's response stream (`InvokeModelWithResponseStream`) as the Anthropic API's SSE. Bedrock
 * answers with AWS's binary event stream (application/vnd.amazon.eventstream): each `chunk` event
 * (`:message-type: event`, `:event-type: chunk`) carries `{"bytes": "<base64>"}` (plus a random `p`
 * padding field), and the bytes are one Anthropic stream event as JSON: `message_start`,
 * `content_block_*`, `message_delta`, `message_stop`, the same events the Anthropic API sends.
 * Errors after the response started arrive as `:message-type: exception` events named by
 * `:exception-type` (`throttlingException`, `modelStreamErrorException` …) with a JSON `message`.
 * See https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html
 * and https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ResponseStream.html.
 * Framing and checksums are the AWS SDK's own codec (@smithy/core/event-streams).
 */
import { EventStreamCodec, getChunkedStream, type Message } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { sseFrame } from '../../protocols/sse';
import { isObject } from '../../protocols/types';
import { errorMessage, streamExceptionCode } from './bedrock-errors';

/** What Bedrock adds to `message_stop` (the Anthropic API sends no such field). */
const INVOCATION_METRICS = 'amazon-bedrock-invocationMetrics';

/** One item of a translated stream: an Anthropic SSE frame, or the exception that ends the stream. */
export type BedrockStreamItem =
  | { readonly frame: string }
  | { readonly exception: { readonly code: string; readonly message: string | undefined } };

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * Reads a Bedrock event stream and yields each chunk as the Anthropic SSE frame
 * (`event: <type>\ndata: <json>\n\n`), Bedrock's invocation metrics taken out of `message_stop`;
 * an exception (or an unmodelled `:message-type: error`) is yielded last. Events of other types
 * are skipped; a malformed or truncated stream throws.
 */
export async function* anthropicFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<BedrockStreamItem, void, undefined> {
  for await (const bytes of getChunkedStream(body)) {
    const message = codec.decode(bytes);
    const type = header(message, ':message-type');
    if (type === 'event') {
      if (header(message, ':event-type') !== 'chunk') continue;
      yield { frame: chunkFrame(message.body) };
    } else if (type === 'exception') {
      yield { exception: { code: streamExceptionCode(header(message, ':exception-type') ?? 'internalServerException'), message: payloadMessage(message.body) } };
      return;
    } else if (type === 'error') {
      yield { exception: { code: header(message, ':error-code') ?? 'InternalFailure', message: header(message, ':error-message') } };
      return;
    }
  }
}

function header(message: Message, name: string): string | undefined {
  const value = message.headers[name]?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The Anthropic event a chunk carries, as its SSE frame. */
function chunkFrame(payload: Uint8Array): string {
  const part: unknown = JSON.parse(toUtf8(payload));
  if (!isObject(part) || typeof part.bytes !== 'string') throw new Error('Bedrock stream chunk without bytes');
  let json = Buffer.from(part.bytes, 'base64').toString('utf8');
  const event: unknown = JSON.parse(json);
  if (!isObject(event) || typeof event.type !== 'string') throw new Error('Bedrock stream chunk is not an Anthropic stream event');
  if (INVOCATION_METRICS in event) {
    delete event[INVOCATION_METRICS];
    json = JSON.stringify(event);
  } else if (json.includes('\n')) {
    json = JSON.stringify(event); // an SSE data line holds no raw line break
  }
  return sseFrame(json, event.type);
}

function payloadMessage(payload: Uint8Array): string | undefined {
  try {
    return errorMessage(JSON.parse(toUtf8(payload)));
  } catch {
    return undefined;
  }
}
