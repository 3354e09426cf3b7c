import 'cdktf/lib/testing/adapters/jest';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { Testing } from 'cdktf';
import { SECRET_ENV } from '../../lib/core';
import { TboSecret } from '../../lib/gcp';
import { envByName, parse, resourcesOf, synthTbo } from './support';

Testing.setupJest();

const secretIdOf = (json: string, secretId: string): string => {
  const found = resourcesOf(json, 'google_secret_manager_secret').find(([, s]) => s.secret_id === secretId);
  if (!found) throw new Error(`no secret ${secretId}`);
  return found[0];
};

describe('TboCloudRunService: Secret Manager secrets', () => {
  const json = synthTbo();

  test('one secret per credential the contract lists, with automatic replication and deletion protection', () => {
    for (const secretId of ['tbo-service-anthropic-api-key', 'tbo-service-api-keys', 'tbo-service-jwt-secret-key', 'tbo-service-redis-auth']) {
      expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: secretId, project: 'my-project', replication: { auto: {} }, deletion_protection: true });
    }
    expect(resourcesOf(json, 'google_secret_manager_secret')).toHaveLength(4);
  });

  test('no version is created for a user-filled secret (only the Memorystore AUTH string, by reference)', () => {
    const versions = resourcesOf(json, 'google_secret_manager_secret_version');
    expect(versions).toHaveLength(1);
    const [, version] = versions[0];
    expect(version.secret).toBe(`\${google_secret_manager_secret.${secretIdOf(json, 'tbo-service-redis-auth')}.id}`);
    expect(version.secret_data).toMatch(/^\$\{google_redis_instance\.[A-Za-z0-9_]+\.auth_string\}$/);
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
    expect(resourcesOf(withOpenai, 'google_secret_manager_secret_iam_member')).toHaveLength(5);
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
    });
    const created = resourcesOf(existing, 'google_secret_manager_secret').map(([, s]) => s.secret_id);
    expect(created).toEqual(['tbo-service-redis-auth']);
    expect(parse(existing).output?.tbo_secret_commands).toBeUndefined();
    const env = envByName(existing);
    expect(env.ANTHROPIC_API_KEY.value_source?.secret_key_ref).toEqual({ secret: 'projects/shared/secrets/anthropic', version: 'latest' });
    expect(env.OPENAI_API_KEY.value_source?.secret_key_ref).toEqual({ secret: 'openai-key', version: 'latest' });
    expect(env.TBO_API_KEYS.value_source?.secret_key_ref).toEqual({ secret: 'tbo-clients', version: 'latest' });
    expect(env.JWT_SECRET_KEY.value_source?.secret_key_ref).toEqual({ secret: 'projects/shared/secrets/jwt', version: 'latest' });
    for (const secretId of ['projects/shared/secrets/anthropic', 'openai-key', 'tbo-clients', 'projects/shared/secrets/jwt']) {
      expect(existing).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: secretId, role: 'roles/secretmanager.secretAccessor' });
    }
  });

  test('TboSecret refuses a literal value (it would be written to cdktf.out)', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new TboSecret(scope, 'S', { setting: 'anthropicApiKey', secretId: 's', accessor: 'serviceAccount:a@b', value: 'sk-ant-literal' });
      }),
    ).toThrow(/must be a Terraform reference/);
  });
});
