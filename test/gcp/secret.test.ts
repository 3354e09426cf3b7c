import 'cdktf/lib/testing/adapters/jest';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { Password } from '@cdktf/provider-random/lib/password';
import { Testing } from 'cdktf';
import { SECRET_ENV } from '../../lib/core';
import { CACHE_SIGNING_KEY_LENGTH, TboCloudRunService, TboSecret } from '../../lib/gcp';
import { BASE, envByName, onlyResource, parse, resourcesOf, synthTbo } from './support';

Testing.setupJest();

const secretIdOf = (json: string, secretId: string): string => {
  const found = resourcesOf(json, 'google_secret_manager_secret').find(([, s]) => s.secret_id === secretId);
  if (!found) throw new Error(`no secret ${secretId}`);
  return found[0];
};

describe('TboCloudRunService: Secret Manager secrets', () => {
  const json = synthTbo();

  test('one secret per credential the contract lists, with automatic replication and deletion protection', () => {
    for (const secretId of ['tbo-service-anthropic-api-key', 'tbo-service-api-keys', 'tbo-service-jwt-secret-key', 'tbo-service-redis-auth', 'tbo-service-cache-signing-key']) {
      expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: secretId, project: 'my-project', replication: { auto: {} }, deletion_protection: true });
    }
    expect(resourcesOf(json, 'google_secret_manager_secret')).toHaveLength(5);
  });

  test('no version is created for a user-filled secret (only the Memorystore AUTH string and the generated signing key, by reference)', () => {
    const versions = Object.fromEntries(resourcesOf(json, 'google_secret_manager_secret_version').map(([, v]) => [v.secret as string, v.secret_data]));
    expect(versions).toEqual({
      [`\${google_secret_manager_secret.${secretIdOf(json, 'tbo-service-redis-auth')}.id}`]: expect.stringMatching(/^\$\{google_redis_instance\.[A-Za-z0-9_]+\.auth_string\}$/),
      [`\${google_secret_manager_secret.${secretIdOf(json, 'tbo-service-cache-signing-key')}.id}`]: expect.stringMatching(/^\$\{random_password\.[A-Za-z0-9_]+\.result\}$/),
    });
  });

  test('each secret is injected by secret_key_ref: latest for user-filled, the created version for AUTH', () => {
    const env = envByName(json);
    const ref = (setting: keyof typeof SECRET_ENV) => env[SECRET_ENV[setting]].value_source?.secret_key_ref;
    expect(ref('anthropicApiKey')).toEqual({ secret: `\${google_secret_manager_secret.${secretIdOf(json, 'tbo-service-anthropic-api-key')}.id}`, version: 'latest' });
    expect(ref('apiKeys')).toEqual({ secret: `\${google_secret_manager_secret.${secretIdOf(json, 'tbo-service-api-keys')}.id}`, version: 'latest' });
    expect(ref('jwtSecretKey')).toEqual({ secret: `\${google_secret_manager_secret.${secretIdOf(json, 'tbo-service-jwt-secret-key')}.id}`, version: 'latest' });
    expect(ref('redisPassword')?.version).toMatch(/^\$\{google_secret_manager_secret_version\.[A-Za-z0-9_]+\.version\}$/);
    expect(env[SECRET_ENV.openaiApiKey]).toBeUndefined();
  });

  test('the service account may read each secret, on that secret only', () => {
    const [[saId]] = resourcesOf(json, 'google_service_account');
    const grants = resourcesOf(json, 'google_secret_manager_secret_iam_member').map(([, g]) => g);
    const secretRefs = resourcesOf(json, 'google_secret_manager_secret').map(([id]) => `\${google_secret_manager_secret.${id}.id}`);
    expect(grants.map((g) => g.secret_id).sort()).toEqual(secretRefs.sort());
    for (const grant of grants) {
      expect(grant).toMatchObject({ role: 'roles/secretmanager.secretAccessor', member: `serviceAccount:\${google_service_account.${saId}.email}` });
    }
  });

  test('outputs the exact gcloud command that fills each user-filled secret', () => {
    expect(parse(json).output?.tbo_secret_commands.value).toEqual({
      ANTHROPIC_API_KEY: `printf '%s' "$ANTHROPIC_API_KEY" | gcloud secrets versions add tbo-service-anthropic-api-key --project=my-project --data-file=-`,
      TBO_API_KEYS: `printf '%s' "$TBO_API_KEYS" | gcloud secrets versions add tbo-service-api-keys --project=my-project --data-file=-`,
      JWT_SECRET_KEY: `printf '%s' "$JWT_SECRET_KEY" | gcloud secrets versions add tbo-service-jwt-secret-key --project=my-project --data-file=-`,
    });
  });

  test('without a project prop the commands take the secret\'s project from state', () => {
    const out = parse(synthTbo({ project: undefined })).output?.tbo_secret_commands.value as Record<string, string>;
    expect(out.ANTHROPIC_API_KEY).toMatch(/--project=\$\{google_secret_manager_secret\.[A-Za-z0-9_]+\.project\} --data-file=-$/);
  });

  test('openaiApiKey: true adds the OpenAI secret, its grant, its env and its command', () => {
    const withOpenai = synthTbo({ openaiApiKey: true });
    expect(withOpenai).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: 'tbo-service-openai-api-key' });
    expect(envByName(withOpenai)[SECRET_ENV.openaiApiKey].value_source?.secret_key_ref).toEqual({
      secret: `\${google_secret_manager_secret.${secretIdOf(withOpenai, 'tbo-service-openai-api-key')}.id}`,
      version: 'latest',
    });
    expect(resourcesOf(withOpenai, 'google_secret_manager_secret_iam_member')).toHaveLength(6);
    expect(Object.keys(parse(withOpenai).output?.tbo_secret_commands.value as object)).toContain('OPENAI_API_KEY');
  });

  test('clientCredentials: [\'apiKeys\'] creates no JWT secret', () => {
    const apiKeysOnly = synthTbo({ clientCredentials: ['apiKeys'] });
    expect(envByName(apiKeysOnly)[SECRET_ENV.jwtSecretKey]).toBeUndefined();
    expect(resourcesOf(apiKeysOnly, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain('tbo-service-jwt-secret-key');
  });

  test('clientCredentials: [\'jwtSecretKey\'] creates no API keys secret', () => {
    const jwtOnly = synthTbo({ clientCredentials: ['jwtSecretKey'] });
    expect(envByName(jwtOnly)[SECRET_ENV.apiKeys]).toBeUndefined();
    expect(envByName(jwtOnly)[SECRET_ENV.jwtSecretKey]).toBeDefined();
  });

  test('existing…Secret props: no new secret, no command, a grant on the given secret, injected by reference', () => {
    const existing = synthTbo({
      existingAnthropicApiKeySecret: 'projects/shared/secrets/anthropic',
      existingOpenaiApiKeySecret: 'openai-key',
      existingApiKeysSecret: 'tbo-clients',
      existingJwtSecretKeySecret: 'projects/shared/secrets/jwt',
      existingCacheSigningKeySecret: 'projects/shared/secrets/tbo-signing',
      existingAdminKeysSecret: 'tbo-admins',
    });
    const created = resourcesOf(existing, 'google_secret_manager_secret').map(([, s]) => s.secret_id);
    expect(created).toEqual(['tbo-service-redis-auth']);
    expect(parse(existing).output?.tbo_secret_commands).toBeUndefined();
    const env = envByName(existing);
    expect(env.ANTHROPIC_API_KEY.value_source?.secret_key_ref).toEqual({ secret: 'projects/shared/secrets/anthropic', version: 'latest' });
    expect(env.OPENAI_API_KEY.value_source?.secret_key_ref).toEqual({ secret: 'openai-key', version: 'latest' });
    expect(env.TBO_API_KEYS.value_source?.secret_key_ref).toEqual({ secret: 'tbo-clients', version: 'latest' });
    expect(env.JWT_SECRET_KEY.value_source?.secret_key_ref).toEqual({ secret: 'projects/shared/secrets/jwt', version: 'latest' });
    expect(env.TBO_CACHE_SIGNING_KEY.value_source?.secret_key_ref).toEqual({ secret: 'projects/shared/secrets/tbo-signing', version: 'latest' });
    expect(env.TBO_ADMIN_KEYS.value_source?.secret_key_ref).toEqual({ secret: 'tbo-admins', version: 'latest' });
    for (const secretId of ['projects/shared/secrets/anthropic', 'openai-key', 'tbo-clients', 'projects/shared/secrets/jwt', 'projects/shared/secrets/tbo-signing', 'tbo-admins']) {
      expect(existing).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: secretId, role: 'roles/secretmanager.secretAccessor' });
    }
  });

  test('TBO_ADMIN_KEYS only with existingAdminKeysSecret: no secret is created for it by default', () => {
    expect(envByName(json)[SECRET_ENV.adminKeys]).toBeUndefined();
    expect(resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain('tbo-service-admin-keys');
    const withAdmins = synthTbo({ existingAdminKeysSecret: 'projects/ops/secrets/tbo-admins' });
    expect(envByName(withAdmins)[SECRET_ENV.adminKeys].value_source?.secret_key_ref).toEqual({ secret: 'projects/ops/secrets/tbo-admins', version: 'latest' });
    expect(withAdmins).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: 'projects/ops/secrets/tbo-admins', role: 'roles/secretmanager.secretAccessor' });
    expect(resourcesOf(withAdmins, 'google_secret_manager_secret')).toHaveLength(5);
    expect(parse(withAdmins).output?.tbo_secret_commands.value).not.toHaveProperty(SECRET_ENV.adminKeys);
  });

  test('TboSecret refuses a literal value (it would be written to cdktf.out)', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new TboSecret(scope, 'S', { setting: 'anthropicApiKey', secretId: 's', accessor: 'serviceAccount:a@b', value: 'sk-ant-literal' });
      }),
    ).toThrow(/must be a Terraform reference/);
  });
});

describe('TboCloudRunService: the cache signing key (TBO_CACHE_SIGNING_KEY)', () => {
  const json = synthTbo();
  const signingSecret = () => secretIdOf(json, 'tbo-service-cache-signing-key');
  const [[passwordId, password]] = resourcesOf(json, 'random_password');

  test('a generated 64-character key of letters and digits (random_password)', () => {
    expect(resourcesOf(json, 'random_password')).toHaveLength(1);
    expect(password).toMatchObject({ length: CACHE_SIGNING_KEY_LENGTH, special: false });
    expect(CACHE_SIGNING_KEY_LENGTH).toBeGreaterThanOrEqual(32); // the service's minimum
  });

  test('a secret <serviceName>-cache-signing-key whose version is the generated key, by reference', () => {
    expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: 'tbo-service-cache-signing-key', project: 'my-project', replication: { auto: {} }, deletion_protection: true });
    expect(json).toHaveResourceWithProperties(SecretManagerSecretVersion, {
      secret: `\${google_secret_manager_secret.${signingSecret()}.id}`,
      secret_data: `\${random_password.${passwordId}.result}`,
    });
    // The key is referenced exactly once: by that version, never by an env var or output.
    expect(json.split(`random_password.${passwordId}.result`).length - 1).toBe(1);
  });

  test('the service account may read it (accessor on that secret only)', () => {
    const [[saId]] = resourcesOf(json, 'google_service_account');
    expect(json).toHaveResourceWithProperties(SecretManagerSecretIamMember, {
      secret_id: `\${google_secret_manager_secret.${signingSecret()}.id}`,
      role: 'roles/secretmanager.secretAccessor',
      member: `serviceAccount:\${google_service_account.${saId}.email}`,
    });
  });

  test('injected by secret_key_ref pinned to the created version, never as a plain value', () => {
    const ref = envByName(json)[SECRET_ENV.cacheSigningKey];
    expect(ref.value).toBeUndefined();
    expect(ref.value_source?.secret_key_ref).toEqual({
      secret: `\${google_secret_manager_secret.${signingSecret()}.id}`,
      version: expect.stringMatching(/^\$\{google_secret_manager_secret_version\.[A-Za-z0-9_]+\.version\}$/),
    });
  });

  test('needs no fill command, and the first revision waits for its version and grant', () => {
    expect(parse(json).output?.tbo_secret_commands.value).not.toHaveProperty(SECRET_ENV.cacheSigningKey);
    const service = onlyResource(json, 'google_cloud_run_v2_service') as { depends_on: string[] };
    const [[versionId]] = resourcesOf(json, 'google_secret_manager_secret_version').filter(([, v]) => v.secret === `\${google_secret_manager_secret.${signingSecret()}.id}`);
    const [[grantId]] = resourcesOf(json, 'google_secret_manager_secret_iam_member').filter(([, g]) => g.secret_id === `\${google_secret_manager_secret.${signingSecret()}.id}`);
    expect(service.depends_on).toEqual(expect.arrayContaining([`google_secret_manager_secret_version.${versionId}`, `google_secret_manager_secret_iam_member.${grantId}`]));
  });

  test('the stack gets the random provider it needs', () => {
    expect(parse(json).provider?.random).toEqual([{}]);
  });

  test('serviceName names the secret', () => {
    expect(synthTbo({ serviceName: 'gw' })).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: 'gw-cache-signing-key' });
  });

  test('existingCacheSigningKeySecret: no generated key, no random provider, no version; the given secret by reference', () => {
    let tbo!: TboCloudRunService;
    const existing = Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, existingCacheSigningKeySecret: 'projects/shared/secrets/tbo-signing' });
    });
    expect(tbo.cacheSigningKeyValue).toBeUndefined();
    expect(tbo.secrets.cacheSigningKey.secret).toBeUndefined();
    expect(resourcesOf(existing, 'random_password')).toEqual([]);
    expect(parse(existing).provider?.random).toBeUndefined();
    expect(resourcesOf(existing, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain('tbo-service-cache-signing-key');
    expect(resourcesOf(existing, 'google_secret_manager_secret_version')).toHaveLength(1); // the AUTH string's only
    expect(envByName(existing)[SECRET_ENV.cacheSigningKey].value_source?.secret_key_ref).toEqual({ secret: 'projects/shared/secrets/tbo-signing', version: 'latest' });
    expect(existing).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: 'projects/shared/secrets/tbo-signing', role: 'roles/secretmanager.secretAccessor' });
  });

  test('exposed as typed fields', () => {
    let tbo!: TboCloudRunService;
    Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', BASE);
    });
    expect(tbo.cacheSigningKeyValue).toBeInstanceOf(Password);
    expect(tbo.secrets.cacheSigningKey.version).toBeInstanceOf(SecretManagerSecretVersion);
    expect(tbo.secrets.cacheSigningKey.env).toBe(SECRET_ENV.cacheSigningKey);
    expect(tbo.secrets.adminKeys).toBeUndefined();
  });
});
