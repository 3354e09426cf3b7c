import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../service/src/config/load';
import {
  ADMIN_PORT,
  BODY_MEMORY_FACTOR,
  inflightBodyBudgetBytes,
  requiredMemoryBytes,
  DEPLOYED_JWT_CLAIMS,
  PROBE_PATHS,
  redisKeyPrefixFor,
  PropValidator,
  renderConfigYaml,
  renderEnvironment,
  resolveServiceConfig,
  SECRET_ENV,
  SERVICE_PORT,
  serviceDirectory,
  SETTINGS,
  TboConfigValidationError,
  TUNABLE_SETTING_NAMES,
} from '../../lib/core';

describe('the deployment contract', () => {
  it('states the guide defaults, port and probe paths', () => {
    expect(SERVICE_PORT).toBe(8000);
    expect(PROBE_PATHS).toEqual({ liveness: '/health', readiness: '/ready', metrics: '/metrics', healthDetails: '/health/details' });
    expect(ADMIN_PORT).toBe(9464);
    expect(resolveServiceConfig()).toMatchObject({
      optimizationLevel: 'balanced',
      targetLatency: 0.5,
      cacheSize: 10000,
      maxConcurrentRequests: 500,
      rateLimitPerMinute: 10000,
      circuitBreakerThreshold: 2,
      healthCheckInterval: 30,
      metricsExportInterval: 60,
    });
  });

  it('lists every secret by env var, and no secret is tunable', () => {
    expect(Object.values(SECRET_ENV).sort()).toEqual(['ANTHROPIC_API_KEY', 'JWT_SECRET_KEY', 'OPENAI_API_KEY', 'REDIS_PASSWORD', 'SENTRY_DSN', 'TBO_ADMIN_KEYS', 'TBO_API_KEYS', 'TBO_CACHE_SIGNING_KEY']);
    for (const name of TUNABLE_SETTING_NAMES) expect(SETTINGS[name]).not.toHaveProperty('secret');
  });

  it('renders env vars the service itself parses back to the same config', () => {
    const env = renderEnvironment({ optimizationLevel: 'speed', cacheSize: 500 }, { host: 'redis.internal', port: 6380, tls: true });
    expect(env).toMatchObject({ TBO_OPTIMIZATION_LEVEL: 'speed', TBO_CACHE_SIZE: '500', REDIS_HOST: 'redis.internal', REDIS_PORT: '6380', REDIS_TLS: 'true' });
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(Object.values(SECRET_ENV)));
    const parsed = loadConfig({ ...env, TBO_CONFIG_FILE: '' });
    expect(parsed).toMatchObject({ optimizationLevel: 'speed', cacheSize: 500, redisHost: 'redis.internal', redisPort: 6380, redisTls: true });
  });

  it('renders the admin port, a per-deployment Redis key prefix and the JWT iss/aud every deployment checks', () => {
    const a = redisKeyPrefixFor('Stack/TboA');
    const b = redisKeyPrefixFor('Stack/TboB');
    expect(a).toMatch(/^tbo-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(redisKeyPrefixFor('Stack/TboA')).toBe(a);
    const env = renderEnvironment({}, { host: 'r' }, { redisKeyPrefix: a });
    expect(env).toMatchObject({ TBO_ADMIN_PORT: '9464', TBO_REDIS_KEY_PREFIX: a, JWT_ISSUER: DEPLOYED_JWT_CLAIMS.jwtIssuer, JWT_AUDIENCE: DEPLOYED_JWT_CLAIMS.jwtAudience });
    expect(renderEnvironment({ jwtIssuer: 'https://idp.example', jwtAudience: 'gw' })).toMatchObject({ JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'gw' });
    expect(loadConfig({ ...env, TBO_CONFIG_FILE: '' })).toMatchObject({ adminPort: 9464, redisKeyPrefix: a, jwtIssuer: 'tbo', jwtAudience: 'tbo' });
    expect(() => renderEnvironment({}, undefined, { redisKeyPrefix: '{all}' })).toThrow(/redisKeyPrefix: received "\{all\}"/);
  });

  it('sizes the request-body budget from the instance memory, unless the config sets one', () => {
    const MiB = 1024 ** 2;
    const config = resolveServiceConfig();
    expect(config.maxBodyBytes).toBe(32 * MiB); // the Anthropic API's limit: images and PDFs fit
    expect(requiredMemoryBytes(config)).toBe(64 * MiB + BODY_MEMORY_FACTOR * 32 * MiB + 256 * MiB);
    // 1 GiB: what the cache and the runtime leave, divided by the memory each body byte costs.
    expect(renderEnvironment({}, undefined, { memoryBytes: 1024 * MiB }).TBO_MAX_INFLIGHT_BODY_BYTES).toBe(String(Math.floor((1024 - 64 - 256) * MiB / BODY_MEMORY_FACTOR)));
    expect(renderEnvironment({ maxInflightBodyBytes: 100 * MiB }, undefined, { memoryBytes: 1024 * MiB }).TBO_MAX_INFLIGHT_BODY_BYTES).toBe(String(100 * MiB));
    expect(renderEnvironment().TBO_MAX_INFLIGHT_BODY_BYTES).toBe(String(256 * MiB)); // no memory given: the service's default
    expect(inflightBodyBudgetBytes(config, 300 * MiB)).toBe(32 * MiB); // never below one largest body
  });

  it('renders the guide\'s config.yaml layout, which the service loads', () => {
    const yaml = renderConfigYaml({ targetLatency: 0.25, logLevel: 'warn' }, { host: 'r', port: 6379 });
    const tree = parse(yaml) as Record<string, Record<string, unknown>>;
    expect(tree.optimization).toMatchObject({ level: 'balanced', target_latency: 0.25, cache_size: 10000, max_concurrent_requests: 500 });
    expect(tree.monitoring).toMatchObject({ log_level: 'warn', health_check_interval: 30, metrics_export_interval: 60 });
    expect(tree.redis).toMatchObject({ host: 'r', port: 6379, pool_size: 10 });
  });

  it('rejects bad values at synth time, naming the prop and the accepted values', () => {
    const bad = () => resolveServiceConfig({ optimizationLevel: 'fast' as never }, 'props.config');
    expect(bad).toThrow(TboConfigValidationError);
    expect(bad).toThrow(/props\.config\.optimizationLevel: .*received "fast".*accepted values: speed, balanced, quality, research/);
    expect(() => resolveServiceConfig({ cacheSize: -1 })).toThrow(/config\.cacheSize/);
    expect(() => resolveServiceConfig({ anthropicApiKey: 'x' } as never)).toThrow(/config\.anthropicApiKey: not a tunable setting/);
  });

  it('collects every prop problem into one error', () => {
    const v = new PropValidator().integer('minCapacity', 0, 1).oneOf('ingress', 'public', ['all', 'internal']);
    expect(() => v.throwIfInvalid('TboTest')).toThrow(/TboTest: minCapacity: received 0; must be an integer from 1[\s\S]*TboTest: ingress: received "public"; accepted values: all, internal/);
  });

  it('finds the bundled service folder from source and from compiled output', () => {
    const dir = serviceDirectory();
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);
    expect(serviceDirectory(join(dir, '..', 'dist', 'lib', 'core'))).toBe(dir);
    expect(() => serviceDirectory('/')).toThrow(/cannot find the bundled service folder/);
  });
});
