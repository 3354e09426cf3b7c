/**
 * Configuration as an operator meets it: the guide's config.yaml, env vars that override it,
 * refusals that name the setting and what it accepts (exit 2 as a process), the open-service
 * guard, and logs that carry neither prompts nor credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../service/src/config/load';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { freePort, waitFor } from '../support/ports';
import { ANTHROPIC_KEY, OPENAI_KEY, runTboExpectingExit, spawnTbo, upstreamEnv, type TboProcess } from '../support/tbo';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tbo-config-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
function writeConfig(yaml: string): string {
  const file = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** The guide's layout. */
const GUIDE_YAML = `
optimization:
  level: quality
  target_latency: 0.8
  cache_size: 500
monitoring:
  log_level: INFO
redis:
  url: redis://cache.internal:6379/0
  pool_size: 4
`;

/** loadConfig's ConfigError, or a failure saying it did not throw one. */
function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: YAML file and environment', () => {
  it('reads the guide\'s config.yaml', () => {
    const config = loadConfig({ TBO_CONFIG_FILE: writeConfig(GUIDE_YAML) });
    expect(config).toMatchObject({
      optimizationLevel: 'quality',
      targetLatency: 0.8,
      cacheSize: 500,
      logLevel: 'info',
      redisUrl: 'redis://cache.internal:6379/0',
      redisPoolSize: 4,
    });
    // Everything the file does not set keeps its default.
    expect(config).toMatchObject({ maxBodyBytes: 32 * 1024 ** 2, rateLimitPerMinute: 10_000, auth: 'auto', redisTls: false });
  });

  it('lets every env var override its YAML setting', () => {
    const config = loadConfig({
      TBO_CONFIG_FILE: writeConfig(GUIDE_YAML),
      TBO_OPTIMIZATION_LEVEL: 'SPEED',
      TBO_TARGET_LATENCY: '0.25',
      TBO_CACHE_SIZE: '42',
      TBO_LOG_LEVEL: 'warn',
      REDIS_URL: 'rediss://other.internal:6380/1',
      REDIS_POOL_SIZE: '20',
    });
    expect(config).toMatchObject({
      optimizationLevel: 'speed',
      targetLatency: 0.25,
      cacheSize: 42,
      logLevel: 'warn',
      redisUrl: 'rediss://other.internal:6380/1',
      redisPoolSize: 20,
    });
  });

  it('treats an empty env var as unset, so the YAML value stands', () => {
    const config = loadConfig({ TBO_CONFIG_FILE: writeConfig(GUIDE_YAML), TBO_OPTIMIZATION_LEVEL: '', TBO_CACHE_SIZE: '' });
    expect(config.optimizationLevel).toBe('quality');
    expect(config.cacheSize).toBe(500);
  });

  it('uses the documented defaults without a file', () => {
    const config = loadConfig({ TBO_CONFIG_FILE: '' });
    expect(config).toMatchObject({ optimizationLevel: 'balanced', targetLatency: 0.5, cacheSize: 10_000, logLevel: 'info', redisPoolSize: 10 });
    expect(config.redisUrl).toBeUndefined();
  });
});

describe('loadConfig: invalid configuration', () => {
  const invalid: readonly (readonly [string, () => Record<string, string>, readonly RegExp[]])[] = [
    ['TBO_OPTIMIZATION_LEVEL=fast', () => ({ TBO_CONFIG_FILE: '', TBO_OPTIMIZATION_LEVEL: 'fast' }), [/TBO_OPTIMIZATION_LEVEL \(optimization\.level\)/, /"fast"/, /speed, balanced, quality, research/]],
    ['TBO_CACHE_SIZE=-1', () => ({ TBO_CONFIG_FILE: '', TBO_CACHE_SIZE: '-1' }), [/TBO_CACHE_SIZE \(optimization\.cache_size\)/, /"-1"/, />=\s*0/]],
    ['TBO_CACHE_SIZE=lots', () => ({ TBO_CONFIG_FILE: '', TBO_CACHE_SIZE: 'lots' }), [/TBO_CACHE_SIZE \(optimization\.cache_size\)/, /number/]],
    ['REDIS_URL=http://x', () => ({ TBO_CONFIG_FILE: '', REDIS_URL: 'http://x' }), [/REDIS_URL \(redis\.url\)/, /redis:\/\/ or rediss:\/\//, /"http:\/\/x"/]],
    ['TBO_LOG_LEVEL=loud', () => ({ TBO_CONFIG_FILE: '', TBO_LOG_LEVEL: 'loud' }), [/TBO_LOG_LEVEL \(monitoring\.log_level\)/, /fatal, error, warn, info, debug, trace, silent/]],
    ['TBO_AUTH=off', () => ({ TBO_CONFIG_FILE: '', TBO_AUTH: 'off' }), [/TBO_AUTH \(security\.auth\)/, /auto, none/]],
    ['optimization.level: fast in the YAML file', () => ({ TBO_CONFIG_FILE: writeConfig('optimization:\n  level: fast\n') }), [/TBO_OPTIMIZATION_LEVEL \(optimization\.level\)/, /speed, balanced, quality, research/]],
    ['redis.pool_size: 0 in the YAML file', () => ({ TBO_CONFIG_FILE: writeConfig('redis:\n  pool_size: 0\n') }), [/REDIS_POOL_SIZE \(redis\.pool_size\)/, />=\s*1/]],
    ['a YAML file that is not YAML', () => ({ TBO_CONFIG_FILE: writeConfig('optimization:\n  level: [speed\n  cache_size: : :\n') }), [/TBO_CONFIG_FILE/, /config-\d+\.yaml/, /YAML/]],
    ['a YAML file that does not exist', () => ({ TBO_CONFIG_FILE: join(dir, 'missing.yaml') }), [/TBO_CONFIG_FILE/, /missing\.yaml/]],
    ['a YAML file that is a directory', () => ({ TBO_CONFIG_FILE: dir }), [/TBO_CONFIG_FILE/]],
  ];

  it.each(invalid)('%s → ConfigError naming the setting and what it accepts', (_what, env, expected) => {
    const err = configErrorOf(env());
    for (const pattern of expected) expect(err.message).toMatch(pattern);
  });

  it('names every invalid setting at once', () => {
    const err = configErrorOf({ TBO_CONFIG_FILE: '', TBO_OPTIMIZATION_LEVEL: 'fast', TBO_CACHE_SIZE: '-1', REDIS_URL: 'http://x' });
    expect(err.problems).toHaveLength(3);
    expect(err.message).toMatch(/TBO_OPTIMIZATION_LEVEL[\s\S]*TBO_CACHE_SIZE[\s\S]*REDIS_URL/);
  });

  it('never repeats a secret it refuses', () => {
    const secret = 'too-short-jwt-secret';
    const err = configErrorOf({ TBO_CONFIG_FILE: '', JWT_SECRET_KEY: secret });
    expect(err.message).toMatch(/JWT_SECRET_KEY/);
    expect(err.message).toMatch(/32/);
    expect(err.message).not.toContain(secret);
  });

  it('never repeats the password inside a REDIS_URL it refuses', () => {
    const password = 'hunter2-redis-password';
    const err = configErrorOf({ TBO_CONFIG_FILE: '', REDIS_URL: `http://default:${password}@cache.internal:6379` });
    expect(err.message).toMatch(/REDIS_URL/);
    expect(err.message).not.toContain(password);
  });
});

describe('the service process', () => {
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeUpstream();
  });
  afterAll(async () => {
    await fake?.close();
  });

  /** Env for a child that must stop before listening; a free port in case it does not. */
  const childEnv = async (extra: Record<string, string>) => ({ TBO_HOST: '127.0.0.1', TBO_PORT: String(await freePort()), TBO_CONFIG_FILE: '', TBO_LOG_LEVEL: 'silent', ...extra });

  it('exits with code 2 and prints the reason on invalid configuration', async () => {
    const { code, output } = await runTboExpectingExit(await childEnv({ TBO_OPTIMIZATION_LEVEL: 'fast' }));
    expect(code).toBe(2);
    expect(output).toMatch(/TBO_OPTIMIZATION_LEVEL \(optimization\.level\)/);
    expect(output).toMatch(/speed, balanced, quality, research/);
  });

  it('exits with code 2 on an unreadable config file', async () => {
    const file = writeConfig('optimization: {level: [\n');
    const { code, output } = await runTboExpectingExit(await childEnv({ TBO_CONFIG_FILE: file }));
    expect(code).toBe(2);
    expect(output).toContain(file);
  });

  it('refuses to run open (no TBO_API_KEYS / JWT_SECRET_KEY) on 0.0.0.0, naming TBO_AUTH', async () => {
    const { code, output } = await runTboExpectingExit(await childEnv({ TBO_HOST: '0.0.0.0' }));
    expect(code).toBe(2);
    expect(output).toMatch(/TBO_AUTH/);
    expect(output).toMatch(/TBO_API_KEYS|JWT_SECRET_KEY/);
  });

  it('runs open on 0.0.0.0 when TBO_AUTH=none says so', async () => {
    const tbo = await spawnTbo({ TBO_HOST: '0.0.0.0', TBO_AUTH: 'none', TBO_CONFIG_FILE: '', TBO_LOG_LEVEL: 'silent' });
    try {
      expect((await fetch(`${tbo.url}/health`)).status).toBe(200);
    } finally {
      expect(await tbo.stop()).toBe(0);
    }
  });

  it('logs requests without their prompts or any credential', async () => {
    const clientKey = 'tenant-key-LOGCANARY-0123456789';
    const wrongKey = 'wrong-key-LOGCANARY-0123456789';
    const prompt = 'PROMPT-CANARY the launch code is 0000';
    let tbo: TboProcess | undefined = await spawnTbo(upstreamEnv(fake.url, { TBO_LOG_LEVEL: 'debug', TBO_API_KEYS: `acme:${clientKey}` }));
    try {
      const send = (path: string, headers: Record<string, string>, body: string) =>
        fetch(`${tbo?.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const anthropicBody = JSON.stringify({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: prompt }] });
      const statuses = [
        (await send('/v1/messages', { 'x-api-key': clientKey }, anthropicBody)).status,
        (await send('/v1/chat/completions', { authorization: `Bearer ${clientKey}` }, JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: prompt }] }))).status,
        (await send('/v1/messages', { 'x-api-key': wrongKey }, anthropicBody)).status,
        (await send('/v1/messages', { 'x-api-key': clientKey }, `{"model":"claude-test","messages":"${prompt}`)).status,
      ];
      fake.failNext(1, { status: 401 });
      statuses.push((await send('/v1/messages', { 'x-api-key': clientKey, 'cache-control': 'no-store' }, anthropicBody)).status);
      expect(statuses).toEqual([200, 200, 401, 400, 401]);

      await waitFor(() => (tbo?.output().match(/"msg":"request"/g) ?? []).length >= statuses.length, { what: 'one log line per request' });
      const code = await tbo.stop();
      expect(code).toBe(0);
      const output = tbo.output();
      tbo = undefined;

      expect(output).toMatch(/"tenant":"acme"/);
      for (const secret of [prompt, 'PROMPT-CANARY', 'LOGCANARY', clientKey, wrongKey, ANTHROPIC_KEY, OPENAI_KEY, 'SENTINEL']) {
        expect(output).not.toContain(secret);
      }
    } finally {
      await tbo?.stop();
    }
  });
});
