import 'cdktf/lib/testing/adapters/jest';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { Password } from '@cdktf/provider-random/lib/password';
import { Testing } from 'cdktf';
import { createHmac, randomUUID } from 'node:crypto';
import { SECRET_ENV, SETTINGS } from '../../lib/core';
import { CACHE_SIGNING_KEY_LENGTH, ROLLOUT_MARKER_ENV, SECRET_PLACEHOLDER_PREFIX, TboCloudRunService, TboSecret, cacheSigningKeyPassword } from '../../lib/gcp';
import { loadConfig } from '../../service/src/config/load';
import { Authenticator } from '../../service/src/http/auth';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';
import { BASE, envByName, NAME, onlyResource, parse, resourcesOf, synthTbo } from './support';

Testing.setupJest();

const SETTINGS_ENV: string[] = Object.values(SETTINGS).map((spec) => spec.env);

const secretIdOf = (json: string, secretId: string): string => {
  const found = resourcesOf(json, 'google_secret_manager_secret').find(([, s]) => s.secret_id === secretId);
  if (!found) throw new Error(`no secret ${secretId}`);
  return found[0];
};

describe('TboCloudRunService: Secret Manager secrets', () => {
  const json = synthTbo();

  test('one secret per credential the contract lists, with automatic replication and deletion protection', () => {
    for (const secretId of [`${NAME}-anthropic-api-key`, `${NAME}-api-keys`, `${NAME}-jwt-secret-key`, `${NAME}-redis-auth`, `${NAME}-cache-signing-key`]) {
      expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: secretId, project: 'my-project', replication: { auto: {} }, deletion_protection: true });
    }
    expect(resourcesOf(json, 'google_secret_manager_secret')).toHaveLength(5);
  });

  test('the only payloads in Terraform are the Memorystore AUTH string and the generated signing key, by reference', () => {
    const versions = Object.fromEntries(
      resourcesOf(json, 'google_secret_manager_secret_version').filter(([, v]) => v.secret_data !== undefined).map(([, v]) => [v.secret as string, v.secret_data]),
    );
    expect(versions).toEqual({
      [`\${google_secret_manager_secret.${secretIdOf(json, `${NAME}-redis-auth`)}.id}`]: expect.stringMatching(/^\$\{google_redis_instance\.[A-Za-z0-9_]+\.auth_string\}$/),
      [`\${google_secret_manager_secret.${secretIdOf(json, `${NAME}-cache-signing-key`)}.id}`]: expect.stringMatching(/^\$\{random_password\.[A-Za-z0-9_]+\.result\}$/),
    });
  });

  test('each secret is injected by secret_key_ref: latest for user-filled, the created version for AUTH', () => {
    const env = envByName(json);
    const ref = (setting: keyof typeof SECRET_ENV) => env[SECRET_ENV[setting]].value_source?.secret_key_ref;
    expect(ref('anthropicApiKey')).toEqual({ secret: `\${google_secret_manager_secret.${secretIdOf(json, `${NAME}-anthropic-api-key`)}.id}`, version: 'latest' });
    expect(ref('apiKeys')).toEqual({ secret: `\${google_secret_manager_secret.${secretIdOf(json, `${NAME}-api-keys`)}.id}`, version: 'latest' });
    expect(ref('jwtSecretKey')).toEqual({ secret: `\${google_secret_manager_secret.${secretIdOf(json, `${NAME}-jwt-secret-key`)}.id}`, version: 'latest' });
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

  test('outputs the exact gcloud command that fills each user-filled secret, and the rollout command', () => {
    expect(parse(json).output?.tbo_secret_commands.value).toEqual({
      ANTHROPIC_API_KEY: `printf '%s' "$ANTHROPIC_API_KEY" | gcloud secrets versions add ${NAME}-anthropic-api-key --project=my-project --data-file=-`,
      TBO_API_KEYS: `printf '%s' "$TBO_API_KEYS" | gcloud secrets versions add ${NAME}-api-keys --project=my-project --data-file=-`,
      JWT_SECRET_KEY: `printf '%s' "$JWT_SECRET_KEY" | gcloud secrets versions add ${NAME}-jwt-secret-key --project=my-project --data-file=-`,
    });
    // Instances read `latest` when they start: a new revision picks up the filled values.
    const [[serviceId]] = resourcesOf(json, 'google_cloud_run_v2_service');
    expect(parse(json).output?.tbo_rollout_command.value).toBe(
      `gcloud run services update \${google_cloud_run_v2_service.${serviceId}.name} --region=\${google_cloud_run_v2_service.${serviceId}.location} --project=my-project --container=tbo --update-env-vars=${ROLLOUT_MARKER_ENV}=$(date +%s)`,
    );
    expect(SETTINGS_ENV).not.toContain(ROLLOUT_MARKER_ENV); // the service ignores the marker
  });

  test('without a project prop the commands take the secret\'s project from state', () => {
    const out = parse(synthTbo({ project: undefined })).output?.tbo_secret_commands.value as Record<string, string>;
    expect(out.ANTHROPIC_API_KEY).toMatch(/--project=\$\{google_secret_manager_secret\.[A-Za-z0-9_]+\.project\} --data-file=-$/);
  });

  test('openaiApiKey: true adds the OpenAI secret, its grant, its env and its command', () => {
    const withOpenai = synthTbo({ openaiApiKey: true });
    expect(withOpenai).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: `${NAME}-openai-api-key` });
    expect(envByName(withOpenai)[SECRET_ENV.openaiApiKey].value_source?.secret_key_ref).toEqual({
      secret: `\${google_secret_manager_secret.${secretIdOf(withOpenai, `${NAME}-openai-api-key`)}.id}`,
      version: 'latest',
    });
    expect(resourcesOf(withOpenai, 'google_secret_manager_secret_iam_member')).toHaveLength(6);
    expect(Object.keys(parse(withOpenai).output?.tbo_secret_commands.value as object)).toContain('OPENAI_API_KEY');
  });

  test('clientCredentials: [\'apiKeys\'] creates no JWT secret', () => {
    const apiKeysOnly = synthTbo({ clientCredentials: ['apiKeys'] });
    expect(envByName(apiKeysOnly)[SECRET_ENV.jwtSecretKey]).toBeUndefined();
    expect(resourcesOf(apiKeysOnly, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain(`${NAME}-jwt-secret-key`);
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
    expect(created).toEqual([`${NAME}-redis-auth`]);
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
    expect(resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain(`${NAME}-admin-keys`);
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

describe('TboCloudRunService: first deploy in one step (placeholder versions)', () => {
  const json = synthTbo({ openaiApiKey: true });
  const FILLED = ['anthropic-api-key', 'openai-api-key', 'api-keys', 'jwt-secret-key'];
  const placeholders = () => resourcesOf(json, 'google_secret_manager_secret_version').filter(([id]) => id.includes('_Placeholder_'));

  test('each secret you fill gets one placeholder version, write-only (never in state), and the service reads latest', () => {
    expect(placeholders()).toHaveLength(FILLED.length);
    const env = envByName(json);
    for (const suffix of FILLED) {
      const secretRef = `\${google_secret_manager_secret.${secretIdOf(json, `${NAME}-${suffix}`)}.id}`;
      const mine = placeholders().filter(([, v]) => v.secret === secretRef).map(([, v]) => v);
      expect(mine).toEqual([
        {
          secret: secretRef,
          secret_data_wo: `${SECRET_PLACEHOLDER_PREFIX}:\${uuid()}`,
          secret_data_wo_version: 1,
          lifecycle: { ignore_changes: ['secret_data_wo_version', 'enabled'] },
        },
      ]);
      // `latest`: the user's `gcloud secrets versions add` makes version 2, which new instances then read.
      expect(Object.values(env).find((e) => e.value_source?.secret_key_ref.secret === secretRef)?.value_source?.secret_key_ref.version).toBe('latest');
    }
    expect(json).not.toContain('"secret_data": "unset');
  });

  test('the first revision waits for the placeholders, so one deploy brings the service up', () => {
    const service = onlyResource(json, 'google_cloud_run_v2_service') as { depends_on: string[] };
    expect(service.depends_on).toEqual(expect.arrayContaining(placeholders().map(([id]) => `google_secret_manager_secret_version.${id}`)));
    expect(parse(json).output?.tbo_url).toBeDefined();
  });

  test('no placeholder for a secret brought with existing…Secret, nor for the ones with a generated value', () => {
    const existing = synthTbo({ existingAnthropicApiKeySecret: 'anthropic', existingApiKeysSecret: 'clients', existingJwtSecretKeySecret: 'jwt' });
    expect(resourcesOf(existing, 'google_secret_manager_secret_version').filter(([id]) => id.includes('_Placeholder_'))).toEqual([]);
    for (const [, v] of resourcesOf(json, 'google_secret_manager_secret_version')) expect(v.secret_data !== undefined && v.secret_data_wo !== undefined).toBe(false);
  });

  test('secretPlaceholders: false (a deployment whose secrets already have versions): no placeholder, same secrets and commands', () => {
    const without = synthTbo({ openaiApiKey: true, secretPlaceholders: false });
    expect(resourcesOf(without, 'google_secret_manager_secret_version').filter(([id]) => id.includes('_Placeholder_'))).toEqual([]);
    expect(resourcesOf(without, 'google_secret_manager_secret').map(([id]) => id)).toEqual(resourcesOf(json, 'google_secret_manager_secret').map(([id]) => id));
    expect(parse(without).output?.tbo_secret_commands).toEqual(parse(json).output?.tbo_secret_commands);
  });

  test('TboSecret refuses placeholder together with a value', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const password = cacheSigningKeyPassword(scope, 'P');
        new TboSecret(scope, 'S', { setting: 'cacheSigningKey', secretId: 's', accessor: 'serviceAccount:a@b', value: password.result, placeholder: true });
      }),
    ).toThrow(/placeholder and value cannot be combined/);
  });

  describe('the service as it is starts with the placeholders, and none of them is a usable credential', () => {
    // What the construct makes Terraform write: the marker and a UUID (uuid() at apply), known to nobody.
    const uuid = randomUUID();
    const placeholder = `${SECRET_PLACEHOLDER_PREFIX}:${uuid}`;
    const secrets = { ANTHROPIC_API_KEY: placeholder, TBO_API_KEYS: placeholder, JWT_SECRET_KEY: placeholder, JWT_ISSUER: 'tbo', JWT_AUDIENCE: 'tbo' };
    let upstream: FakeUpstream;
    let tbo: RunningTbo;

    beforeAll(async () => {
      // A provider that knows only real keys: the placeholder gets its 401.
      upstream = await startFakeUpstream({ validKeys: ['sk-ant-real-key'] });
      tbo = await startTbo(upstreamEnv(upstream.url, secrets));
    });
    afterAll(async () => {
      await tbo?.close();
      await upstream?.close();
    });

    /** An HS256 JWT with iss/aud tbo, signed with `key`. */
    function jwt(key: string): string {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ tenant: 'attacker', iat: now, exp: now + 60, iss: 'tbo', aud: 'tbo' })}`;
      return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
    }

    const ask = (headers: Record<string, string>) =>
      fetch(`${tbo.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      });

    test('off loopback, the config loader and the authenticator accept them: client auth on, the revision starts', async () => {
      const config = loadConfig({ ...secrets, TBO_HOST: '0.0.0.0', TBO_CONFIG_FILE: '' });
      expect(new Authenticator(config).open).toBe(false);
      expect((await fetch(`${tbo.url}/ready`)).status).toBe(200);
    });

    test('no client credential a caller could know matches: the marker, its parts, a JWT signed with a guessed placeholder', async () => {
      const guesses = [SECRET_PLACEHOLDER_PREFIX, 'fill-with-gcloud', `${SECRET_PLACEHOLDER_PREFIX}:`, jwt(SECRET_PLACEHOLDER_PREFIX), jwt(`${SECRET_PLACEHOLDER_PREFIX}:${randomUUID()}`)];
      for (const credential of guesses) {
        expect((await ask({ 'x-api-key': credential })).status).toBe(401);
        expect((await ask({ authorization: `Bearer ${credential}` })).status).toBe(401);
      }
      expect(upstream.calls).toBe(0);
    });

    test('the provider refuses the placeholder key (401), which TBO reports as ANTHROPIC_API_KEY for the operator to set', async () => {
      // Only a holder of the placeholder UUID could get this far: the test, which made it.
      const res = await ask({ 'x-api-key': `fill-with-gcloud:${uuid}` });
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('the operator must set a valid ANTHROPIC_API_KEY');
      expect(upstream.requests.at(-1)?.apiKey).toBe(placeholder);
    });

    test('/health/details (admin port) reports the upstream check failing', async () => {
      const res = await fetch(`${tbo.adminUrl}/health/details`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'unhealthy', checks: { api_connectivity: { status: 'unhealthy', error: expect.stringContaining('401') } } });
    });
  });
});

describe('TboCloudRunService: the cache signing key (TBO_CACHE_SIGNING_KEY)', () => {
  const json = synthTbo();
  const signingSecret = () => secretIdOf(json, `${NAME}-cache-signing-key`);
  const [[passwordId, password]] = resourcesOf(json, 'random_password');

  test('a generated 64-character key of letters and digits (random_password)', () => {
    expect(resourcesOf(json, 'random_password')).toHaveLength(1);
    expect(password).toMatchObject({ length: CACHE_SIGNING_KEY_LENGTH, special: false });
    expect(CACHE_SIGNING_KEY_LENGTH).toBeGreaterThanOrEqual(32); // the service's minimum
  });

  test('a secret <serviceName>-cache-signing-key whose version is the generated key, by reference', () => {
    expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: `${NAME}-cache-signing-key`, project: 'my-project', replication: { auto: {} }, deletion_protection: true });
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
    expect(resourcesOf(existing, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain(`${NAME}-cache-signing-key`);
    // The AUTH string's, and the placeholders of the three secrets to fill; none for the signing key.
    expect(resourcesOf(existing, 'google_secret_manager_secret_version').filter(([, v]) => v.secret_data !== undefined)).toHaveLength(1);
    expect(resourcesOf(existing, 'google_secret_manager_secret_version').filter(([, v]) => v.secret_data_wo !== undefined)).toHaveLength(3);
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
