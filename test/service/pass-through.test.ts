/**
 * Drop-in fidelity of what the SDKs read besides the body: the upstream's request id (the SDKs'
 * `request_id` / `_request_id`), its rate-limit headers and retry advice on live answers and on
 * upstream errors, the original request id on cache hits, a 429 returned at once, and which model
 * answered (`x-tbo-model`, `x-tbo-fallback`) — never a silent swap for a named model.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const KEY = 'pass-through-key-0123456789';
const ROUTING = {
  TBO_MODELS_FAST: 'anthropic:model-haiku,openai:gpt-small',
  TBO_MODELS_BALANCED: 'anthropic:model-sonnet,openai:gpt-big',
  TBO_MODELS_STRONGEST: 'anthropic:model-sonnet,openai:gpt-big',
};

let fake: FakeUpstream;
let tbo: RunningTbo;
beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startTbo(upstreamEnv(fake.url, { TBO_API_KEYS: `team:${KEY}`, ...ROUTING }));
});
afterAll(async () => {
  await tbo?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const claude = (url = tbo.url) => new Anthropic({ apiKey: KEY, baseURL: url, maxRetries: 0 });
const gpt = (url = tbo.url) => new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
const ask = (content: string, model = 'model-sonnet') => ({ model, max_tokens: 16, messages: [{ role: 'user' as const, content }] });
const chat = (content: string, model = 'gpt-big') => ({ model, messages: [{ role: 'user' as const, content }] });

describe('upstream response headers on live answers', () => {
  it('Anthropic: the SDK\'s request_id is the upstream\'s; rate-limit headers pass; TBO\'s own id is in x-tbo-request-id', async () => {
    for (const stream of [false, true] as const) {
      const { response, request_id } = await claude().messages.create({ ...ask(`live ${stream}`), stream }).withResponse();
      expect(request_id).toMatch(/^req_/); // the fake upstream's id
      expect(response.headers.get('request-id')).toBe(request_id);
      expect(response.headers.get('x-tbo-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('3999');
      expect(response.headers.get('x-tbo-model')).toBe('model-sonnet');
      expect(response.headers.get('x-tbo-fallback')).toBeNull();
    }
  });

  it('OpenAI: _request_id is the upstream\'s x-request-id; x-ratelimit-* and openai-processing-ms pass', async () => {
    for (const stream of [false, true] as const) {
      const { response, request_id } = await gpt().chat.completions.create({ ...chat(`live ${stream}`), stream }).withResponse();
      expect(request_id).toMatch(/^req_/);
      expect(response.headers.get('x-request-id')).toBe(request_id);
      expect(response.headers.get('x-tbo-request-id')).not.toBe(request_id);
      expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
      expect(response.headers.get('openai-processing-ms')).toBe('42');
    }
  });

  it('a cache hit carries the original request id and x-tbo-cache: hit, and none of the live rate-limit headers', async () => {
    const first = await claude().messages.create(ask('cached once')).withResponse();
    const again = await claude().messages.create(ask('cached once')).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(again.request_id).toBe(first.request_id);
    expect(again.response.headers.get('anthropic-ratelimit-requests-remaining')).toBeNull();
    expect(again.response.headers.get('x-tbo-model')).toBe('model-sonnet');
    const streamed = await claude().messages.create({ ...ask('cached once'), stream: true }).withResponse();
    expect(streamed.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(streamed.request_id).toBe(first.request_id);

    const live = await gpt().chat.completions.create(chat('cached openai')).withResponse();
    const hit = await gpt().chat.completions.create(chat('cached openai')).withResponse();
    expect(hit.response.headers.get('x-tbo-cache')).toBe('hit');
    expect(hit.request_id).toBe(live.request_id);
    expect(hit.response.headers.get('x-ratelimit-remaining-requests')).toBeNull();
    expect(fake.calls).toBe(2);
  });
});

describe('client headers forwarded upstream', () => {
  it('idempotency-key and the OpenAI project headers reach the upstream; only the ones that change the answer key the cache', async () => {
    const sdk = new OpenAI({ apiKey: KEY, baseURL: `${tbo.url}/v1`, maxRetries: 0, organization: 'org-test', project: 'proj-test' });
    await sdk.chat.completions.create(chat('forwarded'), { headers: { 'idempotency-key': 'attempt-1' } });
    const sent = fake.requests[0].headers;
    expect(sent).toMatchObject({ 'idempotency-key': 'attempt-1', 'openai-organization': 'org-test', 'openai-project': 'proj-test' });
    const again = await sdk.chat.completions.create(chat('forwarded'), { headers: { 'idempotency-key': 'attempt-2' } }).withResponse();
    expect(again.response.headers.get('x-tbo-cache')).toBe('hit'); // another attempt, the same question
    const otherProject = await gpt().chat.completions.create(chat('forwarded'), { headers: { 'openai-project': 'proj-other', 'openai-organization': 'org-test' } }).withResponse();
    expect(otherProject.response.headers.get('x-tbo-cache')).toBe('miss'); // another project may have other fine-tunes
  });
});

describe('429 from the upstream', () => {
  it('is returned at once (one upstream call) with the upstream\'s retry-after, rate-limit headers and request id', async () => {
    fake.failNext(1, { status: 429, retryAfter: 7 });
    // A model outside the routing table: no back-off state is kept for it, so later tests are unaffected.
    const err = await claude().messages.create(ask('rate limited', 'claude-unlisted')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const headers = (err as InstanceType<typeof Anthropic.RateLimitError>).headers;
    expect(headers?.get('retry-after')).toBe('7');
    expect(headers?.get('anthropic-ratelimit-requests-remaining')).toBe('3999');
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).requestID).toMatch(/^req_/);
    expect(fake.calls).toBe(1);
  });

  it('OpenAI SDK: RateLimitError with the upstream\'s x-ratelimit-* and retry-after', async () => {
    fake.failNext(1, { status: 429, retryAfter: 3 });
    const err = await gpt().chat.completions.create(chat('rate limited openai', 'gpt-unlisted')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (err as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers?.get('retry-after')).toBe('3');
    expect(headers?.get('x-ratelimit-remaining-requests')).toBe('9999');
    expect(fake.calls).toBe(1);
  });
});

describe('no silent model swap', () => {
  it('a request that names a model is answered by it or fails, even when its tier has another model', async () => {
    fake.failModel('model-sonnet', { status: 529 });
    const err = await claude().messages.create(ask('sonnet only')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect(fake.requests.map((r) => r.body.model)).toEqual(['model-sonnet']);
  });

  it('with TBO_FALLBACK_NAMED the other model answers, and the answer says so (x-tbo-model, x-tbo-fallback)', async () => {
    const lenient = await startTbo(upstreamEnv(fake.url, { TBO_API_KEYS: `team:${KEY}`, ...ROUTING, TBO_FALLBACK_NAMED: 'true' }));
    try {
      fake.failModel('model-sonnet', { status: 529 });
      const { data, response } = await claude(lenient.url).messages.create(ask('fall back, openly')).withResponse();
      expect(data.model).toBe('model-haiku');
      expect(response.headers.get('x-tbo-model')).toBe('model-haiku');
      expect(response.headers.get('x-tbo-fallback')).toBe('model-sonnet->model-haiku');
    } finally {
      await lenient.close();
    }
  });

  it('model "auto" keeps routing and falling back, and says which model answered', async () => {
    fake.failModel('model-sonnet', { status: 529 });
    const { response } = await claude().messages.create(ask('auto falls back', 'auto'), { headers: { 'x-tbo-complexity': '3' } }).withResponse();
    expect(response.headers.get('x-tbo-model')).toBe('model-haiku');
    expect(response.headers.get('x-tbo-fallback')).toBe('model-sonnet->model-haiku');
  });
});
