/**
 * What each caller may see: a tenant's `/v1/performance` is about that tenant only (no other
 * tenant's model names or session ids); the global view needs an admin key, which opens nothing
 * else; `/metrics` and `/health/details` live on the admin listener, not the public port.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { ADMIN_KEY, ALPHA_KEY, BETA_KEY, TWO_TENANTS, anthropicSdk, ask, chat, openaiSdk, performanceAs, post, secEnv, startSecured, type SecuredTbo } from './support';

/** A fine-tune only alpha uses, and alpha's session id: both alpha's business. */
const ALPHA_MODEL = 'claude-alpha-finetune-7';
const ALPHA_SESSION = 'alpha-session-quarterly-report';

let fake: FakeUpstream;
let tbo: SecuredTbo;

beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startSecured(secEnv(fake.url, { TBO_API_KEYS: TWO_TENANTS, TBO_ADMIN_KEYS: ADMIN_KEY, TBO_MODELS_ALLOWED: ALPHA_MODEL }));
});
afterAll(async () => {
  await tbo?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('/v1/performance', () => {
  it('tenant beta\'s view does not contain tenant alpha\'s model names or session ids; alpha sees its own; the admin key sees everything', async () => {
    const alpha = anthropicSdk(tbo.url, ALPHA_KEY, { 'x-tbo-session-id': ALPHA_SESSION });
    await alpha.messages.create(ask('alpha\'s fine-tune', ALPHA_MODEL));
    await alpha.messages.create(ask('alpha\'s fine-tune', ALPHA_MODEL)); // a hit
    await anthropicSdk(tbo.url, BETA_KEY).messages.create(ask('beta uses a tier model', 'claude-haiku-4-5'));

    const beta = await performanceAs(tbo, BETA_KEY);
    expect(beta.status).toBe(200);
    expect(beta.text).not.toContain(ALPHA_MODEL);
    expect(beta.text).not.toContain(ALPHA_SESSION);
    expect(beta.text).not.toContain('alpha');
    expect(beta.body).toMatchObject({ scope: 'tenant', tenant: 'beta' });

    const own = await performanceAs(tbo, ALPHA_KEY);
    expect(own.body).toMatchObject({ scope: 'tenant', tenant: 'alpha' });
    expect(own.text).toContain(ALPHA_MODEL);

    const global = await performanceAs(tbo, ADMIN_KEY);
    expect(global.status).toBe(200);
    expect(global.body).toMatchObject({ scope: 'global' });
    expect(global.text).toContain(ALPHA_MODEL);
  });

  it('the admin key is refused on the model APIs with 403 in each API\'s shape', async () => {
    const a = await anthropicSdk(tbo.url, ADMIN_KEY).messages.create(ask('admin on messages')).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.PermissionDeniedError);
    const o = await openaiSdk(tbo.url, ADMIN_KEY).chat.completions.create(chat('admin on chat')).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const raw = await post(tbo.url, '/v1/messages', { 'x-api-key': ADMIN_KEY }, ask('admin raw'));
    expect(raw.status).toBe(403);
    expect(raw.body).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const collaborate = await post(tbo.url, '/v1/collaborate', { authorization: `Bearer ${ADMIN_KEY}` }, { messages: [{ role: 'user', content: 'admin collaborates' }], context: { session_id: 'admin-session' } });
    expect(collaborate.status).toBe(403);
    expect(fake.calls).toBe(0);
  });
});

describe('the admin listener', () => {
  it('serves /metrics and /health/details without credentials; the public port answers 404 for them', async () => {
    for (const path of ['/metrics', '/health/details']) {
      const res = await fetch(`${tbo.url}${path}`);
      await res.arrayBuffer();
      expect([path, res.status]).toEqual([path, 404]);
    }
    // The public port still serves its own paths.
    expect((await fetch(`${tbo.url}/health`)).status).toBe(200);
    expect((await fetch(`${tbo.url}/ready`)).status).toBe(200);

    expect(tbo.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(tbo.adminUrl).not.toBe(tbo.url);
    const metrics = await fetch(`${tbo.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^tbo_requests_total\{/m);
    const details = await fetch(`${tbo.adminUrl}/health/details`);
    expect(details.status).toBe(200);
    expect(await details.json()).toMatchObject({ status: expect.any(String), checks: expect.any(Object) });
    expect((await fetch(`${tbo.adminUrl}/health`)).status).toBe(200);
    expect((await fetch(`${tbo.adminUrl}/ready`)).status).toBe(200);
    // The admin listener serves no API.
    const api = await post(tbo.adminUrl as string, '/v1/messages', { 'x-api-key': ALPHA_KEY }, ask('api on the admin port'));
    expect(api.status).toBe(404);
  });
});
