import 'cdktf/lib/testing/adapters/jest';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { RedisInstance } from '@cdktf/provider-google/lib/redis-instance';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { Testing } from 'cdktf';
import { SETTINGS } from '../../lib/core';
import { NAME, envByName, onlyResource, resourcesOf, synthTbo, validationError } from './support';

Testing.setupJest();

const REDIS_ENV = [SETTINGS.redisHost.env, SETTINGS.redisPort.env, SETTINGS.redisTls.env, SETTINGS.redisTlsCa.env, SETTINGS.redisPassword.env];

describe('TboCloudRunService: Memorystore for Redis by default', () => {
  const json = synthTbo();

  test('STANDARD_HA, 1 GB, Redis 7, AUTH, TLS with server authentication, RDB snapshots, on the egress network', () => {
    const [[networkId]] = resourcesOf(json, 'google_compute_network');
    expect(json).toHaveResourceWithProperties(RedisInstance, {
      name: `${NAME}-cache`,
      project: 'my-project',
      region: 'europe-west1',
      tier: 'STANDARD_HA',
      memory_size_gb: 1,
      redis_version: 'REDIS_7_2',
      auth_enabled: true,
      transit_encryption_mode: 'SERVER_AUTHENTICATION',
      persistence_config: { persistence_mode: 'RDB', rdb_snapshot_period: 'TWELVE_HOURS' },
      authorized_network: `\${google_compute_network.${networkId}.id}`,
      connect_mode: 'DIRECT_PEERING',
    });
  });

  test('the service gets host, port, TLS and the server CA as env, and the AUTH string through Secret Manager', () => {
    const [[redisId]] = resourcesOf(json, 'google_redis_instance');
    const env = envByName(json);
    expect(env.REDIS_HOST.value).toBe(`\${google_redis_instance.${redisId}.host}`);
    expect(env.REDIS_PORT.value).toBe(`\${google_redis_instance.${redisId}.port}`);
    expect(env.REDIS_TLS.value).toBe('true');
    expect(env[SETTINGS.redisTlsCa.env].value).toBe(`\${join("\\n", google_redis_instance.${redisId}.server_ca_certs[*].cert)}`);
    expect(env.REDIS_PASSWORD.value).toBeUndefined();
    expect(env.REDIS_PASSWORD.value_source?.secret_key_ref.secret).toMatch(/^\$\{google_secret_manager_secret\.[A-Za-z0-9_]+\.id\}$/);
  });

  test('the AUTH secret version is made from the instance\'s auth_string (Terraform state holds it)', () => {
    const [[redisId]] = resourcesOf(json, 'google_redis_instance');
    const [[authSecretId]] = resourcesOf(json, 'google_secret_manager_secret').filter(([, secret]) => secret.secret_id === `${NAME}-redis-auth`);
    const versions = resourcesOf(json, 'google_secret_manager_secret_version').filter(([, v]) => v.secret === `\${google_secret_manager_secret.${authSecretId}.id}`);
    expect(versions).toHaveLength(1);
    expect(versions[0][1].secret_data).toBe(`\${google_redis_instance.${redisId}.auth_string}`);
    // auth_string is referenced exactly once: by that version, never by an env var or output.
    expect(json.split('.auth_string}').length - 1).toBe(1);
  });

  test('reached through direct VPC egress, private ranges only', () => {
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({
        vpc_access: {
          egress: 'PRIVATE_RANGES_ONLY',
          network_interfaces: [{ network: expect.stringMatching(/google_compute_network\..+\.id/), subnetwork: expect.stringMatching(/google_compute_subnetwork\..+\.id/) }],
        },
      }),
    });
  });
});

describe('TboCloudRunService: Redis options', () => {
  test('redis overrides', () => {
    const json = synthTbo({ redis: { name: 'tbo-cache-eu', tier: 'BASIC', memorySizeGb: 5, redisVersion: 'REDIS_7_0', rdbSnapshotPeriod: 'ONE_HOUR' } });
    expect(json).toHaveResourceWithProperties(RedisInstance, {
      name: 'tbo-cache-eu',
      tier: 'BASIC',
      memory_size_gb: 5,
      redis_version: 'REDIS_7_0',
      persistence_config: { persistence_mode: 'RDB', rdb_snapshot_period: 'ONE_HOUR' },
      auth_enabled: true,
      transit_encryption_mode: 'SERVER_AUTHENTICATION',
    });
  });

  test('redis: false runs the in-memory cache: no instance, network, egress or Redis env', () => {
    const json = synthTbo({ redis: false });
    expect(resourcesOf(json, 'google_redis_instance')).toHaveLength(0);
    expect(resourcesOf(json, 'google_compute_network')).toHaveLength(0);
    expect(resourcesOf(json, 'google_compute_subnetwork')).toHaveLength(0);
    // The only version with a payload in Terraform left is the generated cache-signing key's (the rest are write-only placeholders).
    const payloads = resourcesOf(json, 'google_secret_manager_secret_version').map(([, v]) => v.secret_data).filter((d) => d !== undefined);
    expect(payloads).toEqual([expect.stringMatching(/^\$\{random_password\./)]);
    expect(json).not.toContain('auth_string');
    expect((onlyResource(json, 'google_cloud_run_v2_service') as { template: object }).template).not.toHaveProperty('vpc_access');
    const env = envByName(json);
    for (const name of REDIS_ENV) expect(env[name]).toBeUndefined();
  });

  test('existingRedis: its endpoint as env, its AUTH secret by reference and grant, no instance', () => {
    const json = synthTbo({
      existingRedis: { host: '10.0.0.5', port: 6378, tls: true, caCert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', authSecret: 'redis-auth' },
      existingNetwork: 'projects/my-project/global/networks/shared',
      existingSubnetwork: 'projects/my-project/regions/europe-west1/subnetworks/run',
    });
    expect(resourcesOf(json, 'google_redis_instance')).toHaveLength(0);
    const env = envByName(json);
    expect(env.REDIS_HOST.value).toBe('10.0.0.5');
    expect(env.REDIS_PORT.value).toBe('6378');
    expect(env.REDIS_TLS.value).toBe('true');
    expect(env[SETTINGS.redisTlsCa.env].value).toContain('BEGIN CERTIFICATE');
    expect(env.REDIS_PASSWORD.value_source?.secret_key_ref).toEqual({ secret: 'redis-auth', version: 'latest' });
    expect(json).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: 'redis-auth', role: 'roles/secretmanager.secretAccessor' });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({
        vpc_access: {
          egress: 'PRIVATE_RANGES_ONLY',
          network_interfaces: [{ network: 'projects/my-project/global/networks/shared', subnetwork: 'projects/my-project/regions/europe-west1/subnetworks/run' }],
        },
      }),
    });
  });

  test('existingRedis without a network or password: no VPC egress, no REDIS_PASSWORD', () => {
    const json = synthTbo({ existingRedis: { host: 'redis.example.com', tls: true } });
    expect(resourcesOf(json, 'google_compute_network')).toHaveLength(0);
    expect((onlyResource(json, 'google_cloud_run_v2_service') as { template: object }).template).not.toHaveProperty('vpc_access');
    const env = envByName(json);
    expect(env.REDIS_HOST.value).toBe('redis.example.com');
    expect(env.REDIS_PASSWORD).toBeUndefined();
  });

  test('redis.connectMode: PRIVATE_SERVICE_ACCESS on an existing (Shared VPC) network', () => {
    const json = synthTbo({
      redis: { connectMode: 'PRIVATE_SERVICE_ACCESS' },
      existingNetwork: 'projects/host-project/global/networks/shared',
      existingSubnetwork: 'projects/host-project/regions/europe-west1/subnetworks/run',
    });
    expect(json).toHaveResourceWithProperties(RedisInstance, { connect_mode: 'PRIVATE_SERVICE_ACCESS', authorized_network: 'projects/host-project/global/networks/shared' });
    expect(resourcesOf(json, 'google_compute_network')).toHaveLength(0);
    expect(synthTbo()).toHaveResourceWithProperties(RedisInstance, { connect_mode: 'DIRECT_PEERING' });
  });

  test('redis.connectMode is validated: a known mode, and PRIVATE_SERVICE_ACCESS only with existingNetwork', () => {
    expect(validationError({ redis: { connectMode: 'PEERING' as 'DIRECT_PEERING' } })).toContain(
      'redis.connectMode: received "PEERING"; accepted values: DIRECT_PEERING, PRIVATE_SERVICE_ACCESS',
    );
    expect(validationError({ redis: { connectMode: 'PRIVATE_SERVICE_ACCESS' } })).toMatch(
      /redis\.connectMode: received "PRIVATE_SERVICE_ACCESS"; needs existingNetwork .*private services access connection, which this construct does not create/,
    );
  });
});
