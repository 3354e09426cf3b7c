import 'cdktf/lib/testing/adapters/jest';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { AnnotationMetadataEntryType, Testing, Token } from 'cdktf';
import { ADMIN_PORT, DEPLOYED_JWT_CLAIMS, PROBE_PATHS, SECRET_ENV, SERVICE_PORT, SETTINGS, redisKeyPrefixFor, renderEnvironment } from '../../lib/core';
import { CLOUD_RUN_DRAIN_SECONDS, TboCloudRunService, resolveCloudRunProps, tboContainer, type TboCloudRunServiceProps } from '../../lib/gcp';
import { BASE, IMAGE, NAME, container, envByName, onlyResource, parse, resourcesOf, synthTbo, type EnvVar } from './support';

Testing.setupJest();

describe('TboCloudRunService: the Cloud Run v2 service with its defaults', () => {
  const json = synthTbo();

  test('name, location, project, ingress all, deletion protection on', () => {
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      name: NAME,
      location: 'europe-west1',
      project: 'my-project',
      ingress: 'INGRESS_TRAFFIC_ALL',
      deletion_protection: true,
    });
  });

  test('min 2 / max 100 instances, 100 concurrent requests, gen2, request timeout = upstream timeout', () => {
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({
        scaling: { min_instance_count: 2, max_instance_count: 100 },
        max_instance_request_concurrency: 100,
        execution_environment: 'EXECUTION_ENVIRONMENT_GEN2',
        timeout: '600s',
      }),
    });
  });

  test('1 CPU / 2 GiB, CPU always allocated, startup CPU boost, image and contract port', () => {
    expect(container(json)).toMatchObject({
      image: IMAGE,
      ports: { container_port: SERVICE_PORT, name: 'http1' },
      resources: { limits: { cpu: '1', memory: '2Gi' }, cpu_idle: false, startup_cpu_boost: true },
    });
  });

  test('startup probe on the readiness path, liveness probe on the liveness path, period = healthCheckInterval', () => {
    expect(container(json)).toMatchObject({
      startup_probe: { http_get: { path: PROBE_PATHS.readiness, port: SERVICE_PORT }, period_seconds: 2, timeout_seconds: 1, failure_threshold: 30 },
      liveness_probe: { http_get: { path: PROBE_PATHS.liveness, port: SERVICE_PORT }, period_seconds: 30, timeout_seconds: 5, failure_threshold: 3 },
    });
  });

  test('all traffic to the latest revision', () => {
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
    });
  });

  test('runs as its own service account', () => {
    expect(json).toHaveResourceWithProperties(ServiceAccount, { account_id: `${NAME}-run`, project: 'my-project' });
    const [[saId]] = resourcesOf(json, 'google_service_account');
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({ service_account: `\${google_service_account.${saId}.email}` }),
    });
  });

  test('public: allUsers may invoke (TBO auth decides)', () => {
    const [[serviceId]] = resourcesOf(json, 'google_cloud_run_v2_service');
    expect(json).toHaveResourceWithProperties(CloudRunV2ServiceIamMember, {
      role: 'roles/run.invoker',
      member: 'allUsers',
      name: `\${google_cloud_run_v2_service.${serviceId}.name}`,
      location: `\${google_cloud_run_v2_service.${serviceId}.location}`,
    });
    expect(envByName(json).TBO_AUTH.value).toBe('auto');
  });

  test('waits for every secret grant and version before the first revision', () => {
    const service = onlyResource(json, 'google_cloud_run_v2_service') as { depends_on: string[] };
    const grants = resourcesOf(json, 'google_secret_manager_secret_iam_member').map(([id]) => `google_secret_manager_secret_iam_member.${id}`);
    const versions = resourcesOf(json, 'google_secret_manager_secret_version').map(([id]) => `google_secret_manager_secret_version.${id}`);
    expect(service.depends_on.sort()).toEqual([...grants, ...versions].sort());
  });

  test('outputs the URL', () => {
    const [[serviceId]] = resourcesOf(json, 'google_cloud_run_v2_service');
    expect(parse(json).output?.tbo_url.value).toBe(`\${google_cloud_run_v2_service.${serviceId}.uri}`);
  });

  test('no provider-region lookup when region is given', () => {
    expect(parse(json).data?.google_client_config).toBeUndefined();
  });
});

describe('TboCloudRunService: env comes from the shared contract only', () => {
  test('plain env is exactly renderEnvironment(config, redis endpoint, { redisKeyPrefix }); secrets by reference only', () => {
    let tbo!: TboCloudRunService;
    const json = Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, config: { optimizationLevel: 'speed', logLevel: 'debug' } });
    });
    // Cloud Run's own defaults under the user's config: drain within the 10 s before SIGKILL; logs named after serviceName.
    const expected = renderEnvironment({ drainTimeout: CLOUD_RUN_DRAIN_SECONDS, serviceName: NAME, optimizationLevel: 'speed', logLevel: 'debug' }, tbo.redisEndpoint, {
      redisKeyPrefix: redisKeyPrefixFor(tbo.node.addr),
      memoryBytes: 2048 * 1024 ** 2, // the default memoryMiB: the request-body budget is sized from it
    });
    expect(expected.TBO_DRAIN_TIMEOUT).toBe('9');
    expect(expected[SETTINGS.serviceName.env]).toBe(NAME);
    expect(expected).toMatchObject({ TBO_ADMIN_PORT: String(ADMIN_PORT), TBO_REDIS_KEY_PREFIX: tbo.redisKeyPrefix });
    expect(tbo.environment).toEqual(expected);
    const env = container(json).env;
    const plain = env.filter((e) => e.value !== undefined).map((e) => e.name);
    expect(plain).toEqual(Object.keys(expected));
    expect(envByName(json).TBO_OPTIMIZATION_LEVEL.value).toBe('speed');
    expect(envByName(json).TBO_LOG_LEVEL.value).toBe('debug');
    const secretEnv = env.filter((e) => e.value_source).map((e) => e.name);
    expect(secretEnv.sort()).toEqual([SECRET_ENV.anthropicApiKey, SECRET_ENV.apiKeys, SECRET_ENV.jwtSecretKey, SECRET_ENV.redisPassword, SECRET_ENV.cacheSigningKey].sort());
    for (const name of Object.values(SECRET_ENV)) expect(env.find((e) => e.name === name)?.value).toBeUndefined();
  });

  test('refuses a drain timeout Cloud Run would cut short', () => {
    expect(() => Testing.synthScope((scope) => new TboCloudRunService(scope, 'tbo', { ...BASE, config: { drainTimeout: 25 } }))).toThrow(
      /config\.drainTimeout: received 25; Cloud Run sends SIGKILL 10 s after SIGTERM: must be at most 9/,
    );
  });

  test('config.healthCheckInterval sets the liveness period; config.upstreamTimeout the request timeout', () => {
    const json = synthTbo({ config: { healthCheckInterval: 10, upstreamTimeout: 120.5 } });
    expect(container(json)).toMatchObject({ liveness_probe: { period_seconds: 10, timeout_seconds: 5 } });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, { template: expect.objectContaining({ timeout: '121s' }) });
  });

  test('a long upstream timeout is capped at Cloud Run\'s 3600 s', () => {
    const json = synthTbo({ config: { upstreamTimeout: 3600 } });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, { template: expect.objectContaining({ timeout: '3600s' }) });
  });
});

describe('TboCloudRunService: JWT issuer and audience come from the contract', () => {
  test('every deployment requires iss and aud (default tbo); config overrides them', () => {
    expect(envByName(synthTbo())).toMatchObject({
      [SETTINGS.jwtIssuer.env]: { value: DEPLOYED_JWT_CLAIMS.jwtIssuer },
      [SETTINGS.jwtAudience.env]: { value: DEPLOYED_JWT_CLAIMS.jwtAudience },
    });
    expect(DEPLOYED_JWT_CLAIMS).toEqual({ jwtIssuer: 'tbo', jwtAudience: 'tbo' });
    const env = envByName(synthTbo({ config: { jwtIssuer: 'https://idp.example.com', jwtAudience: 'gateway' } }));
    expect(env[SETTINGS.jwtIssuer.env].value).toBe('https://idp.example.com');
    expect(env[SETTINGS.jwtAudience.env].value).toBe('gateway');
  });
});

describe('TboCloudRunService: ports (public ingress, admin listener inside the instance)', () => {
  type Container = Record<string, unknown> & { name: string; env?: EnvVar[] };
  const containersOf = (json: string): Container[] => (onlyResource(json, 'google_cloud_run_v2_service') as { template: { containers: Container[] } }).template.containers;

  test('the one routed container port is the public port; the admin port is in the env only', () => {
    const json = synthTbo();
    expect(container(json).ports).toEqual({ name: 'http1', container_port: SERVICE_PORT });
    expect(envByName(json)[SETTINGS.adminPort.env].value).toBe(String(ADMIN_PORT));
    expect(ADMIN_PORT).toBe(9464);
    expect(ADMIN_PORT).not.toBe(SERVICE_PORT);
  });

  test('probes stay on the public port', () => {
    const c = container(synthTbo());
    expect(c).toMatchObject({ startup_probe: { http_get: { port: SERVICE_PORT } }, liveness_probe: { http_get: { port: SERVICE_PORT } } });
  });

  test('with the collector sidecar, still exactly one container port, and it is the public one', () => {
    const json = synthTbo({ managedPrometheus: true });
    const containers = containersOf(json);
    expect(containers).toHaveLength(2);
    expect(containers.filter((c) => c.ports !== undefined).map((c) => c.ports)).toEqual([{ name: 'http1', container_port: SERVICE_PORT }]);
    expect(json).not.toMatch(new RegExp(`"container_port": ${ADMIN_PORT}\\b`));
    expect(json).not.toMatch(new RegExp(`"port": ${ADMIN_PORT}\\b`)); // no probe on the admin port either
  });

  test('tboContainer refuses an environment that would put the admin listener on the ingress port', () => {
    const environment = { ...renderEnvironment(), [SETTINGS.adminPort.env]: String(SERVICE_PORT) };
    const { config } = resolveCloudRunProps(BASE);
    expect(() => tboContainer({ image: IMAGE, environment, secrets: [], config, cpu: 1, memoryMiB: 2048 })).toThrow(/TBO_ADMIN_PORT is 8000, the port Cloud Run routes requests to/);
  });
});

describe('TboCloudRunService: a Redis key prefix per construct instance (TBO_REDIS_KEY_PREFIX)', () => {
  test('derived from the construct\'s address: tbo- and 12 hex digits, exposed as redisKeyPrefix', () => {
    let tbo!: TboCloudRunService;
    const json = Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', BASE);
    });
    expect(tbo.redisKeyPrefix).toBe(redisKeyPrefixFor(tbo.node.addr));
    expect(tbo.redisKeyPrefix).toMatch(/^tbo-[0-9a-f]{12}$/);
    expect(tbo.resolvedProps.redisKeyPrefix).toBe(tbo.redisKeyPrefix);
    expect(envByName(json)[SETTINGS.redisKeyPrefix.env].value).toBe(tbo.redisKeyPrefix);
  });

  test('stable across synths (pinned: a change would empty every deployed cache and reset rate limits)', () => {
    const prefix = () => envByName(synthTbo())[SETTINGS.redisKeyPrefix.env].value;
    expect(prefix()).toBe(prefix());
    expect(prefix()).toBe('tbo-83b8015b7e00');
  });

  test('two instances in one stack get different prefixes', () => {
    const json = Testing.synthScope((scope) => {
      new TboCloudRunService(scope, 'eu', { ...BASE, serviceName: 'tbo-eu', existingRedis: { host: '10.0.0.5' } });
      new TboCloudRunService(scope, 'us', { ...BASE, serviceName: 'tbo-us', existingRedis: { host: '10.0.0.5' } });
    });
    const prefixes = resourcesOf(json, 'google_cloud_run_v2_service').map(([, service]) => {
      const [main] = (service as { template: { containers: { env: EnvVar[] }[] } }).template.containers;
      return main.env.find((e) => e.name === SETTINGS.redisKeyPrefix.env)?.value;
    });
    expect(prefixes).toHaveLength(2);
    for (const p of prefixes) expect(p).toMatch(/^tbo-[0-9a-f]{12}$/);
    expect(new Set(prefixes).size).toBe(2);
  });

  test('redisKeyPrefix overrides the derived prefix', () => {
    let tbo!: TboCloudRunService;
    const json = Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, redisKeyPrefix: 'gateway.eu_1' });
    });
    expect(tbo.redisKeyPrefix).toBe('gateway.eu_1');
    expect(envByName(json)[SETTINGS.redisKeyPrefix.env].value).toBe('gateway.eu_1');
  });
});

describe('TboCloudRunService: options', () => {
  test('scaling, concurrency, CPU, memory and request timeout', () => {
    const json = synthTbo({ minInstances: 0, maxInstances: 10, maxConcurrency: 250, cpu: 2, memoryMiB: 3584, requestTimeoutSeconds: 900 });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({
        scaling: { min_instance_count: 0, max_instance_count: 10 },
        max_instance_request_concurrency: 250,
        timeout: '900s',
      }),
    });
    expect(container(json)).toMatchObject({ resources: { limits: { cpu: '2', memory: '3584Mi' } } });
  });

  test.each(['INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER', 'INGRESS_TRAFFIC_INTERNAL_ONLY'] as const)('ingress %s', (ingress) => {
    expect(synthTbo({ ingress })).toHaveResourceWithProperties(CloudRunV2Service, { ingress });
  });

  test('deletionProtection: false reaches the service and the secrets', () => {
    const json = synthTbo({ deletionProtection: false });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, { deletion_protection: false });
    for (const [, secret] of resourcesOf(json, 'google_secret_manager_secret')) expect(secret.deletion_protection).toBe(false);
  });

  test('public: false drops the allUsers binding', () => {
    const json = synthTbo({ public: false });
    expect(resourcesOf(json, 'google_cloud_run_v2_service_iam_member')).toHaveLength(0);
  });

  test('public: false allows an open config (Cloud Run IAM guards it)', () => {
    const json = synthTbo({ public: false, config: { auth: 'none' }, clientCredentials: [] });
    expect(envByName(json).TBO_AUTH.value).toBe('none');
    expect(envByName(json).TBO_API_KEYS).toBeUndefined();
    expect(envByName(json).JWT_SECRET_KEY).toBeUndefined();
  });

  test('ignoreImageChanges lets CI own the image', () => {
    const json = synthTbo({ ignoreImageChanges: true });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      lifecycle: { ignore_changes: ['template[0].containers[0].image', 'client', 'client_version'] },
    });
    expect(onlyResource(synthTbo(), 'google_cloud_run_v2_service').lifecycle).toBeUndefined();
  });

  test('createService: false creates secrets, grants, Redis and network but no service, binding or URL', () => {
    const json = synthTbo({ createService: false });
    expect(resourcesOf(json, 'google_cloud_run_v2_service')).toHaveLength(0);
    expect(resourcesOf(json, 'google_cloud_run_v2_service_iam_member')).toHaveLength(0);
    expect(parse(json).output?.tbo_url).toBeUndefined();
    expect(parse(json).output?.tbo_secret_commands).toBeDefined();
    expect(parse(json).output?.tbo_rollout_command).toBeUndefined();
    expect(resourcesOf(json, 'google_secret_manager_secret')).toHaveLength(5);
    expect(resourcesOf(json, 'google_secret_manager_secret_iam_member')).toHaveLength(5);
    expect(resourcesOf(json, 'google_redis_instance')).toHaveLength(1);
    // The generated signing key has its version already, ready for the first revision; the three secrets to fill have placeholders.
    expect(resourcesOf(json, 'random_password')).toHaveLength(1);
    expect(resourcesOf(json, 'google_secret_manager_secret_version')).toHaveLength(5);
  });

  test('serviceName prefixes the service, account, secrets, network and Redis', () => {
    const json = synthTbo({ serviceName: 'gw' });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, { name: 'gw' });
    expect(json).toHaveResourceWithProperties(ServiceAccount, { account_id: 'gw-run' });
    const ids = resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id).sort();
    expect(ids).toEqual(['gw-anthropic-api-key', 'gw-api-keys', 'gw-cache-signing-key', 'gw-jwt-secret-key', 'gw-redis-auth']);
    expect(onlyResource(json, 'google_redis_instance').name).toBe('gw-cache');
    expect(onlyResource(json, 'google_compute_network').name).toBe('gw-vpc');
    expect(onlyResource(json, 'google_compute_subnetwork').name).toBe('gw-egress');
  });

  test('maxConcurrency above config.maxConcurrentRequests warns (requests would queue in TBO\'s lanes, out of Cloud Run\'s sight)', () => {
    const warnings = (props: Partial<TboCloudRunServiceProps>) => {
      let tbo!: TboCloudRunService;
      Testing.synthScope((scope) => {
        tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, alerts: false, ...props });
      });
      return tbo.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    };
    expect(warnings({})).toEqual([]);
    expect(warnings({ maxConcurrency: 500 })).toEqual([]);
    expect(warnings({ maxConcurrency: 300, config: { maxConcurrentRequests: 200 }, memoryMiB: 4096 })).toEqual([
      expect.stringContaining('maxConcurrency 300 exceeds config.maxConcurrentRequests 200 (TBO_MAX_CONCURRENT_REQUESTS)'),
    ]);
  });

  test('serviceAccountId overrides the account id', () => {
    expect(synthTbo({ serviceAccountId: 'tbo-gateway' })).toHaveResourceWithProperties(ServiceAccount, { account_id: 'tbo-gateway' });
  });

  test('without region or project: the provider\'s region (google_client_config) and project', () => {
    const json = synthTbo({ region: undefined, project: undefined });
    expect(json).toHaveDataSource(DataGoogleClientConfig);
    const [[configId]] = Object.entries(parse(json).data?.google_client_config ?? {});
    const service = onlyResource(json, 'google_cloud_run_v2_service');
    expect(service.location).toBe(`\${data.google_client_config.${configId}.region}`);
    expect(service.project).toBeUndefined();
    expect(onlyResource(json, 'google_redis_instance').region).toBe(`\${data.google_client_config.${configId}.region}`);
  });

  test('outputs are named after the construct path', () => {
    const json = Testing.synthScope((scope) => {
      new TboCloudRunService(scope, 'gateway-eu', BASE);
    });
    expect(Object.keys(parse(json).output ?? {}).sort()).toEqual(
      ['redis_instance', 'region', 'rollout_command', 'secret_commands', 'service_name', 'url'].map((o) => `gateway_eu_${o}`),
    );
  });

  test('logical ids of the resources that existed before issue 10 are unchanged (renaming one replaces it in a live project)', () => {
    const json = synthTbo({ managedPrometheus: true, openaiApiKey: true });
    const ids = Object.entries(parse(json).resource ?? {}).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
    expect(ids).toEqual(expect.arrayContaining([
      'google_cloud_run_v2_service.tbo_Service_5FA8586F',
      'google_cloud_run_v2_service_iam_member.tbo_PublicInvoker_BB1D1187',
      'google_compute_network.tbo_Network_89A2987C',
      'google_compute_subnetwork.tbo_Network_Subnetwork_47BF5EB2',
      'google_monitoring_alert_policy.tbo_Alerts_TBOBandwidthDegradation_1F1E5228',
      'google_monitoring_alert_policy.tbo_Alerts_TBOCircuitBreakerActive_0313F994',
      'google_monitoring_alert_policy.tbo_Alerts_TBOHighLatency_A0DE157A',
      'google_monitoring_alert_policy.tbo_Alerts_TBOLowCacheHitRate_C506FF04',
      'google_project_iam_member.tbo_ManagedPrometheus_MetricWriterGrant_18E23418',
      'google_redis_instance.tbo_Redis_Instance_6187E227',
      'google_secret_manager_secret.tbo_AnthropicApiKey_Secret_A0FA66FA',
      'google_secret_manager_secret.tbo_ApiKeys_Secret_27BAE05B',
      'google_secret_manager_secret.tbo_JwtSecretKey_Secret_D4C0DB5F',
      'google_secret_manager_secret.tbo_ManagedPrometheus_ConfigSecret_AA015067',
      'google_secret_manager_secret.tbo_OpenaiApiKey_Secret_812C696F',
      'google_secret_manager_secret.tbo_Redis_AuthSecret_9A7C8E2B',
      'google_secret_manager_secret_iam_member.tbo_AnthropicApiKey_AccessorGrant_84B7AA11',
      'google_secret_manager_secret_iam_member.tbo_ApiKeys_AccessorGrant_1BC74683',
      'google_secret_manager_secret_iam_member.tbo_JwtSecretKey_AccessorGrant_29229990',
      'google_secret_manager_secret_iam_member.tbo_ManagedPrometheus_ConfigAccessorGrant_FF41D468',
      'google_secret_manager_secret_iam_member.tbo_OpenaiApiKey_AccessorGrant_4B82212B',
      'google_secret_manager_secret_iam_member.tbo_Redis_AuthSecret_AccessorGrant_32AC2993',
      'google_secret_manager_secret_version.tbo_ManagedPrometheus_ConfigVersion_B61549A1',
      'google_secret_manager_secret_version.tbo_Redis_AuthSecret_Version_87A51837',
      'google_service_account.tbo_ServiceAccount_62780E86',
    ]));
    expect(Object.keys(parse(json).output ?? {})).toEqual(expect.arrayContaining(['tbo_secret_commands', 'tbo_url']));
  });

  test('children are exposed as typed fields', () => {
    let tbo!: TboCloudRunService;
    const json = Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', BASE);
    });
    expect(tbo.service).toBeInstanceOf(CloudRunV2Service);
    expect(tbo.invokerBinding).toBeInstanceOf(CloudRunV2ServiceIamMember);
    expect(tbo.serviceAccount).toBeInstanceOf(ServiceAccount);
    expect(tbo.secrets.anthropicApiKey?.secret).toBeDefined();
    expect(tbo.secrets.redisPassword?.version).toBeDefined();
    expect(tbo.redis?.instance).toBeDefined();
    expect(tbo.network?.network).toBeDefined();
    const [[serviceId]] = resourcesOf(json, 'google_cloud_run_v2_service');
    expect(Token.isUnresolved(tbo.url)).toBe(true);
    expect(parse(json).output?.tbo_url.value).toBe(`\${google_cloud_run_v2_service.${serviceId}.uri}`);
    expect(tbo.resolvedProps).toMatchObject({ minInstances: 2, maxInstances: 100, maxConcurrency: 100, cpu: 1, memoryMiB: 2048, public: true });
  });
});
