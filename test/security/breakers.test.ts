/**
 * Breakers measure the upstream, not one caller: one tenant's long prompts (slow first token) or
 * its failures cannot open a `provider:model` breaker that other tenants keep succeeding on; 429s
 * are not failures: the gateway backs off that upstream for its Retry-After and says 429 (never
 * 502) to callers meanwhile.
 *
 * Small numbers keep it fast: a 0.2 s time-to-first-token threshold and a 250 ms upstream latency
 * stand for 2.0 s and 2.1 s; the window is the minimum, 20 calls. The clock runs in real time (so
 * times to first token are real) and is moved forward past cool-downs and Retry-After.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  ALPHA_KEY, BETA_KEY, TWO_TENANTS, anthropicSdk, ask, chat, openaiSdk, post, secEnv, ShiftedClock, startSecured, streamedText, type RawReply, securityFixtures, type SecuredTbo } from './support';

const MAIN = 'model-main';
const SPARE = 'model-spare';
const COOLDOWN_S = 30;

const fx = securityFixtures();

async function service(clock: ShiftedClock, extra: Record<string, string> = {}): Promise<SecuredTbo> {
  const tbo = await startSecured(
    secEnv(fx.fake.url, {
      TBO_API_KEYS: TWO_TENANTS,
      TBO_MODELS_FAST: `anthropic:${SPARE}`,
      TBO_MODELS_BALANCED: `anthropic:${MAIN}`,
      TBO_MODELS_STRONGEST: `anthropic:${MAIN}`,
      TBO_FALLBACK: 'none',
      TBO_CIRCUIT_BREAKER_THRESHOLD: '0.2',
      TBO_BREAKER_WINDOW: '20',
      TBO_BREAKER_COOLDOWN: String(COOLDOWN_S),
      API_RATE_LIMIT: '0',
      ...extra,
    }),
    { clock, sleep: async () => undefined },
  );
  fx.running.push(tbo);
  return tbo;
}

const asTenant = (key: string) => ({ 'x-api-key': key });
const call = (tbo: SecuredTbo, key: string, prompt: string, model = MAIN) => post(tbo.url, '/v1/messages', asTenant(key), ask(prompt, model));
const stream = (tbo: SecuredTbo, key: string, prompt: string) => post(tbo.url, '/v1/messages', asTenant(key), ask(prompt, MAIN, true));

/** A prompt whose request body is over the 32 KiB TBO_BREAKER_TTFT_MAX_INPUT_BYTES default. */
const longPrompt = (i: number) => `long prompt ${i} ${'lorem ipsum dolor sit amet '.repeat(1600)}`;

function expectServed(reply: RawReply, prompt: string, streamed: boolean): void {
  expect(reply.status).toBe(200);
  if (streamed) expect(streamedText(reply.text)).toBe(`echo: ${prompt}`);
  else expect(reply.body).toMatchObject({ content: [{ type: 'text', text: `echo: ${prompt}` }] });
}

describe('time to first token', () => {
  it('20 slow streams with long prompts from tenant A do not open the breaker for tenant B', async () => {
    fx.fake.setLatency(250);
    // The setup detects slow streams: 20 short ones from one tenant do open it (the usual rule).
    const control = await service(new ShiftedClock());
    await Promise.all(Array.from({ length: 20 }, (_, i) => stream(control, ALPHA_KEY, `short slow prompt ${i}`)));
    expect((await stream(control, BETA_KEY, 'beta after short slow streams')).status).toBe(502);

    const tbo = await service(new ShiftedClock());
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => stream(tbo, ALPHA_KEY, longPrompt(i))));
    for (const r of replies) expect(r.status).toBe(200);
    fx.fake.setLatency(0);
    expectServed(await stream(tbo, BETA_KEY, 'beta after long prompts'), 'beta after long prompts', true);
    expectServed(await call(tbo, BETA_KEY, 'beta again'), 'beta again', false);
  });
});

describe('failures of one tenant', () => {
  it('tenant A\'s upstream 500s alone do not open the breaker while tenant B\'s calls succeed', async () => {
    const tbo = await service(new ShiftedClock());
    for (let i = 0; i < 15; i++) {
      expectServed(await call(tbo, BETA_KEY, `beta ${i}`), `beta ${i}`, false);
      fx.fake.failNext(1, { status: 500 });
      expect((await call(tbo, ALPHA_KEY, `alpha fails ${i}`)).status).toBe(500);
    }
    expectServed(await call(tbo, BETA_KEY, 'beta still served'), 'beta still served', false);
    expect(fx.fake.calls).toBe(31);
  });

  it('one 500 in half-open does not re-open the breaker when another tenant\'s probe succeeded', async () => {
    const clock = new ShiftedClock();
    const tbo = await service(clock);
    // Tenant A alone, failing: the usual rule opens the breaker.
    fx.fake.failModel(MAIN, { status: 500 });
    for (let i = 0; i < 20; i++) await call(tbo, ALPHA_KEY, `alpha fails ${i}`);
    fx.fake.failModel(MAIN, undefined);
    expect((await call(tbo, BETA_KEY, 'beta while open')).status).toBe(502);

    clock.advance(COOLDOWN_S * 1000); // half-open
    expectServed(await call(tbo, BETA_KEY, 'beta probe'), 'beta probe', false);
    fx.fake.failNext(1, { status: 500 });
    expect((await call(tbo, ALPHA_KEY, 'alpha probe fails')).status).toBe(500);
    expectServed(await call(tbo, BETA_KEY, 'beta after alpha\'s failed probe'), 'beta after alpha\'s failed probe', false);
  });
});

describe('429 is not an upstream failure', () => {
  it('three 429s (after 17 good calls) do not open the breaker; no retry of a rate-limited upstream within the request', async () => {
    const clock = new ShiftedClock();
    const tbo = await service(clock, { TBO_MAX_RETRIES: '2' });
    for (let i = 0; i < 17; i++) expectServed(await call(tbo, ALPHA_KEY, `good ${i}`), `good ${i}`, false);

    fx.fake.failModel(MAIN, { status: 429, retryAfter: 1 });
    const limited = await call(tbo, ALPHA_KEY, 'rate limited');
    fx.fake.failModel(MAIN, undefined);
    expect(limited.status).toBe(429);
    expect(fx.fake.calls).toBe(18); // one call: the 429 is not retried against the same upstream

    clock.advance(1000); // past Retry-After
    for (let i = 0; i < 3; i++) expectServed(await call(tbo, BETA_KEY, `after the 429s ${i}`), `after the 429s ${i}`, false);
  });

  it('a 429 answers the caller 429 with retry-after; a second request within the window gets 429 without reaching the upstream', async () => {
    const clock = new ShiftedClock();
    const tbo = await service(clock);
    fx.fake.failNext(1, { status: 429, retryAfter: 20 });
    const first = await call(tbo, ALPHA_KEY, 'first');
    expect(first.status).toBe(429);
    expect(first.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(fx.fake.calls).toBe(1);

    clock.advance(5000);
    const second = await call(tbo, BETA_KEY, 'second, another tenant');
    expect(second.status).toBe(429);
    expect(second.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(14);
    expect(retryAfter).toBeLessThanOrEqual(15);
    // Through the SDKs: RateLimitError (never a 502 InternalServerError).
    await expect(anthropicSdk(tbo.url, BETA_KEY).messages.create(ask('sdk during backoff', MAIN))).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    expect(fx.fake.calls).toBe(1);

    clock.advance(15_000); // the Retry-After has passed
    expectServed(await call(tbo, BETA_KEY, 'after the backoff'), 'after the backoff', false);
    expect(fx.fake.calls).toBe(2);
  });

  it('while backed off, a request goes to the rest of its route chain (fallback "down")', async () => {
    const clock = new ShiftedClock();
    const tbo = await service(clock, { TBO_FALLBACK: 'down', TBO_FALLBACK_NAMED: 'true' });
    fx.fake.failNext(1, { status: 429, retryAfter: 30 });
    await call(tbo, ALPHA_KEY, 'rate limited'); // model-main answers 429 (the spare may answer instead)
    const before = fx.fake.requests.length;
    const next = await call(tbo, BETA_KEY, 'served by the spare');
    expectServed(next, 'served by the spare', false);
    expect(next.body.model).toBe(SPARE);
    expect(fx.fake.requests.slice(before).map((r) => r.body.model)).toEqual([SPARE]); // model-main is skipped, not asked
  });

  it('OpenAI callers get 429 with retry-after (RateLimitError) while the upstream is backed off', async () => {
    const clock = new ShiftedClock();
    const tbo = await service(clock, { TBO_MODELS_BALANCED: 'openai:gpt-main', TBO_MODELS_STRONGEST: 'openai:gpt-main', TBO_MODELS_FAST: 'openai:gpt-spare' });
    fx.fake.failNext(1, { status: 429, retryAfter: 10 });
    const sdk = openaiSdk(tbo.url, ALPHA_KEY);
    await expect(sdk.chat.completions.create(chat('first', 'gpt-main'))).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const err = await sdk.chat.completions.create(chat('second', 'gpt-main')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(fx.fake.calls).toBe(1);
  });
});
