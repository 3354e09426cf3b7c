/**
 * Issue 15 on GCP: OpenTelemetry traces (`tracing`: an existing collector, or Google's collector as
 * a sidecar exporting to Cloud Trace, lib/gcp/telemetry.ts), the Pushgateway setting through the
 * config contract, and the Sentry DSN as a secret reference.
 */
import 'cdktf/lib/testing/adapters/jest';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { Testing } from 'cdktf';
import { parse as parseYaml } from 'yaml';
import { OTLP_HTTP_PORT, SECRET_ENV, SETTINGS, SIDECAR_OTLP_ENDPOINT, tracingEnvironment } from '../../lib/core';
import { OTEL_COLLECTOR_HEALTH_PORT, OTEL_COLLECTOR_IMAGE, otelCollectorConfig, type TboCloudRunServiceProps } from '../../lib/gcp';
import { NAME, envByName, parse, resourcesOf, synthTbo, validationError, type EnvVar } from './support';

Testing.setupJest();

interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  depends_on?: string[];
  startup_probe?: { http_get: { path: string; port: number } };
  volume_mounts?: { name: string; mount_path: string }[];
  resources?: unknown;
  ports?: unknown;
}
interface Service {
  template: { containers: Container[]; volumes?: { name: string; secret: { secret: string; items: { path: string; version: string }[] } }[] };
  depends_on?: string[];
}

const serviceOf = (json: string) => Object.values(parse(json).resource?.google_cloud_run_v2_service ?? {})[0] as unknown as Service;
/** The gateway container's env by name (beside sidecars, unlike support's `envByName`). */
const gatewayEnv = (json: string): Record<string, EnvVar> => Object.fromEntries(serviceOf(json).template.containers.find((c) => c.name === 'tbo')!.env!.map((e) => [e.name, e]));
const otelEnv = (env: Record<string, EnvVar>) => Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('OTEL_')).map(([name, e]) => [name, e.value]));
const saMember = (json: string) => `serviceAccount:\${google_service_account.${resourcesOf(json, 'google_service_account')[0][0]}.email}`;

describe('tracing to an existing collector (tracing.otlpEndpoint)', () => {
  test('off by default: no OTEL_* variable, no collector, no trace grant', () => {
    const json = synthTbo();
    expect(otelEnv(envByName(json))).toEqual({});
    expect(serviceOf(json).template.containers).toHaveLength(1);
    expect(json).not.toContain('cloudtrace');
  });

  test('the standard OTEL_* variables from the shared contract: endpoint, the service name the logs carry, parent-based ratio sampling (0.1)', () => {
    const json = synthTbo({ tracing: { otlpEndpoint: 'http://10.0.0.7:4318' } });
    const env = otelEnv(envByName(json));
    expect(env).toEqual(tracingEnvironment(NAME, 'http://10.0.0.7:4318'));
    expect(env).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://10.0.0.7:4318', OTEL_SERVICE_NAME: NAME, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
    expect(envByName(json)[SETTINGS.serviceName.env].value).toBe(NAME);
    expect(serviceOf(json).template.containers).toHaveLength(1);
    expect(resourcesOf(json, 'google_project_iam_member')).toEqual([]);
  });

  test('samplingRatio, and the prompt-text switch through config (TBO_TRACE_CONTENT)', () => {
    const env = envByName(synthTbo({ tracing: { otlpEndpoint: 'https://otel.example.com', samplingRatio: 0.01 }, config: { traceContent: true } }));
    expect(env.OTEL_TRACES_SAMPLER_ARG.value).toBe('0.01');
    expect(env[SETTINGS.traceContent.env].value).toBe('true');
  });
});

describe('tracing to Cloud Trace through the collector sidecar (tracing.collectorSidecar)', () => {
  const json = synthTbo({ tracing: { collectorSidecar: true } });
  const [gateway, collector] = serviceOf(json).template.containers;
  const configSecret = () => resourcesOf(json, 'google_secret_manager_secret').find(([, s]) => s.secret_id === `${NAME}-otel-config`)!;
  const configVersion = () => resourcesOf(json, 'google_secret_manager_secret_version').find(([, v]) => v.secret === `\${google_secret_manager_secret.${configSecret()[0]}.id}`)!;

  test('the gateway exports to the sidecar on localhost, and starts once the collector is healthy', () => {
    expect(otelEnv(gatewayEnv(json))).toEqual(tracingEnvironment(NAME, SIDECAR_OTLP_ENDPOINT));
    expect(gateway.name).toBe('tbo');
    expect(gateway.depends_on).toEqual(['otel-collector']);
  });

  test('the collector container: Google\'s pinned image, no port, its config mounted, a startup probe on its health check', () => {
    expect(OTEL_COLLECTOR_IMAGE).toMatch(/^us-docker\.pkg\.dev\/cloud-ops-agents-artifacts\/google-cloud-opentelemetry-collector\/otelcol-google:\d+\.\d+\.\d+$/);
    expect(collector).toEqual({
      name: 'otel-collector',
      image: OTEL_COLLECTOR_IMAGE,
      resources: { limits: { cpu: '1', memory: '512Mi' }, cpu_idle: false },
      volume_mounts: [{ name: 'otel-config', mount_path: '/etc/otelcol-google' }],
      startup_probe: { http_get: { path: '/', port: OTEL_COLLECTOR_HEALTH_PORT }, initial_delay_seconds: 0, period_seconds: 1, timeout_seconds: 1, failure_threshold: 30 },
    });
    expect(serviceOf(json).template.volumes).toEqual([
      { name: 'otel-config', secret: { secret: `\${google_secret_manager_secret.${configSecret()[0]}.id}`, items: [{ path: 'config.yaml', version: `\${google_secret_manager_secret_version.${configVersion()[0]}.version}` }] } },
    ]);
  });

  test('its configuration: OTLP/HTTP on the port the gateway sends to, traces only, to Cloud Trace, the health check the probe reads', () => {
    const config: unknown = parseYaml(configVersion()[1].secret_data as string);
    expect(config).toEqual(otelCollectorConfig());
    const c = config as {
      receivers: { otlp: { protocols: { http: { endpoint: string }; grpc?: unknown } } };
      exporters: Record<string, unknown>;
      extensions: { health_check: { endpoint: string } };
      service: { extensions: string[]; pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
    };
    expect(c.receivers.otlp.protocols.http.endpoint).toBe(`localhost:${OTLP_HTTP_PORT}`);
    expect(SIDECAR_OTLP_ENDPOINT).toBe(`http://localhost:${OTLP_HTTP_PORT}`);
    expect(c.receivers.otlp.protocols.grpc).toBeUndefined();
    // Traces only: no metrics or logs pipeline, so roles/cloudtrace.agent is all the collector needs.
    expect(Object.keys(c.service.pipelines)).toEqual(['traces']);
    expect(c.service.pipelines.traces).toMatchObject({ receivers: ['otlp'], exporters: ['googlecloud'] });
    expect(Object.keys(c.exporters)).toEqual(['googlecloud']);
    expect(c.service.extensions).toEqual(['health_check']);
    expect(c.extensions.health_check.endpoint).toBe(`0.0.0.0:${collector.startup_probe!.http_get.port}`);
  });

  test('the config secret is readable by the service account only; the one project grant is roles/cloudtrace.agent', () => {
    expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: `${NAME}-otel-config`, replication: { auto: {} }, deletion_protection: true });
    expect(json).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: `\${google_secret_manager_secret.${configSecret()[0]}.id}`, role: 'roles/secretmanager.secretAccessor', member: saMember(json) });
    expect(resourcesOf(json, 'google_project_iam_member').map(([, g]) => g)).toEqual([{ project: 'my-project', role: 'roles/cloudtrace.agent', member: saMember(json) }]);
  });

  test('the revision waits for the config version and both grants', () => {
    const deps = serviceOf(json).depends_on ?? [];
    const accessor = resourcesOf(json, 'google_secret_manager_secret_iam_member').find(([, g]) => g.secret_id === `\${google_secret_manager_secret.${configSecret()[0]}.id}`)![0];
    expect(deps).toEqual(expect.arrayContaining([
      `google_secret_manager_secret_version.${configVersion()[0]}`,
      `google_secret_manager_secret_iam_member.${accessor}`,
      `google_project_iam_member.${resourcesOf(json, 'google_project_iam_member')[0][0]}`,
    ]));
  });

  test('with the metrics sidecar too: three containers, startup order without a cycle, no port shared', () => {
    const containers = serviceOf(synthTbo({ tracing: { collectorSidecar: true }, managedPrometheus: true })).template.containers;
    expect(containers.map((c) => [c.name, c.depends_on])).toEqual([['tbo', ['otel-collector']], ['otel-collector', undefined], ['collector', ['tbo']]]);
    // Google's metrics sidecar serves its liveness endpoint on 13133 (run-gmp-sidecar's entrypoint).
    expect(OTEL_COLLECTOR_HEALTH_PORT).not.toBe(13133);
    expect(containers[1].startup_probe?.http_get.port).toBe(OTEL_COLLECTOR_HEALTH_PORT);
  });

  test('options: image, and leaving the trace grant to the project owner', () => {
    const custom = synthTbo({ tracing: { collectorSidecar: { image: 'example.com/otelcol:1', grantTraceAgent: false }, samplingRatio: 1 } });
    expect(serviceOf(custom).template.containers[1].image).toBe('example.com/otelcol:1');
    expect(resourcesOf(custom, 'google_project_iam_member')).toEqual([]);
    expect(gatewayEnv(custom).OTEL_TRACES_SAMPLER_ARG.value).toBe('1');
  });

  test('without a project, the trace grant uses the provider\'s project', () => {
    const [[, grant]] = resourcesOf(synthTbo({ tracing: { collectorSidecar: true }, project: undefined }), 'google_project_iam_member');
    expect(grant.project).toMatch(/^\$\{data\.google_client_config\.[A-Za-z0-9_]+\.project\}$/);
    expect(grant.role).toBe('roles/cloudtrace.agent');
  });

  test('with createService: false the config and grants exist already', () => {
    const firstStage = synthTbo({ tracing: { collectorSidecar: true }, createService: false });
    expect(resourcesOf(firstStage, 'google_cloud_run_v2_service')).toEqual([]);
    expect(firstStage).toHaveResourceWithProperties(ProjectIamMember, { role: 'roles/cloudtrace.agent' });
  });
});

describe('tracing: validation', () => {
  test.each([
    ['an endpoint and the sidecar', { otlpEndpoint: 'http://otel:4318', collectorSidecar: true }, 'tracing.collectorSidecar: received true; contradicts tracing.otlpEndpoint ("http://otel:4318")'],
    ['a ratio above 1', { otlpEndpoint: 'http://otel:4318', samplingRatio: 2 }, 'tracing.samplingRatio: received 2; must be a number from 0 to 1'],
    ['an endpoint that is no URL', { otlpEndpoint: 'otel:4318' }, 'tracing.otlpEndpoint: received "otel:4318"; must be an http:// or https:// URL (the collector\'s OTLP/HTTP base'],
    ['tracing with nowhere to send', { samplingRatio: 0.5 }, 'tracing: received {"samplingRatio":0.5}; exports nothing without tracing.otlpEndpoint'],
    ['a collector image with whitespace', { collectorSidecar: { image: 'a b' } }, 'tracing.collectorSidecar.image: received "a b"; must be a container image reference'],
  ])('refuses %s, naming the props', (_name, tracing, message) => {
    expect(validationError({ tracing } as Partial<TboCloudRunServiceProps>)).toContain(`TboCloudRunService: ${message}`);
  });

  test('its problems are reported with the others, in one error', () => {
    const message = validationError({ tracing: { otlpEndpoint: 'http://otel:4318', samplingRatio: -1 }, minInstances: -1 });
    expect(message).toContain('TboCloudRunService: minInstances: received -1');
    expect(message).toContain('TboCloudRunService: tracing.samplingRatio: received -1; must be a number from 0 to 1');
  });
});

describe('Prometheus Pushgateway and Sentry', () => {
  test('PROMETHEUS_GATEWAY comes from config.prometheusGateway, through the config contract', () => {
    expect(envByName(synthTbo()).PROMETHEUS_GATEWAY).toBeUndefined();
    const env = envByName(synthTbo({ config: { prometheusGateway: 'http://10.0.0.9:9091' } }));
    expect(env[SETTINGS.prometheusGateway.env]).toEqual({ name: 'PROMETHEUS_GATEWAY', value: 'http://10.0.0.9:9091' });
    expect(() => synthTbo({ config: { prometheusGateway: 'ftp://x' } as TboCloudRunServiceProps['config'] })).toThrow(/config\.prometheusGateway/);
  });

  const json = synthTbo({ existingSentryDsnSecret: 'acme-sentry-dsn' });

  test('SENTRY_DSN from the secret you name, by reference (latest), never as a plain value', () => {
    expect(envByName(json)[SECRET_ENV.sentryDsn]).toEqual({ name: 'SENTRY_DSN', value_source: { secret_key_ref: { secret: 'acme-sentry-dsn', version: 'latest' } } });
    expect(envByName(synthTbo())[SECRET_ENV.sentryDsn]).toBeUndefined();
  });

  test('the service account may read that secret only; nothing is created or to fill', () => {
    const grants = resourcesOf(json, 'google_secret_manager_secret_iam_member').map(([, g]) => g).filter((g) => g.secret_id === 'acme-sentry-dsn');
    expect(grants).toEqual([{ project: 'my-project', secret_id: 'acme-sentry-dsn', role: 'roles/secretmanager.secretAccessor', member: saMember(json) }]);
    expect(resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).not.toContain(`${NAME}-sentry-dsn`);
    expect(parse(json).output?.tbo_secret_commands.value).not.toHaveProperty(SECRET_ENV.sentryDsn);
    expect(resourcesOf(json, 'google_secret_manager_secret').length).toBe(resourcesOf(synthTbo(), 'google_secret_manager_secret').length);
  });

  test('a full secret name is accepted; a DSN passed by mistake is refused without being echoed', () => {
    expect(envByName(synthTbo({ existingSentryDsnSecret: 'projects/acme/secrets/sentry' })).SENTRY_DSN.value_source?.secret_key_ref.secret).toBe('projects/acme/secrets/sentry');
    const dsn = 'https://0123456789abcdef@o1.ingest.sentry.io/42';
    const message = validationError({ existingSentryDsnSecret: dsn });
    expect(message).toContain('TboCloudRunService: existingSentryDsnSecret: received "<redacted>"; looks like a credential');
    expect(message).not.toContain('0123456789abcdef');
  });
});
