/**
 * The Prometheus rules file rendered from lib/core's TBO_ALERT_RULES: it never drifts from the
 * definition, promtool accepts it, and promtool's unit tests prove that each alert fires when its
 * condition has held for its `for` duration and not at the threshold or for a shorter time, nor for
 * traffic that must not hide or fake it. Mutations of the rules show those tests can fail, each in
 * the scenario written for it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { TBO_ALERT_RULES } from '../../lib/core';
import { RULES_FILE, RULE_TESTS_FILE, renderRuleTestsFile, renderRulesFile } from '../../ops/prometheus/render';

interface RulesFile {
  groups: { name: string; rules: { alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[];
}

interface TestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test: { alertname: string; eval_time: string; exp_alerts: unknown[] }[] }[];
}

function promtool(args: readonly string[], cwd: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`promtool could not run (${run.error.message}); install it with: apt-get install -y prometheus`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Runs the committed promtool tests against a changed copy of the rules. */
function testMutatedRules(mutate: (rules: RulesFile) => void): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tbo-rules-'));
  try {
    const rules = parse(readFileSync(RULES_FILE, 'utf8')) as RulesFile;
    mutate(rules);
    writeFileSync(join(dir, basename(RULES_FILE)), stringify(rules));
    writeFileSync(join(dir, basename(RULE_TESTS_FILE)), readFileSync(RULE_TESTS_FILE, 'utf8'));
    return promtool(['test', 'rules', basename(RULE_TESTS_FILE)], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const dir = join(RULES_FILE, '..');
const rulesText = readFileSync(RULES_FILE, 'utf8');
const testsText = readFileSync(RULE_TESTS_FILE, 'utf8');

describe('ops/prometheus/tbo-rules.yml', () => {
  test('is exactly what `npx tsx ops/prometheus/render.ts` renders from TBO_ALERT_RULES', () => {
    expect(rulesText).toBe(renderRulesFile());
  });

  test('holds the four rules of the guide, one alert per rule, with its PromQL, for, severity and summary', () => {
    const { groups } = parse(rulesText) as RulesFile;
    expect(groups.map((g) => g.name)).toEqual(['tbo']);
    expect(groups[0].rules.map((r) => r.alert)).toEqual(['TBOHighLatency', 'TBOCircuitBreakerActive', 'TBOLowCacheHitRate', 'TBOBandwidthDegradation']);
    expect(groups[0].rules).toEqual(
      TBO_ALERT_RULES.map((r) =>
        expect.objectContaining({ alert: r.name, expr: r.promql, for: `${r.forSeconds / 60}m`, labels: { severity: r.severity, service: 'tbo' }, annotations: expect.objectContaining({ summary: r.summary }) }),
      ),
    );
  });

  test('the latency rule reads the histogram buckets the service exports, not a quantile label', () => {
    const latency = TBO_ALERT_RULES.find((r) => r.name === 'TBOHighLatency')!;
    expect(latency.promql).toMatch(/histogram_quantile\(0\.95, sum by \(le\) \(rate\(tbo_request_duration_seconds_bucket\{[^}]*\}\[5m\]\)\)\) > 2$/);
    expect(latency.promql).not.toContain('quantile=');
  });

  test('passes `promtool check rules`', () => {
    const { status, output } = promtool(['check', 'rules', basename(RULES_FILE)], dir);
    expect(output).toContain('SUCCESS: 4 rules found');
    expect(status).toBe(0);
  });
});

describe('ops/prometheus/tbo-rules.test.yml (promtool unit tests)', () => {
  test('is exactly what `npx tsx ops/prometheus/render.ts` generates', async () => {
    expect(testsText).toBe(await renderRuleTestsFile());
  });

  test('has, for every alert, a case where it fires and cases where it must not (at the threshold, and for a shorter time)', () => {
    const { rule_files, tests } = parse(testsText) as TestFile;
    expect(rule_files).toEqual([basename(RULES_FILE)]);
    for (const rule of TBO_ALERT_RULES) {
      const mine = tests.filter((t) => t.alert_rule_test.every((c) => c.alertname === rule.name) && t.name.startsWith(`${rule.name} `));
      const fires = mine.filter((t) => t.alert_rule_test.some((c) => c.exp_alerts.length > 0));
      const never = mine.filter((t) => t.alert_rule_test.every((c) => c.exp_alerts.length === 0));
      expect({ rule: rule.name, fires: fires.length > 0, threshold: never.some((t) => /threshold|exactly/.test(t.name)), shorter: never.some((t) => /less than|short of/.test(t.name)) }).toEqual({
        rule: rule.name,
        fires: true,
        threshold: true,
        shorter: true,
      });
      // In every firing case the alert is still pending one evaluation before it fires.
      for (const { name, alert_rule_test: checks } of fires) {
        const first = checks.findIndex((c) => c.exp_alerts.length > 0);
        expect({ name, first: first > 0 }).toEqual({ name, first: true });
        expect({ name, step: parseInt(checks[first].eval_time, 10) - parseInt(checks[first - 1].eval_time, 10) }).toEqual({ name, step: 1 });
      }
    }
  });

  test('cover the traffic that must not hide or fake a condition', () => {
    const names = (parse(testsText) as TestFile).tests.map((t) => t.name);
    const expected = [
      /^TBOHighLatency fires for slow proxied calls while \/v1\/performance is polled/,
      /^TBOHighLatency ignores endpoints that are not proxied/,
      /^TBOLowCacheHitRate fires for a fresh service whose every cacheable request misses/,
      /^TBOLowCacheHitRate does not fire at the threshold itself .*bypassed requests do not count/,
      /^TBOLowCacheHitRate does not fire for a shorter dip/,
      /^TBOLowCacheHitRate does not fire when the service is idle/,
      /^TBOBandwidthDegradation does not fire for an idle instance reporting tbo_bandwidth_efficiency 0 beside a healthy one/,
    ];
    for (const re of expected) expect({ scenario: re.source, found: names.some((n) => re.test(n)) }).toEqual({ scenario: re.source, found: true });
  });

  test('pass `promtool test rules`', () => {
    const { status, output } = promtool(['test', 'rules', basename(RULE_TESTS_FILE)], dir);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  test('fail when the rules ignore `for` (every "shorter time" case then fires)', () => {
    const { status, output } = testMutatedRules((rules) => {
      for (const r of rules.groups[0].rules) r.for = '0s';
    });
    expect(status).not.toBe(0);
    for (const rule of TBO_ALERT_RULES) expect(output).toContain(`alertname: ${rule.name}`);
  });

  test.each([
    [
      'the latency rule reads every /v1/ endpoint (fast /v1/performance polling then hides slow calls)',
      'TBOHighLatency',
      'histogram_quantile(0.95, sum by (le) (rate(tbo_request_duration_seconds_bucket{endpoint=~"/v1/.*"}[5m]))) > 2',
      'TBOHighLatency fires for slow proxied calls while /v1/performance is polled',
    ],
    [
      'the cache hit rate is the since-start gauge (an idle or fresh service fires)',
      'TBOLowCacheHitRate',
      'avg(tbo_cache_hit_rate) < 0.1',
      'TBOLowCacheHitRate does not fire when the service is idle',
    ],
    [
      'the cache hit rate is the since-start gauge (a recent collapse does not fire)',
      'TBOLowCacheHitRate',
      'avg(tbo_cache_hit_rate) < 0.1',
      'TBOLowCacheHitRate fires once the 10m hit rate has been below',
    ],
    [
      'the cache hit rate is 1 - misses / cacheable (in floating point, exactly 10 % is 0.09999999999999998)',
      'TBOLowCacheHitRate',
      '1 - sum(rate(tbo_cache_requests_total{result="miss"}[10m])) / sum(rate(tbo_cache_requests_total{result=~"hit|miss|coalesced"}[10m])) < 0.1',
      'TBOLowCacheHitRate does not fire at the threshold itself',
    ],
    [
      'the cache hit rate is hits / cacheable without `or vector(0)` (no data while no hit series exists)',
      'TBOLowCacheHitRate',
      'sum(rate(tbo_cache_requests_total{result=~"hit|coalesced"}[10m])) / sum(rate(tbo_cache_requests_total{result=~"hit|miss|coalesced"}[10m])) < 0.1',
      'TBOLowCacheHitRate fires for a fresh service whose every cacheable request misses',
    ],
    [
      'the cache hit rate counts bypassed requests',
      'TBOLowCacheHitRate',
      '(sum(rate(tbo_cache_requests_total{result=~"hit|coalesced"}[10m])) or vector(0)) / sum(rate(tbo_cache_requests_total[10m])) < 0.1',
      'TBOLowCacheHitRate does not fire at the threshold itself',
    ],
    [
      'the bandwidth mean counts idle instances reporting 0',
      'TBOBandwidthDegradation',
      'avg(tbo_bandwidth_efficiency) < 0.08',
      'TBOBandwidthDegradation does not fire for an idle instance reporting tbo_bandwidth_efficiency 0',
    ],
  ])('fail when %s', (_name, alert, expr, scenario) => {
    const { status, output } = testMutatedRules((rules) => {
      rules.groups[0].rules.find((r) => r.alert === alert)!.expr = expr;
    });
    expect(status).not.toBe(0);
    expect(output).toContain(`name: ${scenario}`);
  });

  test("fail when the latency rule uses the guide's summary selector {quantile=\"0.95\"}, which a histogram does not have", () => {
    const { status, output } = testMutatedRules((rules) => {
      rules.groups[0].rules[0].expr = 'tbo_request_duration_seconds{quantile="0.95"} > 2';
    });
    expect(status).not.toBe(0);
    expect(output).toContain('alertname: TBOHighLatency');
    expect(output).not.toContain('alertname: TBOCircuitBreakerActive');
  });
});
