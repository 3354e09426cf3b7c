import 'cdktf/lib/testing/adapters/jest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdktf';
import { TboGcpStack } from '../../app/gcp-stack';
import { SECRET_ENV, SETTINGS } from '../../lib/core';
import { SECRET_PLACEHOLDER_PREFIX, TboSecret, type TboCloudRunServiceProps } from '../../lib/gcp';
import { parse, synthTbo } from './support';

Testing.setupJest();

/** A fake credential: it must never reach a synthesized file or an error message. */
const SENTINEL = 'sk-ant-api03-SENTINEL-7f3a9c51e2d84b06';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Synthesizes a TboGcpStack app into a temp dir (JSON, or HCL like `cdktf synth --hcl`) and returns every file's text. */
function synthesizeApp(hclOutput: boolean, props?: ConstructorParameters<typeof TboGcpStack>[2]): Record<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), 'tbo-gcp-sentinel-'));
  try {
    const app = new App({ outdir, hclOutput, stackTraces: false });
    new TboGcpStack(app, 'tbo-gcp', props);
    app.synth();
    return Object.fromEntries(filesUnder(outdir).map((f) => [f.slice(outdir.length), readFileSync(f, 'utf8')]));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as Error).message}\n${(err as Error).stack ?? ''}`;
  }
  throw new Error('expected an error');
}

describe('secret sentinel: a key passed through any path a user could never appears in a synthesized file or an error', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  test.each([false, true])('the secrets in the synth environment are not read (hclOutput %s)', (hcl) => {
    for (const env of Object.values(SECRET_ENV)) process.env[env] = SENTINEL;
    process.env[SETTINGS.apiKeys.env] = `tenant:${SENTINEL}`;
    process.env[SETTINGS.redisUrl.env] = `rediss://:${SENTINEL}@redis.example.com:6379`;
    process.env.GOOGLE_PROJECT = 'my-project';
    process.env.GOOGLE_REGION = 'europe-west1';
    process.env.TBO_IMAGE = 'europe-west1-docker.pkg.dev/my-project/tbo/tbo-service:1.0.0';
    const files = synthesizeApp(hcl, { service: { openaiApiKey: true } });
    expect(Object.keys(files).length).toBeGreaterThan(1);
    for (const [file, text] of Object.entries(files)) {
      expect({ file, leaked: text.includes(SENTINEL) }).toEqual({ file, leaked: false });
    }
  });

  test('a secret in config is refused without echoing it', () => {
    for (const setting of Object.keys(SECRET_ENV)) {
      const message = errorOf(() => synthTbo({ config: { [setting]: SENTINEL } as TboCloudRunServiceProps['config'] }));
      expect(message).toContain(`config.${setting}: not a tunable setting`);
      expect(message).not.toContain(SENTINEL);
    }
  });

  test.each([
    'existingAnthropicApiKeySecret',
    'existingOpenaiApiKeySecret',
    'existingApiKeysSecret',
    'existingJwtSecretKeySecret',
    'existingCacheSigningKeySecret',
    'existingAdminKeysSecret',
  ] as const)('a key passed as %s is refused, redacted', (prop) => {
    const message = errorOf(() => synthTbo({ [prop]: SENTINEL }));
    expect(message).toContain(`${prop}: received "<redacted>"; looks like a credential`);
    expect(message).not.toContain(SENTINEL);
  });

  test('client keys (tenant:key) passed as existingApiKeysSecret are refused, redacted', () => {
    const message = errorOf(() => synthTbo({ existingApiKeysSecret: `acme:${SENTINEL.slice(7)}` }));
    expect(message).toContain('existingApiKeysSecret: received "<redacted>"');
    expect(message).not.toContain(SENTINEL.slice(7));
  });

  test('a password passed as existingRedis.authSecret is refused, redacted', () => {
    const message = errorOf(() => synthTbo({ existingRedis: { host: 'h', authSecret: SENTINEL } }));
    expect(message).toContain('existingRedis.authSecret: received "<redacted>"');
    expect(message).not.toContain(SENTINEL);
  });

  test('a literal TboSecret value is refused without echoing it', () => {
    const message = errorOf(() =>
      Testing.synthScope((scope) => {
        new TboSecret(scope, 'S', { setting: 'anthropicApiKey', secretId: 's', accessor: 'serviceAccount:a@b.iam.gserviceaccount.com', value: SENTINEL });
      }),
    );
    expect(message).not.toContain(SENTINEL);
  });

  test('the secret payloads Terraform handles are the Memorystore AUTH string and the generated signing key, by reference (state holds them, files do not)', () => {
    const json = synthTbo({ openaiApiKey: true });
    const versions = Object.values(parse(json).resource?.google_secret_manager_secret_version ?? {});
    expect(versions.filter((v) => v.secret_data !== undefined).map((v) => v.secret_data as string).sort()).toEqual([
      expect.stringMatching(/^\$\{google_redis_instance\.[A-Za-z0-9_]+\.auth_string\}$/),
      expect.stringMatching(/^\$\{random_password\.[A-Za-z0-9_]+\.result\}$/),
    ]);
    // The rest are the placeholders: write-only (never in state), a marker and a UUID Terraform makes at apply.
    const placeholders = versions.filter((v) => v.secret_data === undefined);
    expect(placeholders).toHaveLength(4);
    for (const v of placeholders) expect(v).toMatchObject({ secret_data_wo: `${SECRET_PLACEHOLDER_PREFIX}:\${uuid()}`, secret_data_wo_version: 1 });
    // Without placeholders and with both secrets brought, no payload is in Terraform at all.
    const none = synthTbo({ secretPlaceholders: false, existingRedis: { host: '10.0.0.3', authSecret: 'redis-auth' }, existingCacheSigningKeySecret: 'tbo-signing' });
    expect(parse(none).resource?.google_secret_manager_secret_version).toBeUndefined();
    expect(parse(none).resource?.random_password).toBeUndefined();
  });
});

describe('identity: never the default compute service account, never a project-level grant', () => {
  const variants: [string, Partial<TboCloudRunServiceProps>][] = [
    ['defaults', {}],
    ['OpenAI and existing secrets', { openaiApiKey: true, existingJwtSecretKeySecret: 'projects/p/secrets/jwt', existingCacheSigningKeySecret: 'sign', existingAdminKeysSecret: 'admins' }],
    ['in-memory cache', { redis: false }],
    ['existing Redis', { existingRedis: { host: '10.0.0.3', authSecret: 'redis-auth' }, existingNetwork: 'n', existingSubnetwork: 's' }],
    ['no project or region', { project: undefined, region: undefined }],
    ['private', { public: false, ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY' }],
  ];

  test.each(variants)('%s', (_name, props) => {
    const json = synthTbo(props);
    const synthesized = parse(json);
    const types = [...Object.keys(synthesized.resource ?? {}), ...Object.keys(synthesized.data ?? {})];
    expect(types.filter((t) => t.startsWith('google_project_iam') || t.startsWith('google_organization_iam') || t.startsWith('google_folder_iam'))).toEqual([]);
    // Only additive, per-resource members: no authoritative bindings or policies.
    expect(types.filter((t) => /_iam_(binding|policy)$/.test(t))).toEqual([]);
    expect(types).not.toContain('google_compute_default_service_account');
    expect(json).not.toMatch(/compute@developer\.gserviceaccount\.com|appspot\.gserviceaccount\.com/);

    const service = Object.values(synthesized.resource?.google_cloud_run_v2_service ?? {})[0] as { template: { service_account?: string } };
    const [saId] = Object.keys(synthesized.resource?.google_service_account ?? {});
    expect(service.template.service_account).toBe(`\${google_service_account.${saId}.email}`);

    const grants = Object.values(synthesized.resource?.google_secret_manager_secret_iam_member ?? {});
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) {
      expect(grant).toMatchObject({ role: 'roles/secretmanager.secretAccessor', member: `serviceAccount:\${google_service_account.${saId}.email}` });
    }
    const invokers = Object.values(synthesized.resource?.google_cloud_run_v2_service_iam_member ?? {});
    expect(invokers).toEqual(props.public === false ? [] : [expect.objectContaining({ role: 'roles/run.invoker', member: 'allUsers' })]);
  });
});
