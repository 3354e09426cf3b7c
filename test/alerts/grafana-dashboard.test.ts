/**
 * The Grafana dashboard (ops/grafana/tbo-dashboard.json): it is what ops/grafana/render.ts writes,
 * it is a valid Grafana model on a Prometheus datasource variable, and every metric and label its
 * queries name is one a running service really exports on /metrics (and so are the alert rules').
 */
import { readFileSync } from 'node:fs';
import { SIGNAL_PROMQL, TBO_ALERT_RULES } from '../../lib/core';
import { DASHBOARD_FILE, renderDashboardFile, type GrafanaPanel } from '../../ops/grafana/render';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';
import { familyOf, groupingLabels, labelValuesQuery, matcherLabels, metricNames, parseExposition, type Exposition } from './promql';

interface Dashboard {
  readonly uid: string;
  readonly schemaVersion: number;
  readonly templating: { list: { name: string; type: string; query: unknown; datasource?: unknown }[] };
  readonly panels: GrafanaPanel[];
}

const committed = readFileSync(DASHBOARD_FILE, 'utf8');
const dashboard = JSON.parse(committed) as Dashboard;
const dataPanels = dashboard.panels.flatMap((p) => (p.type === 'row' ? [...(p.panels ?? [])] : [p]));
const panelQueries = dataPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({ name: v.name, ...labelValuesQuery(typeof v.query === 'string' ? v.query : (v.query as { query: string }).query) }))
  .map((v) => ({ panel: `variable $${v.name} (label ${v.label})`, expr: v.selector, label: v.label }));
/** Labels Prometheus adds at scrape time, not the service. */
const TARGET_LABELS = new Set(['job', 'instance']);

describe('the Grafana dashboard file', () => {
  test('is exactly what `npx tsx ops/grafana/render.ts` writes', () => {
    expect(committed).toBe(renderDashboardFile());
  });

  test('is a Grafana model of schemaVersion ≥ 36 with a Prometheus datasource variable every panel uses', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    for (const p of dataPanels) {
      expect({ panel: p.title, datasource: p.datasource }).toEqual({ panel: p.title, datasource: { type: 'prometheus', uid: '${datasource}' } });
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  test('panel ids are unique, targets have unique refIds, and panels sit on the 24-column grid without overlapping', () => {
    const ids = dashboard.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((c) => c.id)]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dataPanels) {
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
    const cells = new Map<string, string>();
    const problems: string[] = [];
    for (const { gridPos: g, title } of dashboard.panels) {
      if (!(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0)) problems.push(`${title}: outside the grid`);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const other = cells.get(`${x},${y}`);
          if (other !== undefined) problems.push(`${title} overlaps ${other} at ${x},${y}`);
          cells.set(`${x},${y}`, title);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('shows each alert\'s own expression (SIGNAL_PROMQL) on a panel', () => {
    const exprs = panelQueries.map((q) => q.expr);
    for (const rule of TBO_ALERT_RULES) expect(exprs).toContain(SIGNAL_PROMQL[rule.signal]);
  });

  test('draws each alert threshold from TBO_ALERT_RULES', () => {
    const thresholdsOf = (title: RegExp) => {
      const p = dataPanels.find((d) => title.test(d.title));
      const steps = (p?.fieldConfig as { defaults: { thresholds: { steps: { value: number | null }[] } } }).defaults.thresholds.steps;
      return steps.map((s) => s.value).filter((v) => v !== null);
    };
    const rule = (name: string) => TBO_ALERT_RULES.find((r) => r.name === name)!.threshold;
    expect(thresholdsOf(/^Latency/)).toEqual([rule('TBOHighLatency')]);
    expect(thresholdsOf(/^Cache hit rate/)).toEqual([rule('TBOLowCacheHitRate')]);
    expect(thresholdsOf(/^Circuit breaker/)).toEqual([rule('TBOCircuitBreakerActive')]);
    expect(thresholdsOf(/^Collaborative bandwidth/)).toEqual([rule('TBOBandwidthDegradation')]);
  });
});

describe('metric names against the /metrics of a running service', () => {
  let upstream: FakeUpstream;
  let tbo: RunningTbo;
  let exported: Exposition;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    tbo = await startTbo(upstreamEnv(upstream.url, { TBO_MODEL_PRICES: JSON.stringify({ 'claude-test': { input: 0.003, output: 0.015 }, 'gpt-test': { input: 0.001, output: 0.002 } }) }));
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${tbo.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    const anthropic = (content: string) => ({ model: 'claude-test', max_tokens: 50, messages: [{ role: 'user', content }] });
    // A miss, then a hit (and cost saved), on each provider.
    expect(await post('/v1/messages', anthropic('dashboard'))).toBe(200);
    expect(await post('/v1/messages', anthropic('dashboard'))).toBe(200);
    expect(await post('/v1/chat/completions', { model: 'gpt-test', messages: [{ role: 'user', content: 'dashboard' }] })).toBe(200);
    // Identical concurrent requests: one upstream call, the others coalesced.
    upstream.setLatency(300);
    expect(await Promise.all([1, 2, 3].map(() => post('/v1/messages', anthropic('together'))))).toEqual([200, 200, 200]);
    upstream.setLatency(0);
    // A cache bypass, a collaboration turn (sessions and bandwidth), an upstream error.
    expect(await post('/v1/messages', anthropic('fresh'), { 'cache-control': 'no-store' })).toBe(200);
    expect(await post('/v1/collaborate', { messages: [{ role: 'user', content: 'pair with me' }], model: 'claude-test', context: { session_id: 'dash-1' } })).toBe(200);
    upstream.failNext(1, { status: 500 });
    expect(await post('/v1/messages', anthropic('boom'))).toBeGreaterThanOrEqual(500);
    expect((await fetch(`${tbo.url}/health`)).status).toBe(200);
    exported = parseExposition(await (await fetch(`${tbo.adminUrl}/metrics`)).text());
  });

  afterAll(async () => {
    await tbo?.close();
    await upstream?.close();
  });

  const exportedFamilies = () => new Set([...exported.samples.keys()].map((s) => familyOf(s, exported.types)));

  test('every metric a panel or variable queries is exported, with samples (histograms through _bucket/_sum/_count)', () => {
    const missing = [...panelQueries, ...variableQueries].flatMap(({ panel, expr }) => metricNames(expr).filter((n) => !exported.samples.has(n)).map((n) => `${panel}: ${n}`));
    expect(missing).toEqual([]);
    expect(panelQueries.length).toBeGreaterThan(20);
  });

  test('every label a query matches or groups on is a label of the metrics it reads', () => {
    const wrong: string[] = [];
    for (const { panel, expr } of [...panelQueries, ...variableQueries]) {
      for (const { metric, labels } of matcherLabels(expr)) {
        for (const l of labels) if (!TARGET_LABELS.has(l) && !exported.samples.get(metric)?.has(l)) wrong.push(`${panel}: ${metric}{${l}}`);
      }
      const read = metricNames(expr).map((n) => exported.samples.get(n) ?? new Set<string>());
      for (const l of groupingLabels(expr)) if (!TARGET_LABELS.has(l) && !read.some((labels) => labels.has(l))) wrong.push(`${panel}: by (${l})`);
    }
    expect(wrong).toEqual([]);
  });

  test('the job and instance variables list the scrape targets of a metric the service exports', () => {
    expect(variableQueries.map((v) => v.label)).toEqual(['job', 'instance']);
    for (const v of variableQueries) expect(TARGET_LABELS).toContain(v.label);
  });

  test('every tbo_* metric the service exports has a panel', () => {
    const onDashboard = new Set(panelQueries.flatMap(({ expr }) => metricNames(expr)).map((n) => familyOf(n, exported.types)));
    const tbo = [...exportedFamilies()].filter((f) => f.startsWith('tbo_'));
    expect(tbo.length).toBeGreaterThanOrEqual(17);
    expect(tbo.filter((f) => !onDashboard.has(f))).toEqual([]);
  });

  test('the alert rules read exported metrics and labels too', () => {
    for (const rule of TBO_ALERT_RULES) {
      expect({ rule: rule.name, missing: metricNames(rule.promql).filter((n) => !exported.samples.has(n)) }).toEqual({ rule: rule.name, missing: [] });
      for (const { metric, labels } of matcherLabels(rule.promql)) for (const l of labels) expect(exported.samples.get(metric)).toContain(l);
    }
  });

  test('the extractor sees through functions, groupings, ranges and variables', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, endpoint) (rate(a_bucket{job=~"$job", x="rate(b)"}[$__rate_interval]))) / on() group_left c * 3600 > bool 1e3')).toEqual(['a_bucket', 'c']);
    expect(groupingLabels('sum by (le, endpoint) (x) / on(instance) y')).toEqual(['le', 'endpoint', 'instance']);
    expect(matcherLabels('a{job=~"$job", status=~"5.."} + b')).toEqual([{ metric: 'a', labels: ['job', 'status'] }]);
  });
});
