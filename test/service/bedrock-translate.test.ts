/**
 * The Bedrock adapter's translations on their own: the event stream into Anthropic SSE (however
 * the bytes are split), Bedrock errors into the Anthropic API's, the request body into
 * InvokeModel's; and the adapter's answers to calls it cannot make.
 */
import { Readable } from 'node:stream';
import { EventStreamCodec, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { BedrockUpstream, bedrockRequestBody } from '../../service/src/adapters/upstream/bedrock';
import { anthropicError, errorCode, DEFAULT_THROTTLE_RETRY_AFTER_SECONDS, type BedrockCall } from '../../service/src/adapters/upstream/bedrock-errors';
import { anthropicFrames, type BedrockStreamItem } from '../../service/src/adapters/upstream/bedrock-stream';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function message(kind: Record<string, string>, payload: unknown): Uint8Array {
  const headers: MessageHeaders = {};
  for (const [k, v] of Object.entries(kind)) headers[k] = { type: 'string', value: v };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
}
const chunk = (event: Record<string, unknown>) => message({ ':message-type': 'event', ':event-type': 'chunk', ':content-type': 'application/json' }, { bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abcdefgh' });

/** The bytes split into pieces of `size` (as TCP may deliver them). */
async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<BedrockStreamItem[]> {
  const items: BedrockStreamItem[] = [];
  for await (const item of anthropicFrames(source)) items.push(item);
  return items;
}

const START = { type: 'message_start', message: { id: 'msg_bdrk_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } };
const DELTA = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'line one\nline two' } };
const STOP = { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 4, invocationLatency: 100, firstByteLatency: 20 } };

describe('anthropicFrames', () => {
  const stream = Buffer.concat([chunk(START), chunk(DELTA), message({ ':message-type': 'event', ':event-type': 'initial-response' }, {}), chunk(STOP)]);

  it.each([1, 7, 64, stream.length])('yields one SSE frame per chunk, whatever the split (%i-byte pieces)', async (size) => {
    const items = await collect(pieces(stream, size));
    expect(items).toEqual([
      { frame: `event: message_start\ndata: ${JSON.stringify(START)}\n\n` },
      { frame: `event: content_block_delta\ndata: ${JSON.stringify(DELTA)}\n\n` },
      { frame: 'event: message_stop\ndata: {"type":"message_stop"}\n\n' },
    ]);
  });

  it('ends with an exception event, in the Anthropic name of its shape', async () => {
    const bytes = Buffer.concat([chunk(START), message({ ':message-type': 'exception', ':exception-type': 'modelStreamErrorException' }, { message: 'stream broke', originalStatusCode: 500 }), chunk(STOP)]);
    const items = await collect(pieces(bytes, 16));
    expect(items).toHaveLength(2);
    expect(items[1]).toEqual({ exception: { code: 'ModelStreamErrorException', message: 'stream broke' } });
  });

  it('treats an unmodelled error message the same way', async () => {
    const bytes = message({ ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'boom' }, {});
    expect(await collect(pieces(bytes, 5))).toEqual([{ exception: { code: 'InternalFailure', message: 'boom' } }]);
  });

  it('throws on a truncated stream and on a corrupted one', async () => {
    const whole = chunk(START);
    await expect(collect(pieces(whole.subarray(0, whole.length - 3), 8))).rejects.toThrow(/Truncated/);
    const corrupt = Buffer.from(whole);
    corrupt[corrupt.length - 10] ^= 0xff;
    await expect(collect(pieces(corrupt, 8))).rejects.toThrow(/checksum/);
  });
});

describe('anthropicError', () => {
  const call: BedrockCall = { model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', region: 'us-east-1', stream: false };

  it.each([
    ['ThrottlingException', 429, 429, 'rate_limit'],
    ['ServiceQuotaExceededException', 400, 429, 'rate_limit'],
    ['ValidationException', 400, 400, 'invalid_request'],
    ['AccessDeniedException', 403, 403, 'permission'],
    ['ResourceNotFoundException', 404, 404, 'not_found'],
    ['ModelNotReadyException', 429, 529, 'overloaded'],
    ['ServiceUnavailableException', 503, 529, 'overloaded'],
    ['ModelTimeoutException', 408, 504, 'timeout'],
    ['InternalServerException', 500, 500, 'upstream_unavailable'],
    ['ModelErrorException', 424, 500, 'upstream_unavailable'],
    ['ExpiredTokenException', 403, 401, 'authentication'],
    ['UnrecognizedClientException', 403, 401, 'authentication'],
    [undefined, 503, 529, 'overloaded'],
    [undefined, 502, 502, 'upstream_unavailable'],
    [undefined, 403, 403, 'permission'],
  ] as const)('%s (HTTP %i) → %i %s', (code, awsStatus, status, kind) => {
    expect(anthropicError(code, awsStatus, 'why', call)).toMatchObject({ status, kind });
  });

  it('tells throttled clients when to retry: Bedrock\'s retry-after, else the default', () => {
    expect(anthropicError('ThrottlingException', 429, 'slow down', call).retryAfter).toBe(String(DEFAULT_THROTTLE_RETRY_AFTER_SECONDS));
    expect(anthropicError('ThrottlingException', 429, 'slow down', call, '7').retryAfter).toBe('7');
    expect(anthropicError('ValidationException', 400, 'bad', call).retryAfter).toBeUndefined();
  });

  it('names the IAM action of the operation and keeps the account out of the message', () => {
    const said = `User: arn:aws:sts::123456789012:assumed-role/tbo-task-role/i-0abc is not authorized to perform: bedrock:InvokeModelWithResponseStream on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/${call.model}`;
    const { message } = anthropicError('AccessDeniedException', 403, said, { ...call, stream: true });
    expect(message).toMatch(/^Amazon Bedrock denied bedrock:InvokeModelWithResponseStream on us\.anthropic\.claude-haiku-4-5-20251001-v1:0 in us-east-1\. Grant/);
    expect(message).toContain(`arn:aws:bedrock:us-east-1:(account):inference-profile/${call.model}`);
    expect(message).not.toMatch(/123456789012|tbo-task-role/);
    expect(anthropicError('AccessDeniedException', 403, undefined, call).message).toContain('denied bedrock:InvokeModel on');
  });

  it('passes a ValidationException\'s message through as the client\'s 400', () => {
    expect(anthropicError('ValidationException', 400, 'messages: roles must alternate', call).message).toBe('messages: roles must alternate');
  });
});

describe('errorCode', () => {
  it('reads the x-amzn-errortype header, else the body', () => {
    expect(errorCode({ 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' }, {})).toBe('ThrottlingException');
    expect(errorCode({}, { __type: 'com.amazon.coral.validate#ValidationException', message: 'x' })).toBe('ValidationException');
    expect(errorCode({}, 'not json')).toBeUndefined();
  });
});

describe('bedrockRequestBody', () => {
  it('drops model and stream, sets Bedrock\'s version, and lists anthropic-beta values', () => {
    const raw = JSON.stringify({ model: 'claude-haiku-4-5', stream: true, anthropic_version: '2023-06-01', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 't' }] });
    expect(JSON.parse(bedrockRequestBody(Buffer.from(raw), 'a-2025, b-2025 ,a-2025'))).toEqual({
      anthropic_version: 'bedrock-2023-05-31', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 't' }], anthropic_beta: ['a-2025', 'b-2025'],
    });
    expect(JSON.parse(bedrockRequestBody(raw, undefined))).not.toHaveProperty('anthropic_beta');
    expect(() => bedrockRequestBody('[1]', undefined)).toThrow();
  });
});

describe('BedrockUpstream', () => {
  const upstream = new BedrockUpstream({
    region: 'us-east-1', endpoint: 'http://127.0.0.1:9', connections: 1, headersTimeoutMs: 1000, bodyTimeoutMs: 1000,
    credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });
  afterAll(() => upstream.close());
  const read = async (body: Readable) => {
    let text = '';
    for await (const c of body) text += String(c);
    return JSON.parse(text) as { error: { type: string; message: string } };
  };

  it('answers calls Bedrock cannot serve (no model, another API) with a 404 in the Anthropic shape, without calling out', async () => {
    const res = await upstream.send({ provider: 'anthropic', path: '/v1/messages/count_tokens', headers: {}, body: '{}', signal: new AbortController().signal, model: 'x' });
    expect(res.status).toBe(404);
    expect((await read(res.body)).error.type).toBe('not_found_error');
    const noModel = await upstream.send({ provider: 'anthropic', path: '/v1/messages', headers: {}, body: '{}', signal: new AbortController().signal });
    expect(noModel.status).toBe(404);
  });

  it('answers 503 when the credential chain has nothing to sign with', async () => {
    const noCreds = new BedrockUpstream({
      region: 'us-east-1', endpoint: 'http://127.0.0.1:9', connections: 1, headersTimeoutMs: 1000, bodyTimeoutMs: 1000,
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    const res = await noCreds.send({ provider: 'anthropic', path: '/v1/messages', headers: {}, body: '{"max_tokens":1}', signal: new AbortController().signal, model: 'm', stream: false });
    await noCreds.close();
    expect(res.status).toBe(503);
    expect((await read(res.body)).error.message).toMatch(/no AWS credentials to sign with \(CredentialsProviderError: Could not load credentials from any providers\)/);
  });
});
