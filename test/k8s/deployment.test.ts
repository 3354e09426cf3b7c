import 'cdktf/lib/testing/adapters/jest';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { ADMIN_PORT, CONFIG_MOUNT_DIR, DEFAULT_CONFIG_FILE, PROBE_PATHS, redisKeyPrefixFor, renderConfigYaml, renderEnvironment, SECRET_ENV, SERVICE_PORT, serviceDirectory } from '../../lib/core';
import { blockOf, N, NAME, synthService, synthWithConstruct } from './support/synth';

Testing.setupJest();

type Container = Record<string, unknown> & { env: { name: string; value?: string; value_from?: unknown }[] };
interface PodSpec {
  container: Container[];
  volume: Record<string, unknown>[];
  termination_grace_period_seconds: number;
  [key: string]: unknown;
}

function deployment(json: string): { spec: { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } } & Record<string, unknown> } & Record<string, unknown> {
  return blockOf(json, 'kubernetes_deployment_v1') as never;
}
const pod = (json: string) => deployment(json).spec.template.spec;
const container = (json: string) => pod(json).container[0];
const plainEnv = (json: string) => Object.fromEntries(container(json).env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
/** The prefix of the construct `Tbo` in synthService's stack: derived from its address, as the construct does. */
const prefixOfTbo = () => synthWithConstruct().tbo.redisKeyPrefix;

describe('Deployment defaults', () => {
  const json = synthService();

  it('has the guide\'s resources', () => {
    expect(container(json).resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '500m', memory: '1Gi' } });
  });

  it('has the guide\'s probes, on the contract\'s paths and the public port, plus a startup probe', () => {
    const port = String(SERVICE_PORT);
    expect(container(json)).toMatchObject({
      liveness_probe: { http_get: { path: PROBE_PATHS.liveness, port }, initial_delay_seconds: 30, period_seconds: 10 },
      readiness_probe: { http_get: { path: PROBE_PATHS.readiness, port }, initial_delay_seconds: 5, period_seconds: 5 },
      startup_probe: { http_get: { path: PROBE_PATHS.liveness, port }, period_seconds: 2, failure_threshold: 30 },
    });
  });

  it('has two container ports: http (public) and admin (9464: metrics and health details)', () => {
    expect(container(json).port).toEqual([
      { name: 'http', container_port: SERVICE_PORT, protocol: 'TCP' },
      { name: 'admin', container_port: ADMIN_PORT, protocol: 'TCP' },
    ]);
    expect(ADMIN_PORT).toBe(9464);
  });

  it('takes its environment from the shared contract, with the in-cluster Redis and its own Redis key prefix', () => {
    const { tbo, json: synthesized } = synthWithConstruct();
    expect(tbo.redisKeyPrefix).toBe(redisKeyPrefixFor(tbo.node.addr));
    expect(plainEnv(synthesized)).toEqual(renderEnvironment({ drainTimeout: 600, serviceName: NAME }, { host: N.redisHost, port: 6379 }, { redisKeyPrefix: tbo.redisKeyPrefix, memoryBytes: 1024 ** 3 }));
    expect(plainEnv(synthesized)).toMatchObject({ TBO_ADMIN_PORT: String(ADMIN_PORT), TBO_REDIS_KEY_PREFIX: expect.stringMatching(/^tbo-[0-9a-f]{12}$/), JWT_ISSUER: 'tbo', JWT_AUDIENCE: 'tbo' });
  });

  it('reads every credential from Secret <name>-secrets by reference: anthropic-key and JWT required, the rest (the Sentry DSN too) optional', () => {
    const refs = container(json).env.filter((e) => e.value_from);
    expect(refs).toEqual([
      { name: SECRET_ENV.anthropicApiKey, value_from: { secret_key_ref: { name: N.secret, key: 'anthropic-key', optional: false } } },
      { name: SECRET_ENV.openaiApiKey, value_from: { secret_key_ref: { name: N.secret, key: 'openai-key', optional: true } } },
      { name: SECRET_ENV.apiKeys, value_from: { secret_key_ref: { name: N.secret, key: 'api-keys', optional: true } } },
      { name: SECRET_ENV.jwtSecretKey, value_from: { secret_key_ref: { name: N.secret, key: 'jwt-secret', optional: false } } },
      { name: SECRET_ENV.redisPassword, value_from: { secret_key_ref: { name: N.secret, key: 'redis-password', optional: false } } },
      { name: SECRET_ENV.adminKeys, value_from: { secret_key_ref: { name: N.secret, key: 'admin-keys', optional: true } } },
      { name: SECRET_ENV.cacheSigningKey, value_from: { secret_key_ref: { name: N.secret, key: 'cache-signing-key', optional: true } } },
      { name: SECRET_ENV.sentryDsn, value_from: { secret_key_ref: { name: N.secret, key: 'sentry-dsn', optional: true } } },
    ]);
  });

  it('mounts <name>-config at the contract\'s config directory, read-only, and a writable /tmp', () => {
    expect(container(json).volume_mount).toEqual([
      { name: 'config', mount_path: CONFIG_MOUNT_DIR, read_only: true },
      { name: 'tmp', mount_path: '/tmp' },
    ]);
    expect(pod(json).volume).toEqual([
      { name: 'config', config_map: { name: expect.stringMatching(/kubernetes_config_map_v1\..*\.metadata\[0\]\.name/), default_mode: '0444', items: [{ key: 'config.yaml', path: 'config.yaml' }] } },
      { name: 'tmp', empty_dir: { size_limit: '64Mi' } },
    ]);
  });

  it('mounts config.yaml exactly where the service reads it by default', () => {
    const { configFileName } = synthWithConstruct().tbo.plan;
    expect(posix.join(CONFIG_MOUNT_DIR, configFileName)).toBe(DEFAULT_CONFIG_FILE);
  });

  it('holds config.yaml rendered by the shared contract', () => {
    expect(json).toHaveResourceWithProperties(ConfigMapV1, { data: { 'config.yaml': renderConfigYaml({ drainTimeout: 600, serviceName: NAME }, { host: N.redisHost, port: 6379 }) } });
  });

  it('runs under the restricted Pod Security Standard as uid 1000 with a read-only root', () => {
    expect(pod(json).security_context).toEqual({
      run_as_non_root: true,
      run_as_user: '1000',
      run_as_group: '1000',
      fs_group: '1000',
      fs_group_change_policy: 'OnRootMismatch',
      seccomp_profile: { type: 'RuntimeDefault' },
    });
    expect(container(json).security_context).toEqual({
      run_as_non_root: true,
      run_as_user: '1000',
      run_as_group: '1000',
      privileged: false,
      allow_privilege_escalation: false,
      read_only_root_filesystem: true,
      capabilities: { drop: ['ALL'] },
      seccomp_profile: { type: 'RuntimeDefault' },
    });
  });

  it('uses its own ServiceAccount without a token, and no service-link env vars', () => {
    expect(pod(json)).toMatchObject({
      service_account_name: expect.stringMatching(/kubernetes_service_account_v1\./),
      automount_service_account_token: false,
      enable_service_links: false,
    });
  });

  it('rolls out with no unavailable pod and spreads pods across zones and nodes', () => {
    expect(deployment(json).spec.strategy).toEqual({ type: 'RollingUpdate', rolling_update: { max_surge: '25%', max_unavailable: '0' } });
    const selector = { match_labels: { 'app.kubernetes.io/name': 'tbo', 'app.kubernetes.io/instance': N.service, 'app.kubernetes.io/component': 'gateway' } };
    expect(pod(json).topology_spread_constraint).toEqual([
      { max_skew: 1, topology_key: 'topology.kubernetes.io/zone', when_unsatisfiable: 'ScheduleAnyway', label_selector: [selector] },
      { max_skew: 1, topology_key: 'kubernetes.io/hostname', when_unsatisfiable: 'ScheduleAnyway', label_selector: [selector] },
    ]);
  });

  it('carries Prometheus scrape annotations for the metrics path on the admin port', () => {
    expect(deployment(json).spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464', 'prometheus.io/path': '/metrics' });
    expect(PROBE_PATHS.metrics).toBe('/metrics');
  });

  it('leaves the replica count to the autoscaler after the first apply', () => {
    expect(json).toHaveResourceWithProperties(DeploymentV1, { lifecycle: { ignore_changes: ['spec[0].replicas'] } });
  });

  it('is created after the quota and limit range', () => {
    expect(deployment(json).depends_on).toEqual([expect.stringMatching(/^\$\{kubernetes_resource_quota_v1\./), expect.stringMatching(/^\$\{kubernetes_limit_range_v1\./)]);
  });
});

describe('Deployment options', () => {
  it('name, namespace, replicas, resources, image pull', () => {
    const json = synthService({
      name: 'gw',
      namespace: 'llm',
      replicas: 3,
      resources: { requests: { cpu: '1' }, limits: { cpu: '2', memory: '2Gi' } },
      imagePullPolicy: 'Always',
      imagePullSecrets: ['regcred'],
      resourceQuota: false,
    });
    expect(json).toHaveResourceWithProperties(DeploymentV1, {
      metadata: expect.objectContaining({ name: 'gw-service' }),
      spec: expect.objectContaining({ replicas: '3' }),
    });
    expect(container(json)).toMatchObject({ image_pull_policy: 'Always', resources: { requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } } });
    expect(pod(json).image_pull_secrets).toEqual([{ name: 'regcred' }]);
    expect(plainEnv(json).REDIS_HOST).toBe('gw-redis.llm.svc');
    expect(json).toHaveResourceWithProperties(ConfigMapV1, { metadata: expect.objectContaining({ name: 'gw-config' }) });
  });

  it('an existing namespace is referenced by name', () => {
    const json = synthService({ createNamespace: false, namespace: 'shared' });
    expect(deployment(json).metadata).toMatchObject({ namespace: 'shared' });
    expect(JSON.parse(json).resource.kubernetes_namespace_v1).toBeUndefined();
  });

  it('config goes through the contract into both config.yaml and the environment', () => {
    const config = { optimizationLevel: 'speed', logLevel: 'debug', cacheSize: 500 } as const;
    const json = synthService({ config, redis: false });
    // What the target adds: the drain timeout (maxStreamDuration) and the service name (the instance's name).
    const deployed = { ...config, drainTimeout: 600, serviceName: NAME };
    expect(plainEnv(json)).toEqual(renderEnvironment(deployed, undefined, { redisKeyPrefix: prefixOfTbo(), memoryBytes: 1024 ** 3 }));
    const yaml = parse(String((blockOf(json, 'kubernetes_config_map_v1', 'Tbo_ConfigMap').data as Record<string, string>)['config.yaml']));
    expect(yaml).toEqual(parse(renderConfigYaml(deployed)));
    expect(yaml.optimization.level).toBe('speed');
  });

  it('runAsUser sets the uid and gid', () => {
    const json = synthService({ runAsUser: 10001 });
    expect(pod(json).security_context).toMatchObject({ run_as_user: '10001', run_as_group: '10001', fs_group: '10001' });
    expect(container(json).security_context).toMatchObject({ run_as_user: '10001' });
  });

  it('metrics off: no scrape annotations; the admin port stays (it serves /health/details too)', () => {
    const json = synthService({ config: { enableMetrics: false } });
    expect(deployment(json).spec.template.metadata.annotations).toEqual({});
    expect(container(json).port).toContainEqual({ name: 'admin', container_port: ADMIN_PORT, protocol: 'TCP' });
  });

  it('without autoscaling Terraform owns the replica count', () => {
    expect(deployment(synthService({ autoscaling: false })).lifecycle).toBeUndefined();
  });

  it('without quota and limit range it depends on nothing', () => {
    expect(deployment(synthService({ resourceQuota: false, limitRange: false })).depends_on).toBeUndefined();
  });
});

/** The termination sequence a pod goes through: preStop wait, then SIGTERM and the service's drain, then SIGKILL. */
function termination(json: string): { preStop: string[] | undefined; drain: number; grace: number } {
  const lifecycle = container(json).lifecycle as { pre_stop: { exec: { command: string[] } }[] } | undefined;
  return {
    preStop: lifecycle?.pre_stop[0].exec.command,
    drain: Number(plainEnv(json).TBO_DRAIN_TIMEOUT),
    grace: pod(json).termination_grace_period_seconds,
  };
}
/** Seconds the preStop hook waits, read back from its command. */
const preStopSeconds = (command: string[] | undefined) => (command ? Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(command[2])![1]) / 1000 : 0);

describe('Streams survive rollouts, scale-in and node drains (maxStreamDuration)', () => {
  it('by default keeps a stream of the full upstream timeout (600 s): preStop 5 s, drain 600 s, SIGKILL at 610 s', () => {
    const json = synthService();
    const t = termination(json);
    expect(t.preStop).toEqual(['node', '-e', 'setTimeout(() => {}, 5000)']);
    expect(t).toMatchObject({ drain: 600, grace: 610 });
    const yaml = parse(String((blockOf(json, 'kubernetes_config_map_v1', 'Tbo_ConfigMap').data as Record<string, string>)['config.yaml']));
    expect(yaml.server.drain_timeout).toBe(600);
    expect(synthWithConstruct().tbo.plan).toMatchObject({ maxStreamDuration: 600, preStopSleepSeconds: 5, drainSeconds: 600, terminationGracePeriodSeconds: 610 });
  });

  it.each<[string, Parameters<typeof synthService>[0], number, number, number]>([
    // [case, props, maxStreamDuration, preStop, drain]
    ['defaults', {}, 600, 5, 600],
    ['a shorter upstream timeout, rounded up', { config: { upstreamTimeout: 120.5 } }, 121, 5, 121],
    ['maxStreamDuration below the upstream timeout', { maxStreamDuration: 120 }, 120, 5, 120],
    ['maxStreamDuration above it', { maxStreamDuration: 900 }, 900, 5, 900],
    ['a longer drain than needed', { config: { drainTimeout: 700 } }, 600, 5, 700],
    ['a longer preStop', { preStopSleepSeconds: 20, maxStreamDuration: 300 }, 300, 20, 300],
    ['no preStop, fractional drain', { preStopSleepSeconds: 0, maxStreamDuration: 100, config: { drainTimeout: 100.5 } }, 100, 0, 101],
  ])('orders preStop < SIGTERM + drain ≥ maxStreamDuration < SIGKILL: %s', (_, props, maxStream, preStop, drain) => {
    const t = termination(synthService(props));
    expect(preStopSeconds(t.preStop)).toBe(preStop);
    // SIGTERM comes after the preStop wait; the service then drains for TBO_DRAIN_TIMEOUT seconds…
    expect(Math.ceil(t.drain)).toBe(drain);
    // …long enough for a stream that started just before SIGTERM to run maxStreamDuration…
    expect(t.drain).toBeGreaterThanOrEqual(maxStream);
    // …and the kubelet's SIGKILL comes only after preStop + drain, with 5 s to exit.
    expect(t.grace).toBe(preStop + drain + 5);
    expect(t.grace).toBeGreaterThanOrEqual(preStop + maxStream);
  });

  it('preStopSleepSeconds 0 drops the hook', () => {
    expect(container(synthService({ preStopSleepSeconds: 0 })).lifecycle).toBeUndefined();
  });

  it('the preStop hook needs nothing but node (the image has no shell or sleep) and waits as long as it says', () => {
    const [command, ...hookArgs] = termination(synthService({ preStopSleepSeconds: 1 })).preStop!;
    expect(command).toBe('node');
    // The image the construct deploys runs on a node base image and starts node (service/Dockerfile's runtime stage).
    const dockerfile = readFileSync(join(serviceDirectory(), 'Dockerfile'), 'utf8');
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
    const runtimeBase = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].at(-1)![1].replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
    expect(runtimeBase).toMatch(/^node:/);
    expect(dockerfile).toMatch(/^CMD \["node",/m);
    // Run it as the kubelet would: no shell, only node's own directory on PATH.
    const started = Date.now();
    const run = spawnSync(command, hookArgs, { env: { PATH: dirname(process.execPath) }, shell: false, timeout: 10_000 });
    expect([run.status, run.error]).toEqual([0, undefined]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
