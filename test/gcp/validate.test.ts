import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { SETTINGS, TboConfigValidationError } from '../../lib/core';
import { FALLBACK_SERVICE_NAME, requiredMemoryMiB, resolveCloudRunProps } from '../../lib/gcp';
import { BASE, envByName, synthTbo, validationError } from './support';

Testing.setupJest();

describe('TboCloudRunService: synth-time validation names the prop, the value and what is accepted', () => {
  test.each([
    ['minInstances > maxInstances', { minInstances: 5, maxInstances: 3 }, 'TboCloudRunService: minInstances: received 5; must be ≤ maxInstances (3)'],
    ['minInstances negative', { minInstances: -1 }, 'minInstances: received -1; must be an integer from 0 to 1000'],
    ['maxInstances 0', { maxInstances: 0 }, 'maxInstances: received 0; must be an integer from 1 to 1000'],
    ['maxInstances fractional', { maxInstances: 2.5 }, 'maxInstances: received 2.5; must be an integer from 1 to 1000'],
    ['concurrency < 1', { maxConcurrency: 0 }, 'maxConcurrency: received 0; must be an integer from 1 to 1000'],
    ['concurrency > 1000', { maxConcurrency: 1001 }, 'maxConcurrency: received 1001; must be an integer from 1 to 1000'],
    ['fractional CPU', { cpu: 0.5 }, 'cpu: received 0.5; accepted values: 1, 2, 4, 6, 8'],
    ['memory below what the service needs', { memoryMiB: 256 }, 'memoryMiB: received 256; must be an integer ≥ 512'],
    ['memory above the CPU\'s limit', { memoryMiB: 8192 }, 'memoryMiB: received 8192; must be ≤ 4096 with cpu 1'],
    ['request timeout above 3600', { requestTimeoutSeconds: 3601 }, 'requestTimeoutSeconds: received 3601; must be an integer from 1 to 3600'],
    ['unknown ingress', { ingress: 'all' as never }, 'ingress: received "all"; accepted values: INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER, INGRESS_TRAFFIC_INTERNAL_ONLY'],
    ['public with auth disabled', { config: { auth: 'none' as const } }, 'config.auth: received "none"; must be \'auto\' while public is true'],
    ['public without any client credential', { clientCredentials: [] }, 'clientCredentials: received []; must list at least one of apiKeys, jwtSecretKey while public is true'],
    ['unknown client credential', { clientCredentials: ['oauth' as never] }, 'clientCredentials: received "oauth"; accepted values: apiKeys, jwtSecretKey'],
    ['existing JWT secret without the JWT credential', { clientCredentials: ['apiKeys' as const], existingJwtSecretKeySecret: 'jwt' }, "existingJwtSecretKeySecret: received \"jwt\"; needs 'jwtSecretKey' in clientCredentials"],
    ['existing API keys secret without the API keys credential', { clientCredentials: ['jwtSecretKey' as const], existingApiKeysSecret: 'keys' }, "existingApiKeysSecret: received \"keys\"; needs 'apiKeys' in clientCredentials"],
    ['existing OpenAI secret with openaiApiKey false', { openaiApiKey: false, existingOpenaiApiKeySecret: 'o' }, 'existingOpenaiApiKeySecret: received "o"; cannot be combined with openaiApiKey: false'],
    ['malformed secret reference', { existingAnthropicApiKeySecret: 'projects/p/secrets/a b' }, 'existingAnthropicApiKeySecret: received "projects/p/secrets/a b"; must be a secret id'],
    ['bad service name', { serviceName: 'TBO_Service' }, 'serviceName: received "TBO_Service"; must be 1 to 49 lowercase letters'],
    ['service name too long for the account id', { serviceName: 'a-very-long-tbo-service-name-x' }, 'serviceName: received "a-very-long-tbo-service-name-x-run"; the service account id must be 6 to 30'],
    ['bad service account id', { serviceAccountId: 'x' }, 'serviceAccountId: received "x"; the service account id must be 6 to 30'],
    ['empty image', { image: '' }, 'image: received ""; must be a container image reference'],
    ['image with a space', { image: 'gcr.io/p/tbo latest' }, 'image: received "gcr.io/p/tbo latest"; must be a container image reference'],
    ['network without subnetwork', { existingNetwork: 'projects/p/global/networks/n' }, 'existingSubnetwork: received undefined; is required with existingNetwork'],
    ['subnetwork without network', { existingSubnetwork: 'projects/p/regions/r/subnetworks/s' }, 'existingNetwork: received undefined; is required with existingSubnetwork'],
    ['subnet too small for maxInstances', { subnetCidr: '10.8.0.0/24', maxInstances: 200 }, 'subnetCidr: received "10.8.0.0/24"; must be an IPv4 CIDR of at least /26 with ≥ 404 addresses'],
    ['subnet smaller than /26', { subnetCidr: '10.8.0.0/27', maxInstances: 5 }, 'subnetCidr: received "10.8.0.0/27"; must be an IPv4 CIDR of at least /26'],
    ['subnet not a CIDR', { subnetCidr: '10.8.0.0' }, 'subnetCidr: received "10.8.0.0"; must be an IPv4 CIDR'],
    ['subnetCidr with an existing network', { subnetCidr: '10.9.0.0/23', existingNetwork: 'n', existingSubnetwork: 's' }, 'subnetCidr: received "10.9.0.0/23"; applies only to the subnetwork this construct creates'],
    ['redis and existingRedis together', { redis: {}, existingRedis: { host: 'h' } }, 'existingRedis: received "h"; cannot be combined with redis'],
    ['existingRedis with an empty host', { existingRedis: { host: ' ' } }, 'existingRedis.host: received " "; must be a host name or address'],
    ['existingRedis with a bad port', { existingRedis: { host: 'h', port: 70000 } }, 'existingRedis.port: received 70000; must be an integer from 1 to 65535'],
    ['Redis memory 0', { redis: { memorySizeGb: 0 } }, 'redis.memorySizeGb: received 0; must be an integer from 1 to 300'],
    ['unknown Redis tier', { redis: { tier: 'PREMIUM' as never } }, 'redis.tier: received "PREMIUM"; accepted values: STANDARD_HA, BASIC'],
    ['unknown Redis version', { redis: { redisVersion: 'REDIS_5_0' as never } }, 'redis.redisVersion: received "REDIS_5_0"; accepted values: REDIS_7_2, REDIS_7_0, REDIS_6_X'],
    ['unknown snapshot period', { redis: { rdbSnapshotPeriod: 'DAILY' as never } }, 'redis.rdbSnapshotPeriod: received "DAILY"; accepted values: ONE_HOUR'],
    ['bad Redis name', { redis: { name: 'Cache!' } }, 'redis.name: received "Cache!"; the Memorystore name must be 1 to 40'],
    ['malformed signing key secret reference', { existingCacheSigningKeySecret: 'a b' }, 'existingCacheSigningKeySecret: received "a b"; must be a secret id'],
    ['malformed admin keys secret reference', { existingAdminKeysSecret: 'projects/p/secrets/' }, 'existingAdminKeysSecret: received "projects/p/secrets/"; must be a secret id'],
    ['a Redis key prefix with a cluster hash tag', { redisKeyPrefix: '{tbo}' }, 'redisKeyPrefix: received "{tbo}"; must be 1 to 64 of A-Z a-z 0-9 . _ -'],
    ['an empty Redis key prefix', { redisKeyPrefix: '' }, 'redisKeyPrefix: received ""; must be 1 to 64 of A-Z a-z 0-9 . _ -'],
    ['a Redis key prefix over 64 characters', { redisKeyPrefix: 'p'.repeat(65) }, `redisKeyPrefix: received "${'p'.repeat(65)}"; must be 1 to 64`],
    ['a Redis key prefix as config (target-owned)', { config: { redisKeyPrefix: 'x' } as never }, 'config.redisKeyPrefix: not a tunable setting'],
    ['service name too long for the Redis name', { serviceName: 'tbo-service-with-a-long-name-abcdefgh' }, 'serviceName: received "tbo-service-with-a-long-name-abcdefgh-cache"; the Memorystore name must be 1 to 40'],
  ])('%s', (_name, props, message) => {
    expect(validationError(props)).toContain(message);
  });

  test('errors are TboConfigValidationError and list every problem at once', () => {
    let error: unknown;
    try {
      resolveCloudRunProps({ ...BASE, minInstances: 5, maxInstances: 3, maxConcurrency: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TboConfigValidationError);
    expect((error as TboConfigValidationError).problems).toHaveLength(2);
  });

  test('config is validated against the service\'s own schema, named config.<setting>', () => {
    expect(validationError({ config: { optimizationLevel: 'fastest' as never } })).toContain('config.optimizationLevel');
    expect(validationError({ config: { port: 9000 } as never })).toContain('config.port: not a tunable setting');
  });

  test('the memory floor follows the config: a big in-memory cache needs more memory', () => {
    const config = { cacheMaxBytes: 3 * 1024 ** 3 };
    const needed = requiredMemoryMiB(resolveCloudRunProps({ ...BASE, config, memoryMiB: 4096 }).config);
    expect(needed).toBe(3072 + 3 * 32 + 256); // the cache, one largest body (32 MiB) three times over, the runtime
    expect(validationError({ config })).toContain(`memoryMiB: received 2048; must be an integer ≥ ${needed}`);
    expect(() => synthTbo({ config, memoryMiB: 4096 })).not.toThrow();
  });

  test('valid edge values pass', () => {
    expect(() => synthTbo({ minInstances: 0, maxInstances: 1, maxConcurrency: 1000, cpu: 8, memoryMiB: 32768, subnetCidr: '10.0.0.0/26', requestTimeoutSeconds: 1 })).not.toThrow();
    expect(() => synthTbo({ minInstances: 3, maxInstances: 3, maxConcurrency: 1, cpu: 4, memoryMiB: 512, requestTimeoutSeconds: 3600 })).not.toThrow();
  });

  test('serviceName: the prop, else the derived name, else tbo-service; it names the logs (TBO_SERVICE_NAME) unless config.serviceName does', () => {
    expect(resolveCloudRunProps(BASE).serviceName).toBe(FALLBACK_SERVICE_NAME);
    expect(FALLBACK_SERVICE_NAME).toBe('tbo-service');
    expect(resolveCloudRunProps(BASE, undefined, 'derived-1a2b3c')).toMatchObject({ serviceName: 'derived-1a2b3c', config: { serviceName: 'derived-1a2b3c' } });
    expect(resolveCloudRunProps({ ...BASE, serviceName: 'gw' }, undefined, 'derived-1a2b3c')).toMatchObject({ serviceName: 'gw', config: { serviceName: 'gw' } });
    expect(resolveCloudRunProps({ ...BASE, serviceName: 'gw', config: { serviceName: 'Gateway.EU' } }).config.serviceName).toBe('Gateway.EU');
    expect(envByName(synthTbo({ serviceName: 'gw' }))[SETTINGS.serviceName.env].value).toBe('gw');
  });

  test('secretPlaceholders defaults to true', () => {
    expect(resolveCloudRunProps(BASE).secretPlaceholders).toBe(true);
    expect(resolveCloudRunProps({ ...BASE, secretPlaceholders: false }).secretPlaceholders).toBe(false);
  });
});
