/**
 * Identity: a JWT can never be an API-key tenant. Its tenant comes only from the `tenant` claim and
 * is namespaced (`jwt:<tenant>`); `iss`/`aud`, the token's lifetime, a future `iat` and the
 * JWT_TENANTS allow-list are checked. Every refusal is a 401 in the caller's API shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  ALPHA_KEY, JWT_SECRET, TWO_TENANTS, anthropicSdk, ask, chat, claims, jwt, nowSeconds, openaiSdk, performanceAs, post, secEnv, startSecured, securityFixtures, type SecuredTbo } from './support';

const fx = securityFixtures();

async function service(extra: Record<string, string> = {}): Promise<SecuredTbo> {
  const tbo = await startSecured(secEnv(fx.fake.url, { TBO_API_KEYS: TWO_TENANTS, JWT_SECRET_KEY: JWT_SECRET, ...extra }));
  fx.running.push(tbo);
  return tbo;
}

const cacheOf = (r: { response: Response }) => r.response.headers.get('x-tbo-cache');

/** Asserts `token` is refused with 401 in both API shapes (and through both SDKs), never reaching upstream. */
async function expectRefused(tbo: SecuredTbo, token: string, what: string): Promise<void> {
  const calls = fx.fake.calls;
  const anthropicErr = await anthropicSdk(tbo.url, token).messages.create(ask(`refused ${what}`)).catch((e: unknown) => e);
  expect([what, anthropicErr instanceof Anthropic.AuthenticationError]).toEqual([what, true]);
  const openaiErr = await openaiSdk(tbo.url, token).chat.completions.create(chat(`refused ${what}`)).catch((e: unknown) => e);
  expect([what, openaiErr instanceof OpenAI.AuthenticationError]).toEqual([what, true]);
  const raw = await post(tbo.url, '/v1/messages', { 'x-api-key': token }, ask(`refused ${what}`));
  expect([what, raw.status]).toEqual([what, 401]);
  expect(raw.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  expect(fx.fake.calls).toBe(calls);
}

async function expectAccepted(tbo: SecuredTbo, token: string, what: string): Promise<void> {
  const reply = await post(tbo.url, '/v1/chat/completions', { authorization: `Bearer ${token}` }, chat(`accepted ${what}`));
  expect([what, reply.status]).toEqual([what, 200]);
}

describe('JWT principals never share an API-key tenant\'s namespace', () => {
  it('a JWT whose tenant claim is "alpha" does not get alpha\'s cached answers; its tenant is jwt:alpha', async () => {
    const tbo = await service();
    const params = ask('alpha\'s private answer');
    expect(cacheOf(await anthropicSdk(tbo.url, ALPHA_KEY).messages.create(params).withResponse())).toBe('miss');
    expect(cacheOf(await anthropicSdk(tbo.url, ALPHA_KEY).messages.create(params).withResponse())).toBe('hit');

    const impostor = jwt(claims({ tenant: 'alpha' }));
    expect(cacheOf(await anthropicSdk(tbo.url, impostor).messages.create(params).withResponse())).toBe('miss');
    expect(fx.fake.calls).toBe(2);

    // The two principals are told apart by name too.
    expect((await performanceAs(tbo, impostor)).body).toMatchObject({ scope: 'tenant', tenant: 'jwt:alpha' });
    expect((await performanceAs(tbo, ALPHA_KEY)).body).toMatchObject({ scope: 'tenant', tenant: 'alpha' });
  });

  it('user_id is not a tenant: a token with only user_id is refused; with a tenant claim, user_id changes nothing', async () => {
    const tbo = await service();
    await expectRefused(tbo, jwt(claims({ user_id: 'alpha' })), 'user_id only');

    const params = ask('user_id is the end user');
    expect(cacheOf(await anthropicSdk(tbo.url, ALPHA_KEY).messages.create(params).withResponse())).toBe('miss');
    const endUser = jwt(claims({ tenant: 'initech', user_id: 'alpha' }));
    expect(cacheOf(await anthropicSdk(tbo.url, endUser).messages.create(params).withResponse())).toBe('miss');
    expect(fx.fake.calls).toBe(2);
  });

  it('a JWT tenant named like an API-key tenant has its own rate-limit bucket (API_RATE_LIMIT=3)', async () => {
    const tbo = await service({ API_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) {
      expect((await post(tbo.url, '/v1/messages', { 'x-api-key': ALPHA_KEY }, ask(`alpha spends ${i}`))).status).toBe(200);
    }
    expect((await post(tbo.url, '/v1/messages', { 'x-api-key': ALPHA_KEY }, ask('alpha is over'))).status).toBe(429);

    for (const token of [jwt(claims({ tenant: 'alpha' })), jwt(claims({ tenant: 'beta', user_id: 'alpha' }))]) {
      const reply = await post(tbo.url, '/v1/messages', { authorization: `Bearer ${token}` }, ask(`a jwt principal is not alpha ${token.slice(-8)}`));
      expect(reply.status).toBe(200);
    }
  });
});

describe('JWT claims', () => {
  it('checks iss and aud when JWT_ISSUER and JWT_AUDIENCE are set', async () => {
    const tbo = await service({ JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'tbo-gateway' });
    const good = { tenant: 'team-a', iss: 'https://issuer.example', aud: 'tbo-gateway' };
    await expectRefused(tbo, jwt(claims({ tenant: 'team-a' })), 'no iss, no aud');
    await expectRefused(tbo, jwt(claims({ ...good, iss: undefined })), 'no iss');
    await expectRefused(tbo, jwt(claims({ ...good, aud: undefined })), 'no aud');
    await expectRefused(tbo, jwt(claims({ ...good, iss: 'https://evil.example' })), 'wrong iss');
    await expectRefused(tbo, jwt(claims({ ...good, aud: 'another-service' })), 'wrong aud');
    await expectRefused(tbo, jwt(claims({ ...good, aud: ['another-service'] })), 'aud list without ours');
    await expectAccepted(tbo, jwt(claims(good)), 'iss and aud');
    await expectAccepted(tbo, jwt(claims({ ...good, aud: ['another-service', 'tbo-gateway'] })), 'aud list with ours');
  });

  it('refuses exp: 1e20, a lifetime over JWT_MAX_LIFETIME, a missing iat and an iat in the future', async () => {
    const tbo = await service();
    const now = nowSeconds();
    await expectRefused(tbo, jwt({ tenant: 'team-a', iat: now, exp: 1e20 }), 'exp 1e20');
    await expectRefused(tbo, jwt({ tenant: 'team-a', iat: now, exp: now + 86_400 + 60 }), 'lifetime 24 h + 1 min');
    await expectRefused(tbo, jwt({ tenant: 'team-a', exp: now + 300 }), 'no iat');
    await expectRefused(tbo, jwt({ tenant: 'team-a', iat: now + 3600, exp: now + 3900 }), 'iat in an hour');
    await expectRefused(tbo, jwt({ tenant: 'team-a', iat: now + 120, exp: now + 400 }), 'iat in 2 minutes');
    await expectAccepted(tbo, jwt({ tenant: 'team-a', iat: now, exp: now + 86_400 }), 'lifetime exactly 24 h');
    await expectAccepted(tbo, jwt({ tenant: 'team-a', iat: now + 20, exp: now + 300 }), 'iat within the 60 s skew');

    const short = await service({ JWT_MAX_LIFETIME: '600' });
    await expectRefused(short, jwt({ tenant: 'team-a', iat: now, exp: now + 601 }), 'lifetime 601 s with JWT_MAX_LIFETIME=600');
    await expectAccepted(short, jwt({ tenant: 'team-a', iat: now, exp: now + 600 }), 'lifetime 600 s with JWT_MAX_LIFETIME=600');
  });

  it('accepts only the tenants JWT_TENANTS lists', async () => {
    const tbo = await service({ JWT_TENANTS: 'team-a,team-b' });
    await expectAccepted(tbo, jwt(claims({ tenant: 'team-a' })), 'listed tenant team-a');
    await expectAccepted(tbo, jwt(claims({ tenant: 'team-b' })), 'listed tenant team-b');
    await expectRefused(tbo, jwt(claims({ tenant: 'team-c' })), 'unlisted tenant team-c');
    await expectRefused(tbo, jwt(claims({ tenant: 'alpha' })), 'unlisted tenant named like an API-key tenant');
    // API keys are not affected by the JWT allow-list.
    expect((await post(tbo.url, '/v1/messages', { 'x-api-key': ALPHA_KEY }, ask('api key still works'))).status).toBe(200);
  });
});
