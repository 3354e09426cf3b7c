/**
 * Many instances of TboCloudRunService: every physical name derives from `serviceName`, whose
 * default is unique per construct path and stable across synths, so two instances share a stack
 * (and a project) without a collision, and each one's alert policies watch its own service only.
 */
import 'cdktf/lib/testing/adapters/jest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { TBO_ALERT_RULES } from '../../lib/core';
import { DERIVED_SERVICE_NAME_MAX_LENGTH, TboCloudRunService, defaultServiceName, type TboCloudRunServiceProps } from '../../lib/gcp';
import { BASE, NAME, parse, resourcesOf } from './support';

Testing.setupJest();

/** Where each resource type keeps its physical name. */
const NAME_FIELDS: Readonly<Record<string, string>> = {
  google_cloud_run_v2_service: 'name',
  google_compute_network: 'name',
  google_compute_subnetwork: 'name',
  google_redis_instance: 'name',
  google_secret_manager_secret: 'secret_id',
  google_service_account: 'account_id',
  google_monitoring_alert_policy: 'display_name',
  google_storage_bucket: 'name',
};

// Google's rules for the names derived from serviceName (lib/gcp/validate.ts checks the same).
const CLOUD_RUN_NAME = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/;
const ACCOUNT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const MEMORYSTORE_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const NETWORK_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

interface Condition {
  condition_prometheus_query_language: { query: string; duration: string; alert_rule: string };
}

/** Every physical name in a synthesized stack, by resource type and logical id. */
function physicalNames(json: string): { type: string; id: string; name: string }[] {
  return Object.entries(NAME_FIELDS).flatMap(([type, field]) => resourcesOf(json, type).map(([id, body]) => ({ type, id, name: String(body[field]) })));
}

describe('two instances in one stack, with every default', () => {
  const instances: TboCloudRunService[] = [];
  const props: TboCloudRunServiceProps = { ...BASE, managedPrometheus: true, openaiApiKey: true, redis: { export: true }, tracing: { collectorSidecar: true } };
  const json = Testing.synthScope((scope) => {
    instances.push(new TboCloudRunService(scope, 'eu', props), new TboCloudRunService(new Construct(scope, 'team-b'), 'eu', props));
  });
  const [a, b] = instances;
  const nameOf = (id: string) => (id.startsWith('team-b_eu_') ? b : a).resolvedProps.serviceName;

  test('different derived service names, each valid for every name built from it', () => {
    expect(a.resolvedProps.serviceName).not.toBe(b.resolvedProps.serviceName);
    for (const name of [a.resolvedProps.serviceName, b.resolvedProps.serviceName]) {
      expect(name.length).toBeLessThanOrEqual(DERIVED_SERVICE_NAME_MAX_LENGTH);
      expect(name).toMatch(CLOUD_RUN_NAME);
      expect(`${name}-run`).toMatch(ACCOUNT_ID);
      expect(`${name}-cache`).toMatch(MEMORYSTORE_NAME);
      expect(`${name}-vpc`).toMatch(NETWORK_NAME);
      expect(`${name}-egress`).toMatch(NETWORK_NAME);
    }
  });

  test('no physical name is used twice: service, network, subnet, Memorystore, secrets (the collectors\' configs too), service account, alert policies, export bucket', () => {
    const names = physicalNames(json);
    for (const type of Object.keys(NAME_FIELDS)) expect(names.filter((n) => n.type === type).length).toBeGreaterThanOrEqual(2);
    for (const type of Object.keys(NAME_FIELDS)) {
      const ofType = names.filter((n) => n.type === type).map((n) => n.name);
      expect(new Set(ofType).size).toBe(ofType.length);
    }
    expect(names.filter((n) => n.name.endsWith('-gmp-config'))).toHaveLength(2);
    expect(names.filter((n) => n.name.endsWith('-otel-config'))).toHaveLength(2);
  });

  test('every physical name starts with its own instance\'s serviceName', () => {
    for (const { id, name } of physicalNames(json)) expect(name.startsWith(`${nameOf(id)}-`) || name.startsWith(`${nameOf(id)} `) || name === nameOf(id)).toBe(true);
  });

  test('Redis key prefixes and outputs differ too', () => {
    expect(a.redisKeyPrefix).not.toBe(b.redisKeyPrefix);
    const outputs = ['backup_bucket', 'redis_export_command', 'redis_import_command', 'redis_instance', 'region', 'rollout_command', 'secret_commands', 'service_name', 'url'];
    expect(Object.keys(parse(json).output ?? {}).sort()).toEqual(['eu', 'team_b_eu'].flatMap((prefix) => outputs.map((o) => `${prefix}_${o}`)).sort());
  });

  test('each alert policy\'s query names its own service (namespace) and never the other', () => {
    const policies = resourcesOf(json, 'google_monitoring_alert_policy');
    expect(policies).toHaveLength(2 * TBO_ALERT_RULES.length);
    for (const [id, policy] of policies) {
      const own = nameOf(id);
      const other = own === a.resolvedProps.serviceName ? b.resolvedProps.serviceName : a.resolvedProps.serviceName;
      const { query } = (policy as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language;
      expect(query).toContain(`namespace="${own}"`);
      expect(query).not.toContain(other);
      expect(policy.display_name).toBe(`${own} ${(policy as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language.alert_rule}`);
    }
  });

  test('the namespace each query selects is its own Cloud Run service\'s name (the collector writes K_SERVICE, the service name, as namespace)', () => {
    const services = resourcesOf(json, 'google_cloud_run_v2_service');
    expect(services).toHaveLength(2);
    for (const [serviceId, service] of services) {
      const prefix = serviceId.slice(0, serviceId.indexOf('_Service_'));
      const selecting = resourcesOf(json, 'google_monitoring_alert_policy')
        .filter(([, p]) => (p as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language.query.includes(`namespace="${String(service.name)}"`))
        .map(([id]) => id);
      expect(selecting).toHaveLength(TBO_ALERT_RULES.length);
      for (const id of selecting) expect(id.startsWith(`${prefix}_Alerts_`)).toBe(true);
    }
  });

  test('promtool: the synthesized queries fire for the service whose series breach, not for its neighbour', () => {
    // Service A: a breaker open and a collapsed hit rate; service B: healthy. Unscoped, B's hits would mask A's collapse.
    const [svcA, svcB] = [a.resolvedProps.serviceName, b.resolvedProps.serviceName];
    const watched = ['TBOCircuitBreakerActive', 'TBOLowCacheHitRate'];
    const conditions = resourcesOf(json, 'google_monitoring_alert_policy').map(([id, p]) => ({ svc: nameOf(id), c: (p as { conditions: Condition[] }).conditions[0].condition_prometheus_query_language }));
    const rules = {
      groups: [svcA, svcB].map((svc) => ({
        name: svc,
        rules: conditions
          .filter(({ svc: s, c }) => s === svc && watched.includes(c.alert_rule))
          .map(({ c }) => ({ alert: `${c.alert_rule}_${svc.replaceAll('-', '_')}`, expr: c.query, for: `${Number(c.duration.replace('s', '')) / 60}m`, labels: { service: svc } })),
      })),
    };
    expect(rules.groups.map((g) => g.rules.length)).toEqual([2, 2]);
    const series = (svc: string, metric: string, labels: string, values: string) => ({ series: `${metric}{cluster="__run__",namespace="${svc}"${labels}}`, values });
    const alert = (name: string, svc: string) => `${name}_${svc.replaceAll('-', '_')}`;
    const tests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            series(svcA, 'tbo_circuit_breaker_active', ',provider="anthropic",model="m"', '1x40'),
            series(svcB, 'tbo_circuit_breaker_active', ',provider="anthropic",model="m"', '0x40'),
            series(svcA, 'tbo_cache_requests_total', ',result="miss"', '0+60x40'),
            series(svcB, 'tbo_cache_requests_total', ',result="hit"', '0+60x40'),
            series(svcB, 'tbo_cache_requests_total', ',result="miss"', '0+1x40'),
          ],
          alert_rule_test: [
            { eval_time: '30m', alertname: alert('TBOCircuitBreakerActive', svcA), exp_alerts: [{ exp_labels: { service: svcA } }] },
            { eval_time: '30m', alertname: alert('TBOCircuitBreakerActive', svcB), exp_alerts: [] },
            { eval_time: '30m', alertname: alert('TBOLowCacheHitRate', svcA), exp_alerts: [{ exp_labels: { service: svcA } }] },
            { eval_time: '30m', alertname: alert('TBOLowCacheHitRate', svcB), exp_alerts: [] },
          ],
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'tbo-gcp-scoped-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), stringify(rules, { lineWidth: 0 }));
      writeFileSync(join(dir, 'tests.yml'), stringify(tests, { lineWidth: 0 }));
      const run = spawnSync('promtool', ['test', 'rules', 'tests.yml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      if (run.error) throw new Error(`promtool could not run (${run.error.message}); install it with: apt-get install -y prometheus`);
      expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the derived default serviceName', () => {
  const nameAt = (build: (scope: Construct) => Construct): string => {
    let name = '';
    Testing.synthScope((scope) => {
      name = defaultServiceName(build(scope));
    });
    return name;
  };

  test('stable across synths (pinned: a change would rename, and so replace, every deployed resource)', () => {
    expect(NAME).toBe('stack-tbo-83b801');
    expect(nameAt((s) => new Construct(s, 'tbo'))).toBe(NAME);
  });

  test('the stack id and the construct path, then 6 hex digits of the construct\'s address', () => {
    let construct!: TboCloudRunService;
    Testing.synthScope((scope) => {
      construct = new TboCloudRunService(new Construct(scope, 'Gw'), 'EU_1', BASE);
    });
    expect(construct.resolvedProps.serviceName).toMatch(/^stack-gw-eu-1-[0-9a-f]{6}$/);
  });

  test('a long path is shortened to 26 characters, keeping the hash, so the same long id under two parents still differs', () => {
    const id = 'a-really-long-construct-identifier-for-the-gateway';
    const one = nameAt((s) => new Construct(new Construct(s, 'p1'), id));
    const two = nameAt((s) => new Construct(new Construct(s, 'p2'), id));
    for (const name of [one, two]) {
      expect(name.length).toBeLessThanOrEqual(26);
      expect(`${name}-run`).toMatch(ACCOUNT_ID);
      expect(name).toMatch(/-[0-9a-f]{6}$/);
    }
    expect(one).not.toBe(two);
  });

  test('starts with a letter whatever the ids', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, '42');
    expect(defaultServiceName(new Construct(stack, '7'))).toMatch(/^tbo-42-7-[0-9a-f]{6}$/);
    expect(defaultServiceName(new Construct(new TerraformStack(app, '---'), '__'))).toMatch(/^tbo-[0-9a-f]{6}$/);
  });

  test('serviceName still wins, and is validated as before', () => {
    let tbo!: TboCloudRunService;
    Testing.synthScope((scope) => {
      tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, serviceName: 'tbo-service' });
    });
    expect(tbo.resolvedProps.serviceName).toBe('tbo-service');
  });
});
