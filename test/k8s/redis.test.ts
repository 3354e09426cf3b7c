import 'cdktf/lib/testing/adapters/jest';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { renderEnvironment, SECRET_ENV } from '../../lib/core';
import { blockOf, N, synthService } from './support/synth';

Testing.setupJest();

type Container = { args: string[]; command: string[]; env: unknown[]; [key: string]: unknown };
const redisPod = (json: string) => (blockOf(json, 'kubernetes_stateful_set_v1') as { spec: { template: { spec: Record<string, unknown> & { container: Container[] } } } }).spec.template.spec;
const gatewayEnv = (json: string) =>
  Object.fromEntries(
    (blockOf(json, 'kubernetes_deployment_v1') as { spec: { template: { spec: { container: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.container[0].env
      .filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value]),
  );
const configYaml = (json: string) => parse((blockOf(json, 'kubernetes_config_map_v1', 'Tbo_ConfigMap').data as Record<string, string>)['config.yaml']);
const redisLabels = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': N.redis, 'app.kubernetes.io/component': 'cache' };
const gatewayLabels = { 'app.kubernetes.io/name': 'tbo', 'app.kubernetes.io/instance': N.service, 'app.kubernetes.io/component': 'gateway' };

describe('in-cluster Redis (default)', () => {
  const json = synthService();

  it('is one StatefulSet pod of the official redis:7-alpine image with a 1Gi volume', () => {
    expect(json).toHaveResourceWithProperties(StatefulSetV1, {
      metadata: expect.objectContaining({ name: N.redis }),
      spec: expect.objectContaining({
        replicas: '1',
        service_name: N.redis,
        volume_claim_template: [
          { metadata: expect.objectContaining({ name: 'data' }), spec: { access_modes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        ],
      }),
    });
    expect(redisPod(json).container[0]).toMatchObject({ image: 'redis:7-alpine', volume_mount: [{ name: 'data', mount_path: '/data' }] });
  });

  it('persists with appendonly, requires the password from the Secret, and evicts before its 512Mi limit', () => {
    const c = redisPod(json).container[0];
    expect(c.command).toEqual(['redis-server']);
    expect(c.args).toEqual(['--appendonly', 'yes', '--dir', '/data', '--requirepass', `$(${SECRET_ENV.redisPassword})`, '--maxmemory', String(0.75 * 512 * 2 ** 20), '--maxmemory-policy', 'allkeys-lru', '--repl-diskless-sync-delay', '0']);
    const fromSecret = { secret_key_ref: { name: N.secret, key: 'redis-password', optional: false } };
    expect(c.env).toEqual([
      { name: SECRET_ENV.redisPassword, value_from: fromSecret },
      { name: 'REDISCLI_AUTH', value_from: fromSecret },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
  });

  it('runs under the restricted Pod Security Standard as the image\'s redis user', () => {
    const pod = redisPod(json);
    expect(pod).toMatchObject({
      automount_service_account_token: false,
      security_context: { run_as_non_root: true, run_as_user: '999', run_as_group: '1000', fs_group: '1000', seccomp_profile: { type: 'RuntimeDefault' } },
    });
    expect(pod.container[0].security_context).toMatchObject({ allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('is probed without putting the password on a command line', () => {
    expect(redisPod(json).container[0]).toMatchObject({
      readiness_probe: { exec: { command: ['sh', '-c', 'redis-cli ping | grep -q PONG'] } },
      liveness_probe: { tcp_socket: [{ port: '6379' }] },
    });
  });

  it('has a ClusterIP Service on 6379', () => {
    expect(json).toHaveResourceWithProperties(ServiceV1, {
      metadata: expect.objectContaining({ name: N.redis }),
      spec: { type: 'ClusterIP', selector: redisLabels, port: [{ name: 'redis', port: 6379, target_port: '6379', protocol: 'TCP' }] },
    });
  });

  it('is reachable only from the gateway pods and its backup Job\'s, and reaches nothing', () => {
    const backupLabels = { 'app.kubernetes.io/name': 'redis-backup', 'app.kubernetes.io/instance': N.backup, 'app.kubernetes.io/component': 'backup' };
    expect(json).toHaveResourceWithProperties(NetworkPolicyV1, {
      metadata: expect.objectContaining({ name: N.redis }),
      spec: {
        pod_selector: { match_labels: redisLabels },
        policy_types: ['Ingress', 'Egress'],
        ingress: [{ from: [{ pod_selector: { match_labels: gatewayLabels } }, { pod_selector: { match_labels: backupLabels } }], ports: [{ port: '6379', protocol: 'TCP' }] }],
      },
    });
  });

  it('without backups, only from the gateway pods', () => {
    const spec = blockOf(synthService({ redis: { backup: false } }), 'kubernetes_network_policy_v1', 'Redis_NetworkPolicy').spec as { ingress: unknown[] };
    expect(spec.ingress).toEqual([{ from: [{ pod_selector: { match_labels: gatewayLabels } }], ports: [{ port: '6379', protocol: 'TCP' }] }]);
  });

  it('is what the gateway is configured with, in env and config.yaml', () => {
    expect(gatewayEnv(json)).toMatchObject({ REDIS_HOST: N.redisHost, REDIS_PORT: '6379', REDIS_TLS: 'false' });
    expect(configYaml(json).redis).toMatchObject({ host: N.redisHost, port: 6379 });
  });
});

describe('in-cluster Redis options', () => {
  it('image, storage, storage class and resources (maxmemory follows the limit)', () => {
    const json = synthService({ redis: { image: 'redis:7.4-alpine', storage: '5Gi', storageClassName: 'fast', resources: { limits: { memory: '1Gi' } } } });
    const sts = blockOf(json, 'kubernetes_stateful_set_v1') as { spec: { volume_claim_template: { spec: Record<string, unknown> }[] } };
    expect(sts.spec.volume_claim_template[0].spec).toEqual({ access_modes: ['ReadWriteOnce'], storage_class_name: 'fast', resources: { requests: { storage: '5Gi' } } });
    const c = redisPod(json).container[0];
    expect(c.image).toBe('redis:7.4-alpine');
    expect(c.args).toContain(String(0.75 * 2 ** 30));
  });

  it('without NetworkPolicies it has none either', () => {
    expect(Object.keys(JSON.parse(synthService({ networkPolicy: false })).resource.kubernetes_network_policy_v1 ?? {})).toEqual([]);
  });
});

describe('existingRedisUrl', () => {
  const url = 'rediss://cache.example.com:6380/2';
  const json = synthService({ existingRedisUrl: url });

  it('creates no Redis and hands the URL to the gateway in env and config.yaml', () => {
    expect(json).not.toHaveResource(StatefulSetV1);
    const env = gatewayEnv(json);
    expect(env.REDIS_URL).toBe(url);
    expect(env.REDIS_HOST).toBeUndefined();
    expect(configYaml(json).redis).toMatchObject({ url });
  });

  it('lets the gateway out to the URL\'s port', () => {
    const egress = (blockOf(json, 'kubernetes_network_policy_v1', 'GatewayPolicy').spec as { egress: unknown[] }).egress;
    expect(egress).toContainEqual({ ports: [{ port: '6380', protocol: 'TCP' }] });
  });
});

describe('redis: false', () => {
  it('runs the gateway on its in-memory cache only', () => {
    const json = synthService({ redis: false });
    expect(json).not.toHaveResource(StatefulSetV1);
    const env = gatewayEnv(json);
    // No Redis location; the instance's key prefix is still stated, so adding a Redis later keeps it.
    expect(env).toEqual(renderEnvironment({ drainTimeout: 600, serviceName: N.namespace }, undefined, { redisKeyPrefix: env.TBO_REDIS_KEY_PREFIX, memoryBytes: 1024 ** 3 }));
    expect(env.TBO_REDIS_KEY_PREFIX).toMatch(/^tbo-[0-9a-f]{12}$/);
    expect(env).not.toHaveProperty('REDIS_HOST');
    expect(env).not.toHaveProperty('REDIS_URL');
    expect(configYaml(json).redis).toEqual(expect.not.objectContaining({ host: expect.anything() }));
  });
});
