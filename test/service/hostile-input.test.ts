/**
 * Malformed and abusive requests against a running service: every one is refused with a 4xx in the
 * caller's API shape, none reaches the upstream, none pollutes Object.prototype, and the process
 * keeps serving afterwards.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { gzipSync } from 'node:zlib';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const TENANT_KEY = 'acme-key-0123456789abcdef';
const MAX_BODY_BYTES = 128 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fake: FakeUpstream;
let authed: RunningTbo;
let open: RunningTbo;
let prototypeNames: string[];

beforeAll(async () => {
  prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
  fake = await startFakeUpstream();
  const limits = { TBO_MAX_BODY_BYTES: String(MAX_BODY_BYTES) };
  authed = await startTbo(upstreamEnv(fake.url, { ...limits, TBO_API_KEYS: `acme:${TENANT_KEY}` }));
  open = await startTbo(upstreamEnv(fake.url, limits));
});
afterAll(async () => {
  await authed?.close();
  await open?.close();
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------
// Sending requests: node:http for anything a client library can send, a raw socket for the rest.

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

interface Outgoing {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, in pieces, without a Content-Length. */
  readonly chunked?: boolean;
}

function send(baseUrl: string, out: Outgoing): Promise<Reply> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise<Reply>((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: out.method, path: out.path, headers: out.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    const body = out.body === undefined ? undefined : Buffer.from(out.body);
    if (out.chunked && body) {
      for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Sends bytes exactly as given (header lines included) and parses the response by hand. */
function sendRaw(baseUrl: string, requestBytes: string, timeoutMs = 5_000): Promise<Reply & { readonly timedOut: boolean }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(Buffer.from(requestBytes, 'latin1')));
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ...parseRawResponse(Buffer.concat(chunks)), timedOut });
    });
  });
}

function parseRawResponse(buf: Buffer): Reply {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, text: buf.toString('latin1') };
  const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const seen = headers[name];
    headers[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  let body = buf.subarray(end + 4);
  if (String(headers['transfer-encoding']).toLowerCase() === 'chunked') body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, text: body.toString('utf8') };
}

function dechunk(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Reading error bodies in either API's shape.

type Shape = 'anthropic' | 'openai';

interface ErrorView {
  readonly type: string;
  readonly message: string;
  /** OpenAI only. */
  readonly param?: string | null;
  readonly code?: string | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Asserts the body is an error in `shape` (and nothing else), and returns its fields. */
function readError(reply: Reply, shape: Shape): ErrorView {
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(reply.text);
  if (!isRecord(body) || !isRecord(body.error)) throw new Error(`not an error body: ${reply.text.slice(0, 300)}`);
  const error = body.error;
  if (shape === 'anthropic') {
    expect(Object.keys(body).sort()).toEqual(['error', 'request_id', 'type']);
    expect(body.type).toBe('error');
    expect(body.request_id).toBe(reply.headers['x-request-id']);
    expect(Object.keys(error).sort()).toEqual(['message', 'type']);
  } else {
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(error.param === null || typeof error.param === 'string').toBe(true);
    expect(error.code === null || typeof error.code === 'string').toBe(true);
  }
  expect(typeof error.type).toBe('string');
  expect(typeof error.message).toBe('string');
  return {
    type: String(error.type),
    message: String(error.message),
    ...(shape === 'openai' ? { param: error.param as string | null, code: error.code as string | null } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The table.

interface HostileCase {
  readonly name: string;
  /** @default 'authed' */
  readonly instance?: 'authed' | 'open';
  /** @default 'POST' */
  readonly method?: string;
  readonly path: string;
  /** The tenant key is added where the path's SDK puts it, unless `credential: false`. */
  readonly credential?: boolean;
  /** Replaces the default content-type / credential headers of the same name. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly chunked?: boolean;
  /** Extra header lines written verbatim on a raw socket (for bytes node:http refuses to send). */
  readonly rawHeaderLines?: string;
  readonly status: number;
  readonly shape: Shape;
  /** The offending field: named in the message (and OpenAI's `param`). */
  readonly field?: string;
  /** Otherwise, what the message must say. */
  readonly mentions?: RegExp;
  /** The error type (Anthropic) / type or code (OpenAI). */
  readonly errorType?: string;
  /** The x-request-id the response must carry. @default any safe id */
  readonly requestId?: 'generated';
}

const MESSAGES = '/v1/messages';
const CHAT = '/v1/chat/completions';
const validAnthropic = { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hostile' }] };
const validOpenAi = { model: 'gpt-test', messages: [{ role: 'user', content: 'hostile' }] };
/** A valid body with fields replaced; `undefined` removes a field. */
const anthropicWith = (fields: Record<string, unknown>) => JSON.stringify({ ...validAnthropic, ...fields });
const openAiWith = (fields: Record<string, unknown>) => JSON.stringify({ ...validOpenAi, ...fields });
const nestedArrays = (depth: number, inner = '') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
const nestedObjects = (depth: number, key: string) => `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;
const latin1 = (utf8: string) => Buffer.from(utf8, 'utf8').toString('latin1');
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

const badJson: readonly (readonly [string, string])[] = [
  ['truncated', '{"model":"x","max_tokens":16,"messages":[{"role":"user","con'],
  ['trailing garbage', `${JSON.stringify(validAnthropic)}garbage`],
  ['two objects', `${JSON.stringify(validAnthropic)}{}`],
  ['NaN', '{"model":"x","max_tokens":NaN,"messages":[]}'],
  ['Infinity', '{"model":"x","max_tokens":16,"temperature":Infinity,"messages":[]}'],
  ['single quotes', "{'model':'x','max_tokens':16,'messages':[]}"],
  ['trailing comma', '{"model":"x","max_tokens":16,}'],
  ['a byte order mark', `\ufeff${JSON.stringify(validAnthropic)}`],
  ['a comment', `/* hi */${JSON.stringify(validAnthropic)}`],
];
const notAnObject: readonly (readonly [string, string])[] = [
  ['an empty body', ''],
  ['only whitespace', ' \n\t '],
  ['null', 'null'],
  ['an array', '[]'],
  ['an array of a request', `[${JSON.stringify(validAnthropic)}]`],
  ['a string', '"hello"'],
  ['a number', '42'],
  ['a boolean', 'true'],
];

const cases: HostileCase[] = [
  // Bad JSON, to both APIs.
  ...badJson.flatMap(([what, body]): HostileCase[] => [
    { name: `JSON with ${what} (anthropic)`, path: MESSAGES, body, status: 400, shape: 'anthropic', mentions: /JSON/, errorType: 'invalid_request_error' },
    { name: `JSON with ${what} (openai)`, path: CHAT, body, status: 400, shape: 'openai', mentions: /JSON/, errorType: 'invalid_request_error' },
  ]),
  ...notAnObject.map(([what, body], i): HostileCase => ({
    name: `${what} as the body (${i % 2 ? 'openai' : 'anthropic'})`,
    path: i % 2 ? CHAT : MESSAGES,
    body,
    status: 400,
    shape: i % 2 ? 'openai' : 'anthropic',
    mentions: /JSON/,
  })),

  // Wrong types for every validated field of the Messages API.
  ...(
    [
      ['model missing', { model: undefined }, 'model'],
      ['model a number', { model: 42 }, 'model'],
      ['model empty', { model: '' }, 'model'],
      ['model 300 characters', { model: 'm'.repeat(300) }, 'model'],
      ['max_tokens missing', { max_tokens: undefined }, 'max_tokens'],
      ['max_tokens a string', { max_tokens: '16' }, 'max_tokens'],
      ['max_tokens zero', { max_tokens: 0 }, 'max_tokens'],
      ['max_tokens negative', { max_tokens: -1 }, 'max_tokens'],
      ['max_tokens fractional', { max_tokens: 1.5 }, 'max_tokens'],
      ['messages missing', { messages: undefined }, 'messages'],
      ['messages a string', { messages: 'hello' }, 'messages'],
      ['messages empty', { messages: [] }, 'messages'],
      ['a message null', { messages: [null] }, 'messages.0'],
      ['role system', { messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role'],
      ['role a number', { messages: [{ role: 7, content: 'x' }] }, 'messages.0.role'],
      ['content missing', { messages: [{ role: 'user' }] }, 'messages.0.content'],
      ['content a number', { messages: [{ role: 'user', content: 42 }] }, 'messages.0.content'],
      ['a content block without type', { messages: [{ role: 'user', content: [{ text: 'x' }] }] }, 'messages.0.content'],
      ['system a number', { system: 5 }, 'system'],
      ['stream a string', { stream: 'true' }, 'stream'],
      ['temperature above 1', { temperature: 1.5 }, 'temperature'],
      ['temperature negative', { temperature: -0.1 }, 'temperature'],
      ['temperature a string', { temperature: '0.5' }, 'temperature'],
      ['top_p above 1', { top_p: 2 }, 'top_p'],
      ['top_k negative', { top_k: -1 }, 'top_k'],
      ['stop_sequences a string', { stop_sequences: 'STOP' }, 'stop_sequences'],
      ['stop_sequences of numbers', { stop_sequences: [1] }, 'stop_sequences.0'],
      ['tools an object', { tools: { name: 'lookup' } }, 'tools'],
      ['tools of strings', { tools: ['lookup'] }, 'tools.0'],
      ['metadata a string', { metadata: 'x' }, 'metadata'],
    ] as const
  ).map(([what, fields, field]): HostileCase => ({
    name: `messages API: ${what}`,
    path: MESSAGES,
    body: anthropicWith(fields),
    status: 400,
    shape: 'anthropic',
    field,
    errorType: 'invalid_request_error',
  })),

  // Wrong types for every validated field of Chat Completions.
  ...(
    [
      ['model missing', { model: undefined }, 'model'],
      ['model an array', { model: ['gpt-test'] }, 'model'],
      ['messages missing', { messages: undefined }, 'messages'],
      ['messages an object', { messages: { role: 'user', content: 'x' } }, 'messages'],
      ['role unknown', { messages: [{ role: 'robot', content: 'x' }] }, 'messages.0.role'],
      ['role missing', { messages: [{ content: 'x' }] }, 'messages.0.role'],
      ['content a number', { messages: [{ role: 'user', content: 5 }] }, 'messages.0.content'],
      ['stream a string', { stream: 'yes' }, 'stream'],
      ['stream_options a number', { stream_options: 5 }, 'stream_options'],
      ['stream_options.include_usage a string', { stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
      ['temperature above 2', { temperature: 3 }, 'temperature'],
      ['temperature negative', { temperature: -1 }, 'temperature'],
      ['top_p above 1', { top_p: 1.5 }, 'top_p'],
      ['n zero', { n: 0 }, 'n'],
      ['n fractional', { n: 2.5 }, 'n'],
      ['n above 128', { n: 1000 }, 'n'],
      ['max_tokens zero', { max_tokens: 0 }, 'max_tokens'],
      ['max_completion_tokens a string', { max_completion_tokens: 'lots' }, 'max_completion_tokens'],
      ['tools a string', { tools: 'lookup' }, 'tools'],
      ['tools an object', { tools: { type: 'function' } }, 'tools'],
    ] as const
  ).map(([what, fields, field]): HostileCase => ({
    name: `chat completions: ${what}`,
    path: CHAT,
    body: openAiWith(fields),
    status: 400,
    shape: 'openai',
    field,
    errorType: 'invalid_request_error',
  })),

  // Bodies over TBO_MAX_BODY_BYTES.
  { name: 'a body over the limit (anthropic)', path: MESSAGES, body: anthropicWith({ messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_BYTES) }] }), status: 413, shape: 'anthropic', mentions: new RegExp(`${MAX_BODY_BYTES}`), errorType: 'request_too_large' },
  { name: 'a body over the limit (openai)', path: CHAT, body: openAiWith({ messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_BYTES) }] }), status: 413, shape: 'openai', mentions: new RegExp(`${MAX_BODY_BYTES}`), errorType: 'request_too_large' },
  { name: 'a chunked body over the limit, without Content-Length', path: MESSAGES, chunked: true, body: 'x'.repeat(2 * MAX_BODY_BYTES), status: 413, shape: 'anthropic', errorType: 'request_too_large' },
  { name: 'a gzip bomb that inflates past the limit', path: CHAT, headers: { 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(20 * MAX_BODY_BYTES, 0x20)), status: 413, shape: 'openai', errorType: 'request_too_large' },

  // Deep nesting.
  {
    name: '10 000 nested arrays inside a content block',
    path: MESSAGES,
    body: `{"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":[{"type":"text","text":"x","extra":${nestedArrays(10_000)}}]}]}`,
    status: 400,
    shape: 'anthropic',
    mentions: /nested/,
  },
  {
    name: '10 000 nested arrays inside a content block, with Cache-Control: no-store',
    path: MESSAGES,
    headers: { 'cache-control': 'no-store' },
    body: `{"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":[{"type":"text","text":"x","extra":${nestedArrays(10_000)}}]}]}`,
    status: 400,
    shape: 'anthropic',
    mentions: /nested/,
  },
  {
    name: '10 000 nested arrays as a content block',
    path: CHAT,
    body: `{"model":"gpt-test","messages":[{"role":"user","content":[${nestedArrays(10_000)}]}]}`,
    status: 400,
    shape: 'openai',
    field: 'messages.0.content',
  },
  {
    name: '100 levels inside a tool input_schema',
    path: MESSAGES,
    body: `{"model":"claude-test","max_tokens":16,"tools":[{"name":"t","input_schema":${nestedObjects(100, 'properties')}}],"messages":[{"role":"user","content":"x"}]}`,
    status: 400,
    shape: 'anthropic',
    mentions: /nested/,
  },
  { name: '100 nested arrays as tools', path: CHAT, body: `{"model":"gpt-test","tools":${nestedArrays(100)},"messages":[{"role":"user","content":"x"}]}`, status: 400, shape: 'openai', field: 'tools.0' },
  {
    name: '10 000 nested objects in metadata',
    path: MESSAGES,
    body: `{"model":"claude-test","max_tokens":16,"metadata":${nestedObjects(10_000, 'a')},"messages":[{"role":"user","content":"x"}]}`,
    status: 400,
    shape: 'anthropic',
    mentions: /nested/,
  },

  // Prototype keys: never pollute, never stand in for the real fields.
  { name: 'a whole request under top-level __proto__', path: MESSAGES, body: `{"__proto__":${JSON.stringify({ ...validAnthropic, polluted: true })}}`, status: 400, shape: 'anthropic', field: 'model' },
  { name: 'constructor.prototype at top level', path: MESSAGES, body: `{"constructor":{"prototype":{"polluted":true}},"max_tokens":16,"messages":[{"role":"user","content":"x"}]}`, status: 400, shape: 'anthropic', field: 'model' },
  { name: 'a message under __proto__', path: MESSAGES, body: `{"model":"claude-test","max_tokens":16,"messages":[{"__proto__":{"role":"user","content":"x","polluted":true}}]}`, status: 400, shape: 'anthropic', field: 'messages.0.role' },
  { name: '__proto__ and prototype keys (openai)', path: CHAT, body: `{"__proto__":{"polluted":true,"model":"gpt-test"},"prototype":{"polluted":true},"messages":[{"role":"user","content":"x"}]}`, status: 400, shape: 'openai', field: 'model' },
  { name: 'constructor.prototype inside a message (openai)', path: CHAT, body: `{"model":"gpt-test","n":0,"messages":[{"role":"user","content":"x","constructor":{"prototype":{"polluted":true}},"__proto__":{"polluted":true}}]}`, status: 400, shape: 'openai', field: 'n' },

  // Invalid UTF-8 and encodings.
  { name: 'invalid UTF-8 inside a JSON string (anthropic)', path: MESSAGES, body: bytes('{"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":"bad ', [0xff, 0xfe], '"}]}'), status: 400, shape: 'anthropic' },
  { name: 'an overlong UTF-8 sequence inside a JSON string (openai)', path: CHAT, body: bytes('{"model":"gpt-test","messages":[{"role":"user","content":"', [0xc0, 0xaf], '"}]}'), status: 400, shape: 'openai' },
  { name: 'invalid UTF-8 outside any string', path: MESSAGES, body: bytes([0xff, 0xfe], JSON.stringify(validAnthropic)), status: 400, shape: 'anthropic', mentions: /JSON/ },
  { name: 'Content-Encoding: zstd', path: MESSAGES, headers: { 'content-encoding': 'zstd' }, body: JSON.stringify(validAnthropic), status: 400, shape: 'anthropic', mentions: /encoding/ },
  { name: 'Content-Encoding: compress', path: CHAT, headers: { 'content-encoding': 'compress' }, body: JSON.stringify(validOpenAi), status: 400, shape: 'openai', mentions: /encoding/ },
  { name: 'Content-Encoding: gzip over bytes that are not gzip', path: MESSAGES, headers: { 'content-encoding': 'gzip' }, body: JSON.stringify(validAnthropic), status: 400, shape: 'anthropic' },

  // Wrong content types (a client that did not send JSON).
  { name: 'a form-urlencoded body', path: MESSAGES, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'model=claude-test&max_tokens=16', status: 400, shape: 'anthropic', mentions: /JSON/ },
  { name: 'a multipart body', path: CHAT, headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-test\r\n--b--\r\n', status: 400, shape: 'openai', mentions: /JSON/ },
  { name: 'a text/plain body', path: CHAT, headers: { 'content-type': 'text/plain' }, body: 'please answer', status: 400, shape: 'openai', mentions: /JSON/ },

  // Unknown routes and methods.
  { name: 'GET /v1/messages', method: 'GET', path: MESSAGES, status: 404, shape: 'anthropic', mentions: /GET \/v1\/messages/, errorType: 'not_found_error' },
  { name: 'PUT /v1/messages', method: 'PUT', path: MESSAGES, body: JSON.stringify(validAnthropic), status: 404, shape: 'anthropic', errorType: 'not_found_error' },
  { name: 'POST /v1/messages/count_tokens without messages', path: '/v1/messages/count_tokens', body: '{"model":"claude-test"}', status: 400, shape: 'anthropic', field: 'messages', errorType: 'invalid_request_error' },
  { name: 'DELETE /v1/chat/completions', method: 'DELETE', path: CHAT, status: 404, shape: 'openai', mentions: /DELETE \/v1\/chat\/completions/, errorType: 'not_found' },
  { name: 'POST /v1/completions (legacy)', path: '/v1/completions', body: '{"model":"gpt-test","prompt":"x"}', status: 404, shape: 'openai', errorType: 'not_found' },
  { name: 'DELETE /v1/models/{id}', method: 'DELETE', path: '/v1/models/gpt-4o', status: 404, shape: 'openai', mentions: /DELETE \/v1\/models\/gpt-4o/, errorType: 'not_found' },
  { name: 'GET /v1/models with limit=0', method: 'GET', path: '/v1/models?limit=0', headers: { 'anthropic-version': '2023-06-01' }, status: 400, shape: 'anthropic', field: 'limit', errorType: 'invalid_request_error' },
  { name: 'an unknown top-level path', method: 'GET', path: '/admin', credential: false, status: 404, shape: 'openai', errorType: 'not_found' },
  { name: 'an unknown path with an anthropic-version header', method: 'POST', path: '/v2/messages', credential: false, headers: { 'anthropic-version': '2023-06-01' }, status: 404, shape: 'anthropic', errorType: 'not_found_error' },
  { name: 'a dot-dot path', method: 'GET', path: '/v1/../health', status: 404, shape: 'openai' },
  { name: 'an unknown /v1 route on an open service', instance: 'open', path: '/v1/audio/speech', credential: false, body: '{}', status: 404, shape: 'openai', errorType: 'not_found' },
  { name: 'an unknown /v1 route on an open service, anthropic headers', instance: 'open', path: '/v1/complete', credential: false, headers: { 'anthropic-version': '2023-06-01' }, body: '{}', status: 404, shape: 'anthropic', errorType: 'not_found_error' },

  // Bad credentials.
  { name: 'no credential (anthropic)', path: MESSAGES, credential: false, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic', errorType: 'authentication_error', mentions: /credential/ },
  { name: 'no credential (openai)', path: CHAT, credential: false, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai', errorType: 'invalid_api_key', mentions: /credential/ },
  { name: 'an empty x-api-key', path: MESSAGES, headers: { 'x-api-key': '' }, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic', errorType: 'authentication_error' },
  { name: 'a blank x-api-key', path: MESSAGES, headers: { 'x-api-key': '   ' }, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic', errorType: 'authentication_error' },
  { name: '"Bearer" with nothing', path: CHAT, headers: { authorization: 'Bearer' }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai', errorType: 'invalid_api_key' },
  { name: '"Bearer " with a space only', path: CHAT, headers: { authorization: 'Bearer ' }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai', errorType: 'invalid_api_key' },
  { name: 'Basic auth of the right key', path: CHAT, headers: { authorization: `Basic ${Buffer.from(`acme:${TENANT_KEY}`).toString('base64')}` }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai', errorType: 'invalid_api_key' },
  { name: 'a wrong key in x-api-key', path: MESSAGES, headers: { 'x-api-key': 'wrong-key-0123456789abcdef' }, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic', errorType: 'authentication_error' },
  { name: 'a wrong key after lower-case bearer', path: CHAT, headers: { authorization: 'bearer wrong-key-0123456789abcdef' }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai', errorType: 'invalid_api_key' },
  { name: 'the key minus its last character', path: MESSAGES, headers: { 'x-api-key': TENANT_KEY.slice(0, -1) }, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic' },
  { name: 'the key plus one character', path: MESSAGES, headers: { 'x-api-key': `${TENANT_KEY}x` }, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic' },
  { name: 'the key followed by a second token', path: CHAT, headers: { authorization: `Bearer ${TENANT_KEY} extra` }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai' },
  { name: 'JWT-looking garbage', path: CHAT, headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0ZW5hbnQiOiJhY21lIn0.c2lnbmF0dXJl' }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai' },
  { name: 'a unicode x-api-key', path: MESSAGES, headers: { 'x-api-key': latin1('ключ-🔑-0123456789abcdef') }, body: JSON.stringify(validAnthropic), status: 401, shape: 'anthropic', errorType: 'authentication_error' },
  { name: 'a unicode bearer token', path: CHAT, headers: { authorization: latin1('Bearer 🔑🔑🔑-0123456789abcdef') }, body: JSON.stringify(validOpenAi), status: 401, shape: 'openai' },
  { name: 'a wrong key and a broken body: auth is checked first', path: MESSAGES, headers: { 'x-api-key': 'wrong-key-0123456789abcdef' }, body: '{"model":', status: 401, shape: 'anthropic', mentions: /credential/ },
  { name: 'a bad credential on an unknown route, anthropic headers', method: 'GET', path: '/v1/files', headers: { 'x-api-key': 'wrong-key-0123456789abcdef' }, status: 401, shape: 'anthropic', errorType: 'authentication_error' },

  // Request-id injection: an unsafe id is replaced by a generated one.
  { name: 'a 10 000-character x-request-id', path: MESSAGES, headers: { 'x-request-id': 'r'.repeat(10_000) }, body: '{}', status: 400, shape: 'anthropic', requestId: 'generated' },
  { name: 'a percent-encoded CRLF in x-request-id', path: CHAT, headers: { 'x-request-id': 'id%0d%0aSet-Cookie:%20pwn=1' }, body: '{}', status: 400, shape: 'openai', requestId: 'generated' },
  { name: 'markup in x-request-id', path: MESSAGES, headers: { 'x-request-id': '<script>alert(1)</script>' }, body: '{}', status: 400, shape: 'anthropic', requestId: 'generated' },
  { name: 'a unicode x-request-id', path: MESSAGES, headers: { 'x-request-id': latin1('ид-запроса') }, body: '{}', status: 400, shape: 'anthropic', requestId: 'generated' },
  { name: 'two x-request-id headers', path: MESSAGES, rawHeaderLines: 'x-request-id: first\r\nx-request-id: second\r\n', body: '{}', status: 400, shape: 'anthropic', requestId: 'generated' },
  { name: 'a CRLF that tries to smuggle a Set-Cookie after x-request-id', path: MESSAGES, rawHeaderLines: 'x-request-id: id\r\nSet-Cookie: pwn=1\r\n', body: '{}', status: 400, shape: 'anthropic' },
];

function defaultHeaders(c: HostileCase): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (c.credential !== false) {
    // Where that API's SDK puts its key.
    if (c.shape === 'openai') headers.authorization = `Bearer ${TENANT_KEY}`;
    else headers['x-api-key'] = TENANT_KEY;
  }
  return { ...headers, ...c.headers };
}

async function deliver(c: HostileCase): Promise<Reply> {
  const baseUrl = (c.instance === 'open' ? open : authed).url;
  const method = c.method ?? 'POST';
  const headers = defaultHeaders(c);
  if (c.rawHeaderLines === undefined) return send(baseUrl, { method, path: c.path, headers, body: c.body, chunked: c.chunked });
  const body = Buffer.from(c.body ?? '');
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return sendRaw(baseUrl, `${method} ${c.path} HTTP/1.1\r\nhost: tbo\r\n${lines}${c.rawHeaderLines}content-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('latin1')}`);
}

function expectPrototypesClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.create(null) as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}

describe('hostile requests', () => {
  it('covers at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name → $status', async (c) => {
    const callsBefore = fake.calls;
    const reply = await deliver(c);

    expect(reply.status).toBe(c.status);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    const error = readError(reply, c.shape);
    if (c.field !== undefined) {
      expect(error.message).toContain(c.field);
      if (c.shape === 'openai') expect(error.param).toBe(c.field);
    }
    if (c.mentions) expect(error.message).toMatch(c.mentions);
    if (c.errorType !== undefined) expect([error.type, error.code]).toContain(c.errorType);

    const requestId = reply.headers['x-request-id'];
    expect(typeof requestId).toBe('string');
    expect(String(requestId)).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    if (c.requestId === 'generated') expect(String(requestId)).toMatch(UUID);
    expect(reply.headers['set-cookie']).toBeUndefined();

    expect(fake.calls - callsBefore).toBe(0);
    expectPrototypesClean();
  });

  it.each([
    ['a bare CR', 'x-request-id: abc\rSet-Cookie: pwn=1\r\n'],
    ['a bare LF', 'x-request-id: abc\nSet-Cookie: pwn=1\r\n'],
    ['an obs-fold continuation line', 'x-request-id: abc\r\n Set-Cookie: pwn=1\r\n'],
  ])('a header with %s is refused by the HTTP parser and never echoed', async (_what, line) => {
    const reply = await sendRaw(authed.url, `POST /v1/messages HTTP/1.1\r\nhost: tbo\r\nx-api-key: ${TENANT_KEY}\r\n${line}content-length: 2\r\nconnection: close\r\n\r\n{}`);
    expect(reply.timedOut).toBe(false);
    expect(reply.status).toBe(400);
    expect(reply.headers['x-request-id']).toBeUndefined();
    expect(reply.headers['set-cookie']).toBeUndefined();
  });
});

describe('after the hostile requests', () => {
  it('none of them reached the upstream, and the service still serves a normal request', async () => {
    expect(fake.calls).toBe(0);
    expectPrototypesClean();
    const res = await fetch(`${authed.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TENANT_KEY },
      body: JSON.stringify({ ...validAnthropic, messages: [{ role: 'user', content: 'still alive' }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: unknown }).content).toEqual([{ type: 'text', text: 'echo: still alive' }]);
    expect(fake.calls).toBe(1);
    expect((await fetch(`${open.url}/health`)).status).toBe(200);
  });
});

describe('edge cases', () => {
  beforeEach(() => fake.reset());

  it('refuses a declared Content-Length over the limit with 413 without waiting for the body', async () => {
    // Declares 100 MB, sends one byte. A gateway must not hold the connection open for the rest.
    const reply = await sendRaw(
      authed.url,
      `POST /v1/messages HTTP/1.1\r\nhost: tbo\r\ncontent-type: application/json\r\nx-api-key: ${TENANT_KEY}\r\ncontent-length: 100000000\r\n\r\n{`,
      3_000,
    );
    expect(reply.timedOut).toBe(false);
    expect(reply.status).toBe(413);
    expect(readError(reply, 'anthropic').type).toBe('request_too_large');
    expect(fake.calls).toBe(0);
  });

  it('serves valid requests carrying __proto__ / constructor keys without polluting Object.prototype', async () => {
    const body =
      '{"model":"claude-test","max_tokens":16,"__proto__":{"polluted":"top"},"constructor":{"prototype":{"polluted":"ctor"}},' +
      '"messages":[{"role":"user","content":[{"type":"text","text":"proto keys","__proto__":{"polluted":"block"}}],"__proto__":{"polluted":"msg"}}]}';
    const res = await send(authed.url, { method: 'POST', path: MESSAGES, headers: { 'content-type': 'application/json', 'x-api-key': TENANT_KEY }, body });
    expect(res.status).toBe(200);
    expectPrototypesClean();
    // The upstream got the members as plain data, byte for byte.
    expect(Object.hasOwn(fake.requests[0].body, '__proto__')).toBe(true);
    expect(Object.hasOwn(fake.requests[0].body, 'constructor')).toBe(true);
  });

  it('keys the cache on __proto__ members too: requests that differ only there are different requests', async () => {
    // The upstream receives the body as sent, so these two ask different things; the second must
    // not be answered from the first one's cache entry.
    const withProto = (marker: string) =>
      `{"model":"claude-test","max_tokens":16,"__proto__":{"instructions":"${marker}"},"messages":[{"role":"user","content":"proto cache key"}]}`;
    const post = (body: string) => send(authed.url, { method: 'POST', path: MESSAGES, headers: { 'content-type': 'application/json', 'x-api-key': TENANT_KEY }, body });
    const first = await post(withProto('answer in French'));
    expect(first.status).toBe(200);
    expect(first.headers['x-tbo-cache']).toBe('miss');
    const second = await post(withProto('answer in German'));
    expect(second.status).toBe(200);
    expect(second.headers['x-tbo-cache']).toBe('miss');
    expect(fake.calls).toBe(2);
    expect(fake.requests.map((r) => JSON.stringify(r.body.__proto__))).toEqual(['{"instructions":"answer in French"}', '{"instructions":"answer in German"}']);
    expectPrototypesClean();
  });
});
