/**
 * Bounded state: model names chosen by clients (or reported by upstreams) create no per-name
 * state. Without an allow-list they are forwarded and accounted as `model="other"`; with
 * TBO_MODELS_ALLOWED they are refused with 400 in the API's shape before any upstream call.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ADMIN_KEY, ALPHA_KEY, anthropicSdk, ask, chat, metricsText, openaiSdk, performanceAs, post, samples, secEnv, startSecured, sumOf, type SecuredTbo, securityFixtures } from './support';

/** A model of the routing table (so, known). */
const KNOWN = 'model-known';

const fx = securityFixtures();

async function service(extra: Record<string, string> = {}): Promise<SecuredTbo> {
  const tbo = await startSecured(
    secEnv(fx.fake.url, { TBO_API_KEYS: `alpha:${ALPHA_KEY}`, TBO_ADMIN_KEYS: ADMIN_KEY, API_RATE_LIMIT: '0', TBO_MODELS_BALANCED: `anthropic:${KNOWN},openai:gpt-4o`, ...extra }),
  );
  fx.running.push(tbo);
  return tbo;
}

/** Sends `count` requests, each with its own model name (and request id), `concurrency` at a time. */
async function distinctModels(tbo: SecuredTbo, from: number, count: number, concurrency = 16): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = from;
  const worker = async () => {
    while (next < from + count) {
      const i = next++;
      const reply = await post(tbo.url, '/v1/messages', { 'x-api-key': ALPHA_KEY, 'x-request-id': `req-${i}` }, ask(`distinct ${i}`, `claude-ft-${i}`));
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/** Series in /metrics, excluding the process's own (nodejs_*, process_*), which move by themselves. */
async function seriesCount(tbo: SecuredTbo): Promise<number> {
  return [...samples(await metricsText(tbo)).keys()].filter((k) => k.startsWith('tbo_')).length;
}

describe('distinct model names', () => {
  it('2,000 distinct model names leave /metrics series and /v1/performance size flat (model="other")', async () => {
    const tbo = await service();
    // Warm-up with the same mix (half the names rejected by the upstream with 400), so every
    // label set the traffic can produce exists before the baseline.
    fx.fake.failNext(50, { status: 400 });
    await distinctModels(tbo, 0, 100);
    const perfBefore = (await performanceAs(tbo, ADMIN_KEY)).text.length; // first: its own request series exist before the count
    const seriesBefore = await seriesCount(tbo);

    fx.fake.failNext(1000, { status: 400 });
    const statuses = await distinctModels(tbo, 100, 2000);
    expect(Object.fromEntries(statuses)).toEqual({ 200: 1000, 400: 1000 });

    const text = await metricsText(tbo);
    expect((await seriesCount(tbo)) - seriesBefore).toBeLessThanOrEqual(5);
    expect(text).not.toContain('claude-ft-');
    expect(sumOf(samples(text), 'tbo_tokens_total', { model: 'other' })).toBeGreaterThan(0);

    const perf = await performanceAs(tbo, ADMIN_KEY); // the global view: everything there is
    expect(perf.status).toBe(200);
    expect(perf.text.length - perfBefore).toBeLessThanOrEqual(1024);
    expect(perf.text).not.toContain('claude-ft-');
  });

  it('tbo_tokens_total never carries a client-chosen or upstream-reported unknown model label', async () => {
    const tbo = await service();
    const sdk = anthropicSdk(tbo.url, ALPHA_KEY);
    // A known model whose upstream reports an unknown one, JSON and stream.
    fx.fake.setReplyModel('upstream-says-EVIL-LABEL');
    await sdk.messages.create(ask('reported model', KNOWN));
    await sdk.messages.stream(ask('reported model stream', KNOWN)).finalMessage();
    // A dated form of a known model is accounted under the known name.
    fx.fake.setReplyModel(`${KNOWN}-20250929`);
    await sdk.messages.create(ask('dated model', KNOWN));
    // A client-chosen unknown model (no allow-list: forwarded).
    fx.fake.setReplyModel(undefined);
    await sdk.messages.create(ask('client model', 'client-picks-EVIL-LABEL'));
    await openaiSdk(tbo.url, ALPHA_KEY).chat.completions.create(chat('client model openai', 'gpt-EVIL-LABEL'));

    const text = await metricsText(tbo);
    expect(text).not.toContain('EVIL-LABEL');
    expect(text).not.toContain(`${KNOWN}-20250929`);
    const all = samples(text);
    expect(sumOf(all, 'tbo_tokens_total', { model: 'other', direction: 'output' })).toBeGreaterThan(0);
    expect(sumOf(all, 'tbo_tokens_total', { provider: 'openai', model: 'other' })).toBeGreaterThan(0);
    expect(sumOf(all, 'tbo_tokens_total', { model: KNOWN })).toBeGreaterThan(0);
  });
});

describe('TBO_MODELS_ALLOWED', () => {
  it('refuses an unknown model with 400 in the Anthropic and OpenAI shapes (SDK BadRequestError), before any upstream call', async () => {
    const tbo = await service({ TBO_MODELS_ALLOWED: 'claude-allowed-1,gpt-allowed-1' });
    const anthropic = anthropicSdk(tbo.url, ALPHA_KEY);
    const openai = openaiSdk(tbo.url, ALPHA_KEY);

    const a = await anthropic.messages.create(ask('not allowed', 'claude-unknown-ft')).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.BadRequestError);
    expect((a as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/model/) } });
    await expect(anthropic.messages.stream(ask('not allowed stream', 'claude-unknown-ft')).finalMessage()).rejects.toBeInstanceOf(Anthropic.BadRequestError);

    const o = await openai.chat.completions.create(chat('not allowed', 'gpt-unknown-ft')).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(OpenAI.BadRequestError);
    expect((o as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('model');
    const raw = await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${ALPHA_KEY}` }, chat('raw', 'gpt-unknown-ft'));
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ error: { type: 'invalid_request_error', param: 'model' } });
    expect(fx.fake.calls).toBe(0);

    // What is allowed still works: the list, the routing tiers and "auto".
    await expect(anthropic.messages.create(ask('allowed', 'claude-allowed-1'))).resolves.toMatchObject({ model: 'claude-allowed-1' });
    await expect(openai.chat.completions.create(chat('allowed', 'gpt-allowed-1'))).resolves.toMatchObject({ model: 'gpt-allowed-1' });
    await expect(anthropic.messages.create(ask('tier model', 'claude-haiku-4-5'))).resolves.toMatchObject({ model: 'claude-haiku-4-5' });
    await expect(anthropic.messages.create(ask('auto', 'auto'))).resolves.toBeDefined();
    expect(fx.fake.calls).toBe(4);
  });
});
