import 'cdktf/lib/testing/adapters/jest';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { Testing } from 'cdktf';
import { SECRET_ENV } from '../../lib/core';
import { blockOf, N, synthService } from './support/synth';

Testing.setupJest();

type Env = { name: string; value?: string; value_from?: { secret_key_ref: { name: string; key: string; optional: boolean } } };
function secretEnv(json: string, type = 'kubernetes_deployment_v1'): Env[] {
  const block = blockOf(json, type) as { spec: { template: { spec: { container: { env: Env[] }[] } } } };
  return block.spec.template.spec.container[0].env.filter((e) => e.value_from);
}

const JWT = `SENTINEL-jwt-${'j'.repeat(32)}`;

describe('Secret by reference (default)', () => {
  it('secretName and keys rename what the pods read', () => {
    const json = synthService({ secrets: { secretName: 'llm-keys', keys: { anthropicApiKey: 'claude', jwtSecretKey: 'jwt' } } });
    expect(secretEnv(json)).toEqual(
      expect.arrayContaining([
        { name: SECRET_ENV.anthropicApiKey, value_from: { secret_key_ref: { name: 'llm-keys', key: 'claude', optional: false } } },
        { name: SECRET_ENV.jwtSecretKey, value_from: { secret_key_ref: { name: 'llm-keys', key: 'jwt', optional: false } } },
      ]),
    );
    expect(json).not.toHaveResource(SecretV1);
  });

  it('required lists the credentials pods cannot start without', () => {
    const json = synthService({ secrets: { required: ['openaiApiKey', 'apiKeys'] }, redis: false });
    expect(Object.fromEntries(secretEnv(json).map((e) => [e.name, e.value_from!.secret_key_ref.optional]))).toEqual({
      [SECRET_ENV.anthropicApiKey]: true,
      [SECRET_ENV.openaiApiKey]: false,
      [SECRET_ENV.apiKeys]: false,
      [SECRET_ENV.jwtSecretKey]: true,
      [SECRET_ENV.adminKeys]: true,
      [SECRET_ENV.cacheSigningKey]: true,
      [SECRET_ENV.sentryDsn]: true,
    });
  });

  it('the Redis password is read only when there is a Redis, and required only for the in-cluster one', () => {
    const names = (json: string) => secretEnv(json).map((e) => e.name);
    expect(names(synthService({ redis: false }))).not.toContain(SECRET_ENV.redisPassword);
    const external = secretEnv(synthService({ existingRedisUrl: 'rediss://cache.example.com:6380' })).find((e) => e.name === SECRET_ENV.redisPassword);
    expect(external?.value_from?.secret_key_ref.optional).toBe(true);
  });
});

describe('Sentry DSN (SENTRY_DSN)', () => {
  const DSN = 'https://SENTINEL0123456789abcdef@o1.ingest.sentry.io/42';

  it('by reference: an optional key `sentry-dsn`, so pods start without it (Sentry is then off)', () => {
    const ref = secretEnv(synthService()).find((e) => e.name === 'SENTRY_DSN');
    expect(ref?.value_from?.secret_key_ref).toEqual({ name: N.secret, key: 'sentry-dsn', optional: true });
  });

  it('by reference: renamed with secrets.keys, required with secrets.required', () => {
    const ref = secretEnv(synthService({ secrets: { keys: { sentryDsn: 'dsn' }, required: ['jwtSecretKey', 'sentryDsn'] } })).find((e) => e.name === 'SENTRY_DSN');
    expect(ref?.value_from?.secret_key_ref).toEqual({ name: N.secret, key: 'dsn', optional: false });
  });

  it('from values: in the Secret only when given, checked as a URL without printing it', () => {
    const base = { anthropicApiKey: 'k', jwtSecretKey: JWT, redisPassword: 'p' };
    expect(secretEnv(synthService({ secrets: { values: base } })).map((e) => e.name)).not.toContain('SENTRY_DSN');
    const json = synthService({ secrets: { values: { ...base, sentryDsn: DSN } } });
    expect((blockOf(json, 'kubernetes_secret_v1').data as Record<string, string>)['sentry-dsn']).toBe(DSN);
    expect(secretEnv(json).map((e) => e.name)).toContain('SENTRY_DSN');
    const { kubernetes_secret_v1: _secret, ...rest } = JSON.parse(json).resource as Record<string, unknown>;
    expect(JSON.stringify(rest)).not.toContain('SENTINEL');
    expect(() => synthService({ secrets: { values: { ...base, sentryDsn: 'SENTINEL-not-a-url' } } })).toThrow(/secrets\.values\.sentryDsn: received "\(hidden\)"/);
  });
});

describe('Admin keys and cache signing key', () => {
  const SIGNING = `SENTINEL-signing-${'s'.repeat(32)}`;
  const ADMIN = `SENTINEL-admin-${'a'.repeat(16)}`;

  it('by reference: both are optional keys of the Secret (the service derives a signing key when it is absent)', () => {
    const refs = secretEnv(synthService({ secrets: { keys: { cacheSigningKey: 'hmac', adminKeys: 'ops' } } }));
    expect(refs).toEqual(
      expect.arrayContaining([
        { name: SECRET_ENV.adminKeys, value_from: { secret_key_ref: { name: N.secret, key: 'ops', optional: true } } },
        { name: SECRET_ENV.cacheSigningKey, value_from: { secret_key_ref: { name: N.secret, key: 'hmac', optional: true } } },
      ]),
    );
    expect(SECRET_ENV.cacheSigningKey).toBe('TBO_CACHE_SIGNING_KEY');
  });

  it('by reference: required makes pods wait for them', () => {
    const refs = secretEnv(synthService({ secrets: { required: ['anthropicApiKey', 'cacheSigningKey'] }, redis: false }));
    expect(refs.find((e) => e.name === SECRET_ENV.cacheSigningKey)?.value_from?.secret_key_ref.optional).toBe(false);
  });

  it('from values: the created Secret holds them when given, and the pods read them from it', () => {
    const values = { anthropicApiKey: 'SENTINEL-anthropic-7f3a', jwtSecretKey: JWT, redisPassword: 'SENTINEL-redis-91c2', cacheSigningKey: SIGNING, adminKeys: ADMIN };
    const json = synthService({ secrets: { values } });
    expect(json).toHaveResourceWithProperties(SecretV1, {
      data: { 'anthropic-key': values.anthropicApiKey, 'jwt-secret': JWT, 'redis-password': values.redisPassword, 'cache-signing-key': SIGNING, 'admin-keys': ADMIN },
    });
    const secretRef = expect.stringMatching(/^\$\{kubernetes_secret_v1\..*\.metadata\[0\]\.name\}$/);
    expect(secretEnv(json)).toEqual(
      expect.arrayContaining([
        { name: SECRET_ENV.adminKeys, value_from: { secret_key_ref: { name: secretRef, key: 'admin-keys', optional: false } } },
        { name: SECRET_ENV.cacheSigningKey, value_from: { secret_key_ref: { name: secretRef, key: 'cache-signing-key', optional: false } } },
      ]),
    );
    const { kubernetes_secret_v1: _secret, ...rest } = JSON.parse(json).resource as Record<string, unknown>;
    expect(JSON.stringify(rest)).not.toMatch(/SENTINEL/);
  });

  it('from values without a signing key: none is invented (the service derives one)', () => {
    const json = synthService({ secrets: { values: { anthropicApiKey: 'k', jwtSecretKey: JWT, redisPassword: 'p' } } });
    expect(JSON.stringify(blockOf(json, 'kubernetes_secret_v1').data)).not.toContain('cache-signing-key');
    expect(secretEnv(json).map((e) => e.name)).not.toContain(SECRET_ENV.cacheSigningKey);
  });
});

describe('Secret from values (option)', () => {
  const values = { anthropicApiKey: 'SENTINEL-anthropic-7f3a', jwtSecretKey: JWT, redisPassword: 'SENTINEL-redis-91c2' };
  const json = synthService({ secrets: { values } });

  it('creates Secret <name>-secrets holding the given values under their keys', () => {
    expect(json).toHaveResourceWithProperties(SecretV1, {
      metadata: expect.objectContaining({ name: N.secret }),
      type: 'Opaque',
      data: { 'anthropic-key': values.anthropicApiKey, 'jwt-secret': JWT, 'redis-password': values.redisPassword },
    });
  });

  it('injects exactly the given credentials, required, from the created Secret', () => {
    const secretRef = expect.stringMatching(/^\$\{kubernetes_secret_v1\..*\.metadata\[0\]\.name\}$/);
    expect(secretEnv(json)).toEqual([
      { name: SECRET_ENV.anthropicApiKey, value_from: { secret_key_ref: { name: secretRef, key: 'anthropic-key', optional: false } } },
      { name: SECRET_ENV.jwtSecretKey, value_from: { secret_key_ref: { name: secretRef, key: 'jwt-secret', optional: false } } },
      { name: SECRET_ENV.redisPassword, value_from: { secret_key_ref: { name: secretRef, key: 'redis-password', optional: false } } },
    ]);
    expect(secretEnv(json, 'kubernetes_stateful_set_v1').map((e) => e.value_from!.secret_key_ref)).toEqual([
      { name: secretRef, key: 'redis-password', optional: false },
      { name: secretRef, key: 'redis-password', optional: false },
    ]);
  });

  it('puts the values nowhere but the Secret', () => {
    const resources = JSON.parse(json).resource as Record<string, unknown>;
    const { kubernetes_secret_v1: _secret, ...rest } = resources;
    const elsewhere = JSON.stringify(rest);
    expect(Object.values(values).filter((value) => elsewhere.includes(value))).toEqual([]);
  });
});
