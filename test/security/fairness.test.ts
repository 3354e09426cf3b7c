/**
 * Fairness: `x-tbo-priority` can lower a tenant's priority but never raise it above the ceiling
 * the configuration gives it (TBO_TENANT_PRIORITIES, default 5); priority 1 is only first in the
 * queue, never past the concurrency limit; one tenant cannot hold every upstream slot.
 *
 * The upstream model `model-stall` never answers (until TBO gives up on the call), so the upstream
 * slots it takes stay taken; `model-fast` answers at once.
 */
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import {
  ALPHA_KEY, BETA_KEY, GAMMA_KEY, THREE_TENANTS, TWO_TENANTS, ask, metric, poll, post, secEnv, startSecured, type RawReply, type SecuredTbo,
} from './support';

const STALL = 'model-stall';
const FAST = 'model-fast';

let fake: FakeUpstream;
const running: SecuredTbo[] = [];
/** Client requests still open at the end of a test: aborted before the service closes. */
const open: AbortController[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  fake.stallModel(STALL, true);
});
afterEach(async () => {
  for (const c of open.splice(0)) c.abort();
  await Promise.all(running.splice(0).map((t) => t.close()));
});

async function service(extra: Record<string, string>): Promise<SecuredTbo> {
  const tbo = await startSecured(
    secEnv(fake.url, {
      TBO_MODELS_FAST: `anthropic:${FAST}`,
      TBO_MODELS_BALANCED: `anthropic:${STALL}`,
      TBO_MODELS_STRONGEST: `anthropic:${STALL}`,
      TBO_FALLBACK: 'none',
      API_RATE_LIMIT: '0',
      ...extra,
    }),
  );
  running.push(tbo);
  return tbo;
}

interface Sent {
  readonly reply: Promise<RawReply | undefined>;
  settled: RawReply | undefined;
}

/** Sends without waiting; `settled` fills in when the answer arrives (undefined if aborted). */
function send(tbo: SecuredTbo, key: string, prompt: string, model: string, headers: Record<string, string> = {}): Sent {
  const controller = new AbortController();
  open.push(controller);
  const sent: Sent = {
    reply: post(tbo.url, '/v1/messages', { 'x-api-key': key, ...headers }, ask(prompt, model), controller.signal).then(
      (r) => (sent.settled = r),
      () => undefined,
    ),
    settled: undefined,
  };
  return sent;
}

const callsTo = (model: string) => fake.requests.filter((r) => r.body.model === model).length;

function expectOverloaded(replies: readonly RawReply[]): void {
  for (const r of replies) {
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }
}

describe('x-tbo-priority is capped by the tenant\'s ceiling', () => {
  it('30 priority-1 requests from a tenant whose ceiling is 5 are not all admitted; another tenant is still served', async () => {
    // 4 upstream slots, 2 tenants: each may hold 2; a tenant may keep 5 (half of 10) waiting, for 1 s.
    const tbo = await service({ TBO_API_KEYS: TWO_TENANTS, TBO_MAX_CONCURRENT_REQUESTS: '4', TBO_QUEUE_MAX: '10', TBO_QUEUE_TIMEOUT: '1' });
    const flood = Array.from({ length: 30 }, (_, i) => send(tbo, ALPHA_KEY, `priority flood ${i}`, STALL, { 'x-tbo-priority': '1' }));
    await poll(() => callsTo(STALL) >= 2, 5_000);

    // Tenant beta is served while alpha's flood holds its share.
    const beta = await post(tbo.url, '/v1/messages', { 'x-api-key': BETA_KEY }, ask('beta during the flood', FAST), AbortSignal.timeout(5_000));
    expect(beta.status).toBe(200);

    // Every flood request is either at the upstream or answered (queued ones time out after 1 s).
    await poll(() => flood.filter((s) => s.settled).length + callsTo(STALL) >= flood.length, 5_000);
    expect(callsTo(STALL)).toBeLessThanOrEqual(2);
    const answered = flood.flatMap((s) => (s.settled ? [s.settled] : []));
    expect(answered.length).toBeGreaterThanOrEqual(28);
    expectOverloaded(answered);
  });

  it('TBO_TENANT_PRIORITIES lets a configured tenant use priority 1 (first in the queue); another tenant\'s 1 counts as 5', async () => {
    // One upstream slot; gamma holds it with a call that never answers.
    const tbo = await service({ TBO_API_KEYS: THREE_TENANTS, TBO_MAX_CONCURRENT_REQUESTS: '1', TBO_TENANT_PRIORITIES: 'alpha=1,*=5', TBO_QUEUE_TIMEOUT: '20' });
    const holder = send(tbo, GAMMA_KEY, 'gamma holds the only slot', STALL);
    await poll(() => callsTo(STALL) >= 1, 5_000);

    const beta = send(tbo, BETA_KEY, 'beta asks for 1 first', FAST, { 'x-tbo-priority': '1' });
    await poll(async () => (await metric(tbo, 'tbo_queue_length')) >= 1 || beta.settled !== undefined, 2_000);
    const alpha = send(tbo, ALPHA_KEY, 'alpha asks for 1 second', FAST, { 'x-tbo-priority': '1' });
    const bothQueued = await poll(async () => (await metric(tbo, 'tbo_queue_length')) >= 2 || alpha.settled !== undefined, 2_000);

    // beta's "1" did not jump the limit: it waits behind gamma's call like any priority-5 request.
    expect({ bothQueued, betaAnsweredEarly: beta.settled?.status }).toEqual({ bothQueued: true, betaAnsweredEarly: undefined });
    open[0].abort(); // gamma gives up: the slot is free
    await holder.reply;
    const [a, b] = await Promise.all([alpha.reply, beta.reply]);
    expect([a?.status, b?.status]).toEqual([200, 200]);
    // alpha (allowed priority 1) went first although beta was queued earlier.
    const order = fake.requests.filter((r) => r.body.model === FAST).map((r) => JSON.stringify(r.body.messages));
    expect(order).toEqual([JSON.stringify(ask('alpha asks for 1 second').messages), JSON.stringify(ask('beta asks for 1 first').messages)]);
  });
});

describe('per-tenant cap on upstream calls', () => {
  it('a tenant flooding at its default priority cannot take every upstream slot: another tenant is served at once', async () => {
    const tbo = await service({ TBO_API_KEYS: TWO_TENANTS, TBO_MAX_CONCURRENT_REQUESTS: '4', TBO_QUEUE_MAX: '10', TBO_QUEUE_TIMEOUT: '1' });
    const flood = Array.from({ length: 12 }, (_, i) => send(tbo, ALPHA_KEY, `flood ${i}`, STALL));
    // alpha is at its cap (2 of 4) with 5 waiting; the 5 over its share of the queue are refused at once.
    await poll(() => callsTo(STALL) >= 2 && flood.filter((s) => s.settled).length >= 5, 5_000);

    // Queued, beta would wait for one of alpha's calls to end (never) and get a 503 after 1 s.
    const beta = await post(tbo.url, '/v1/messages', { 'x-api-key': BETA_KEY }, ask('beta is not starved', FAST), AbortSignal.timeout(5_000));
    expect(beta.status).toBe(200);

    expect(callsTo(STALL)).toBe(2);
    const refused = flood.flatMap((s) => (s.settled ? [s.settled] : []));
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expectOverloaded(refused);
  });
});
