import 'cdktf/lib/testing/adapters/jest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { AnnotationMetadataEntryType, Testing } from 'cdktf';
import { parse as parseYaml } from 'yaml';
import { ADMIN_PORT, PROBE_PATHS, SERVICE_PORT, TBO_ALERT_RULES, scopeAlertRule } from '../../lib/core';
import { GMP_CLOUD_RUN_CLUSTER, GMP_SIDECAR_IMAGE, TboAlertPolicies, TboCloudRunService, cloudRunMetricScope, type TboCloudRunServiceProps } from '../../lib/gcp';
import { matcherLabels, metricNames } from '../alerts/promql';
import { BASE, NAME, parse, resourcesOf, synthTbo, validationError } from './support';

Testing.setupJest();

const RULES_YML = join(__dirname, '..', '..', 'ops', 'prometheus', 'tbo-rules.yml');

/** Synthesizes the construct and returns its warnings. */
function warningsOf(props: Partial<TboCloudRunServiceProps>): string[] {
  let tbo: TboCloudRunService | undefined;
  Testing.synthScope((scope) => {
    tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, ...props });
  });
  return tbo!.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
}

interface Condition {
  display_name: string;
  condition_prometheus_query_language: { query: string; duration: string; evaluation_interval: string; alert_rule: string; rule_group: string; labels: Record<string, string>; disable_metric_validation: boolean };
}

describe('TboCloudRunService: Cloud Monitoring alert policies from TBO_ALERT_RULES', () => {
  const json = synthTbo();

  test.each(TBO_ALERT_RULES.map((r) => [r.name, r] as const))('%s: a PromQL condition with the rule\'s query (this service\'s series), for and severity', (_name, rule) => {
    expect(json).toHaveResourceWithProperties(MonitoringAlertPolicy, {
      project: 'my-project',
      display_name: `${NAME} ${rule.name}`,
      combiner: 'OR',
      severity: rule.severity.toUpperCase(),
      user_labels: { app: 'tbo', service: NAME, severity: rule.severity },
      conditions: [
        {
          display_name: rule.summary,
          condition_prometheus_query_language: {
            query: scopeAlertRule(rule, { cluster: '__run__', namespace: NAME }).promql,
            duration: `${rule.forSeconds}s`,
            evaluation_interval: '60s',
            alert_rule: rule.name,
            rule_group: 'tbo',
            labels: { severity: rule.severity, service: NAME },
            disable_metric_validation: true,
          },
        },
      ],
      documentation: expect.objectContaining({ mime_type: 'text/markdown', subject: `${NAME}: ${rule.summary}` }),
    });
  });

  test('exactly one policy per rule: the Prometheus rules file\'s PromQL and for, narrowed to this service\'s series', () => {
    const policies = resourcesOf(json, 'google_monitoring_alert_policy').map(([, p]) => p as { conditions: Condition[] });
    expect(policies).toHaveLength(TBO_ALERT_RULES.length);
    const file = parseYaml(readFileSync(RULES_YML, 'utf8')) as { groups: { rules: { alert: string; expr: string; for: string }[] }[] };
    const fromFile = file.groups[0].rules.map((r) => ({ name: r.alert, query: r.expr, duration: `${Number(r.for.replace('m', '')) * 60}s` }));
    // Without the two scope matchers each query is exactly the file's expression.
    const unscoped = (query: string) => query.replaceAll(`{cluster="__run__",namespace="${NAME}"}`, '').replaceAll(`,cluster="__run__",namespace="${NAME}"`, '');
    const fromPolicies = policies.map((p) => p.conditions[0].condition_prometheus_query_language).map((c) => ({ name: c.alert_rule, query: unscoped(c.query), duration: c.duration }));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(fromPolicies.sort(byName)).toEqual(fromFile.sort(byName));
  });

  test('every metric selector of every query matches cluster="__run__" and namespace=<serviceName>, the labels Google\'s Cloud Run collector writes', () => {
    expect(cloudRunMetricScope(NAME)).toEqual({ cluster: GMP_CLOUD_RUN_CLUSTER, namespace: NAME });
    for (const [, policy] of resourcesOf(json, 'google_monitoring_alert_policy')) {
      const { query } = (policy as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language;
      const selectors = matcherLabels(query);
      expect(metricNames(query).length).toBeGreaterThan(0);
      // Each occurrence of each metric is a selector (no bare metric name reads every service's series)…
      for (const name of metricNames(query)) {
        expect(query.match(new RegExp(`\\b${name}\\b`, 'g'))).toHaveLength(selectors.filter((m) => m.metric === name).length);
      }
      // …and every selector carries both labels, the namespace being this service's name.
      for (const { labels } of selectors) expect(labels).toEqual(expect.arrayContaining(['cluster', 'namespace']));
      expect(query.split(`namespace="${NAME}"`).length - 1).toBe(selectors.length);
    }
  });

  test('the latency condition reads the histogram the service exports', () => {
    expect(json).toHaveResourceWithProperties(MonitoringAlertPolicy, {
      conditions: [expect.objectContaining({ condition_prometheus_query_language: expect.objectContaining({ query: expect.stringContaining('tbo_request_duration_seconds_bucket') }) })],
    });
  });

  test('no notification channels unless given; given channels go on every policy', () => {
    for (const [, policy] of resourcesOf(json, 'google_monitoring_alert_policy')) expect(policy.notification_channels).toBeUndefined();
    const channels = ['projects/my-project/notificationChannels/123', 'projects/my-project/notificationChannels/456'];
    const withChannels = synthTbo({ alerts: { notificationChannels: channels } });
    const policies = resourcesOf(withChannels, 'google_monitoring_alert_policy');
    expect(policies).toHaveLength(TBO_ALERT_RULES.length);
    for (const [, policy] of policies) expect(policy.notification_channels).toEqual(channels);
  });

  test('the evaluation interval is configurable in 30 s steps', () => {
    const synthesized = synthTbo({ alerts: { evaluationIntervalSeconds: 30 } });
    for (const [, policy] of resourcesOf(synthesized, 'google_monitoring_alert_policy')) {
      expect((policy as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language.evaluation_interval).toBe('30s');
    }
  });

  test('alerts: false creates none', () => {
    expect(resourcesOf(synthTbo({ alerts: false }), 'google_monitoring_alert_policy')).toEqual([]);
  });

  test('the policies do not depend on the Cloud Run service (they exist in the first-deploy stage too)', () => {
    expect(resourcesOf(synthTbo({ createService: false }), 'google_monitoring_alert_policy')).toHaveLength(TBO_ALERT_RULES.length);
  });

  test('without a collector the construct warns that the policies cannot see the metrics', () => {
    expect(warningsOf({})).toEqual([expect.stringContaining('set managedPrometheus: true')]);
    expect(warningsOf({})[0]).toContain(`localhost:${ADMIN_PORT}/metrics`);
    expect(warningsOf({ managedPrometheus: true })).toEqual([]);
    expect(warningsOf({ alerts: false })).toEqual([]);
  });

  test('TboAlertPolicies takes any rule list, scoped to its service; metricScope overrides the labels', () => {
    const synthesized = Testing.synthScope((scope) => {
      new TboAlertPolicies(scope, 'a', { serviceName: 'svc', rules: [TBO_ALERT_RULES[1]] });
      new TboAlertPolicies(scope, 'b', { serviceName: 'other', rules: [TBO_ALERT_RULES[1]], metricScope: { job: 'tbo-collector' } });
    });
    expect(resourcesOf(synthesized, 'google_monitoring_alert_policy')).toHaveLength(2);
    const queries = resourcesOf(synthesized, 'google_monitoring_alert_policy').map(([, p]) => (p as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language.query);
    expect(queries.sort()).toEqual(['max(tbo_circuit_breaker_active{cluster="__run__",namespace="svc"}) > 0', 'max(tbo_circuit_breaker_active{job="tbo-collector"}) > 0']);
    expect(synthesized).toHaveResourceWithProperties(MonitoringAlertPolicy, { display_name: 'svc TBOCircuitBreakerActive', severity: 'CRITICAL' });
  });

  test.each([
    ['a malformed notification channel', { alerts: { notificationChannels: ['my-channel'] } }, 'alerts.notificationChannels: received "my-channel"; each must be a notification channel name, projects/PROJECT/notificationChannels/ID'],
    ['an evaluation interval off the 30 s grid', { alerts: { evaluationIntervalSeconds: 45 } }, 'alerts.evaluationIntervalSeconds: received 45; must be a multiple of 30 from 30 to 86400'],
    ['a scrape interval too long for the 5m rate window', { managedPrometheus: { scrapeIntervalSeconds: 120 } }, 'managedPrometheus.scrapeIntervalSeconds: received 120; must be an integer from 5 to 60'],
    ['a collector image with whitespace', { managedPrometheus: { image: 'a b' } }, 'managedPrometheus.image: received "a b"; must be a container image reference'],
    ['the collector with /metrics turned off', { managedPrometheus: true, config: { enableMetrics: false } }, 'config.enableMetrics: received false; must be true with managedPrometheus'],
  ])('refuses %s, naming the prop', (_name, props, message) => {
    expect(validationError(props as Partial<TboCloudRunServiceProps>)).toContain(`TboCloudRunService: ${message}`);
  });
});

describe('TboCloudRunService: the Managed Service for Prometheus collector sidecar (managedPrometheus)', () => {
  const json = synthTbo({ managedPrometheus: true });
  type Container = Record<string, unknown> & { name: string };
  const service = () => Object.values(parse(json).resource?.google_cloud_run_v2_service ?? {})[0] as { template: { containers: Container[]; volumes?: unknown[] }; depends_on?: string[] };
  const secretId = () => resourcesOf(json, 'google_secret_manager_secret').find(([, s]) => s.secret_id === `${NAME}-gmp-config`)![0];
  const saEmail = () => `\${google_service_account.${Object.keys(parse(json).resource?.google_service_account ?? {})[0]}.email}`;

  test('off by default: one container, no config secret, no project-level grant', () => {
    const plain = synthTbo();
    const containers = (Object.values(parse(plain).resource?.google_cloud_run_v2_service ?? {})[0] as { template: { containers: unknown[] } }).template.containers;
    expect(containers).toHaveLength(1);
    expect(plain).not.toMatch(/gmp-config|google_project_iam_member/);
  });

  test('a second container runs Google\'s collector after the TBO container, with the config mounted', () => {
    const [tbo, collector] = service().template.containers;
    expect(tbo.name).toBe('tbo');
    expect(collector).toEqual({
      name: 'collector',
      image: GMP_SIDECAR_IMAGE,
      depends_on: ['tbo'],
      resources: { limits: { cpu: '1', memory: '512Mi' }, cpu_idle: false },
      volume_mounts: [{ name: 'gmp-config', mount_path: '/etc/rungmp' }],
    });
    expect(collector.ports).toBeUndefined(); // only the TBO container takes traffic
    expect(service().template.volumes).toEqual([
      { name: 'gmp-config', secret: { secret: `\${google_secret_manager_secret.${secretId()}.id}`, items: [{ path: 'config.yaml', version: expect.stringMatching(/^\$\{google_secret_manager_secret_version\.[A-Za-z0-9_]+\.version\}$/) }] } },
    ]);
  });

  test('the RunMonitoring config scrapes the admin port (9464, not the ingress port) and metrics path on localhost every 30 s', () => {
    const [, version] = resourcesOf(json, 'google_secret_manager_secret_version').find(([, v]) => v.secret === `\${google_secret_manager_secret.${secretId()}.id}`)!;
    expect(parseYaml(version.secret_data as string)).toEqual({
      apiVersion: 'monitoring.googleapis.com/v1beta',
      kind: 'RunMonitoring',
      metadata: { name: 'tbo' },
      spec: { endpoints: [{ port: ADMIN_PORT, path: PROBE_PATHS.metrics, interval: '30s' }], targetLabels: { metadata: ['instance', 'revision', 'service', 'configuration'] } },
    });
    expect(ADMIN_PORT).toBe(9464);
    expect(ADMIN_PORT).not.toBe(SERVICE_PORT);
    expect(json).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: `${NAME}-gmp-config`, project: 'my-project', replication: { auto: {} }, deletion_protection: true });
  });

  test('the service account reads that secret only, and writes metrics (roles/monitoring.metricWriter)', () => {
    expect(json).toHaveResourceWithProperties(SecretManagerSecretIamMember, { secret_id: `\${google_secret_manager_secret.${secretId()}.id}`, role: 'roles/secretmanager.secretAccessor', member: `serviceAccount:${saEmail()}` });
    expect(json).toHaveResourceWithProperties(ProjectIamMember, { project: 'my-project', role: 'roles/monitoring.metricWriter', member: `serviceAccount:${saEmail()}` });
    expect(resourcesOf(json, 'google_project_iam_member')).toHaveLength(1);
  });

  test('the revision waits for the config version and both grants', () => {
    const deps = service().depends_on ?? [];
    expect(deps).toEqual(expect.arrayContaining([expect.stringMatching(/^google_secret_manager_secret_version\./), expect.stringMatching(/^google_project_iam_member\./)]));
    const configGrant = resourcesOf(json, 'google_secret_manager_secret_iam_member').find(([, g]) => g.secret_id === `\${google_secret_manager_secret.${secretId()}.id}`)![0];
    expect(deps).toContain(`google_secret_manager_secret_iam_member.${configGrant}`);
  });

  test('options: image, scrape interval, and leaving the metric writer grant to the project owner', () => {
    const custom = synthTbo({ managedPrometheus: { image: 'example.com/collector:2', scrapeIntervalSeconds: 15, grantMetricWriter: false } });
    const containers = (Object.values(parse(custom).resource?.google_cloud_run_v2_service ?? {})[0] as { template: { containers: Container[] } }).template.containers;
    expect(containers[1].image).toBe('example.com/collector:2');
    expect(custom).toContain('interval: 15s');
    expect(resourcesOf(custom, 'google_project_iam_member')).toEqual([]);
  });

  test('without a project, the grant uses the provider\'s project', () => {
    const synthesized = synthTbo({ managedPrometheus: true, project: undefined });
    const [[, grant]] = resourcesOf(synthesized, 'google_project_iam_member');
    expect(grant.project).toMatch(/^\$\{data\.google_client_config\.[A-Za-z0-9_]+\.project\}$/);
  });

  test('with createService: false the config secret and grants exist already, and there is no service', () => {
    const firstStage = synthTbo({ managedPrometheus: true, createService: false });
    expect(resourcesOf(firstStage, 'google_cloud_run_v2_service')).toEqual([]);
    expect(firstStage).toHaveResourceWithProperties(SecretManagerSecret, { secret_id: `${NAME}-gmp-config` });
    expect(firstStage).toHaveResourceWithProperties(ProjectIamMember, { role: 'roles/monitoring.metricWriter' });
  });

  test('the TBO container is unchanged by the sidecar', () => {
    const [withSidecar] = service().template.containers;
    const [plain] = (Object.values(parse(synthTbo()).resource?.google_cloud_run_v2_service ?? {})[0] as { template: { containers: Container[] } }).template.containers;
    expect(withSidecar).toEqual(plain);
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, { name: NAME });
  });
});
