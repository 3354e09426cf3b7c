/**
 * The Grafana dashboard of the TBO service's Prometheus metrics, written as
 * `ops/grafana/tbo-dashboard.json` (import it in Grafana, or provision it):
 *
 *   npx tsx ops/grafana/render.ts
 *
 * Alert thresholds drawn on the panels come from `TBO_ALERT_RULES`, so the dashboard and the
 * alerts agree. test/alerts checks that the committed JSON is what this script writes and that
 * every metric its queries name is one the service exports.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SIGNAL_PROMQL, TBO_ALERT_RULES, type AlertSignal, type TboAlertRule } from '../../lib/core';

export const DASHBOARD_FILE = join(__dirname, 'tbo-dashboard.json');
export const DASHBOARD_UID = 'tbo-gateway';

/** Grafana's datasource reference through the dashboard's `datasource` variable. */
const DS = { type: 'prometheus', uid: '${datasource}' } as const;
/** Every query's target selector: the dashboard's job and instance variables. */
const SEL = 'job=~"$job", instance=~"$instance"';
/** The endpoints TBO proxies (the latency alert's subject). */
const PROXIED = 'endpoint=~"/v1/(messages|chat/completions|collaborate)"';
const RATE = '[$__rate_interval]';

type Unit = 'reqps' | 's' | 'percentunit' | 'short' | 'bytes' | 'currencyUSD' | 'none' | 'ops';

interface Target {
  readonly expr: string;
  readonly legendFormat: string;
}

export interface GrafanaTarget {
  readonly datasource: typeof DS;
  readonly expr: string;
  readonly legendFormat: string;
  readonly refId: string;
  readonly range?: boolean;
  readonly instant?: boolean;
}

export interface GrafanaPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: typeof DS;
  readonly targets?: readonly GrafanaTarget[];
  readonly fieldConfig?: Record<string, unknown>;
  readonly options?: Record<string, unknown>;
  readonly collapsed?: boolean;
  readonly panels?: readonly GrafanaPanel[];
}

function ruleOf(signal: AlertSignal): TboAlertRule {
  const rule = TBO_ALERT_RULES.find((r) => r.signal === signal);
  if (!rule) throw new Error(`no alert rule watches ${signal}`);
  return rule;
}

/** The alert's own signal, exactly as the rule evaluates it (so across every job and instance). */
const alertTarget = (signal: AlertSignal, legend: string): Target => ({ expr: SIGNAL_PROMQL[signal], legendFormat: `${legend} (${ruleOf(signal).name})` });

/** How a panel describes the alert it shows: the rule, its threshold and `for`. */
function alertNote(signal: AlertSignal): string {
  const r = ruleOf(signal);
  return `The "(${r.name})" series is the alert's own expression over every job and instance; the red threshold is where it fires after ${r.forSeconds / 60}m (${r.comparison} ${r.threshold}).`;
}

/** Red steps at an alert threshold: above it for 'above' rules, below it for 'below' rules. */
function alertSteps(signal: AlertSignal): { color: string; value: number | null }[] {
  const rule = ruleOf(signal);
  return rule.comparison === 'above'
    ? [{ color: 'green', value: null }, { color: 'red', value: rule.threshold }]
    : [{ color: 'red', value: null }, { color: 'green', value: rule.threshold }];
}

const quantiles = (metric: string, by: string, extra = ''): Target[] =>
  [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket{${SEL}${extra}}${RATE})))`,
    legendFormat: `p${Math.round(q * 100)}${by ? ` {{${by}}}` : ''}`,
  }));

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly targets: readonly Target[];
  readonly unit: Unit;
  readonly type?: 'timeseries' | 'stat';
  readonly width?: number;
  /** Threshold steps, drawn as dashed lines on time series. */
  readonly steps?: { color: string; value: number | null }[];
  readonly mappings?: unknown[];
  readonly stack?: boolean;
}

interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const ROWS: readonly RowSpec[] = [
  {
    title: 'Traffic and latency',
    panels: [
      {
        title: 'Request rate by endpoint',
        description: 'HTTP requests per second (tbo_requests_total), every route of the public listener including probes (the admin listener\'s /metrics and /health/details are not counted).',
        targets: [{ expr: `sum by (endpoint) (rate(tbo_requests_total{${SEL}}${RATE}))`, legendFormat: '{{endpoint}}' }],
        unit: 'reqps',
      },
      {
        title: 'Error ratio by endpoint (5xx)',
        description: 'Share of requests answered with a 5xx status.',
        targets: [
          {
            expr: `sum by (endpoint) (rate(tbo_requests_total{${SEL}, status=~"5.."}${RATE})) / sum by (endpoint) (rate(tbo_requests_total{${SEL}}${RATE}))`,
            legendFormat: '{{endpoint}}',
          },
        ],
        unit: 'percentunit',
      },
      {
        title: 'Latency p50 / p95 / p99 by proxied endpoint',
        description: `Request duration of the proxied endpoints (tbo_request_duration_seconds histogram; a stream lasts until its last byte). ${alertNote('latencyP95')}`,
        targets: [...quantiles('tbo_request_duration_seconds', 'endpoint', `, ${PROXIED}`), alertTarget('latencyP95', 'p95')],
        unit: 's',
        width: 24,
        steps: alertSteps('latencyP95'),
      },
    ],
  },
  {
    title: 'Cache and coalescing',
    panels: [
      {
        title: 'Cache hit rate',
        description: `Share of cacheable requests answered without a new upstream call (hits + coalesced): over the dashboard's rate window (tbo_cache_requests_total), and per instance since it started (tbo_cache_hit_rate). ${alertNote('cacheHitRate')}`,
        targets: [
          alertTarget('cacheHitRate', 'hit rate'),
          { expr: `tbo_cache_hit_rate{${SEL}}`, legendFormat: 'since start {{instance}}' },
          {
            // `or vector(0)`: an instance that has only missed has no hit series yet, and its hit rate is 0.
            expr: `(sum(rate(tbo_cache_requests_total{${SEL}, result=~"hit|coalesced"}${RATE})) or vector(0)) / sum(rate(tbo_cache_requests_total{${SEL}, result=~"hit|miss|coalesced"}${RATE}))`,
            legendFormat: 'over the rate window',
          },
        ],
        unit: 'percentunit',
        steps: alertSteps('cacheHitRate'),
      },
      {
        title: 'Cache outcomes',
        description: 'Proxied requests per second by cache outcome (tbo_cache_requests_total): hit, miss, coalesced, bypass.',
        targets: [{ expr: `sum by (result) (rate(tbo_cache_requests_total{${SEL}}${RATE}))`, legendFormat: '{{result}}' }],
        unit: 'reqps',
        stack: true,
      },
      {
        title: 'Coalesced requests',
        description: 'Requests per second answered by joining an identical in-flight upstream call (tbo_coalesced_requests_total).',
        targets: [{ expr: `sum(rate(tbo_coalesced_requests_total{${SEL}}${RATE}))`, legendFormat: 'coalesced' }],
        unit: 'reqps',
      },
      {
        title: 'Cache operations by tier',
        description: 'Cache store operations per second by tier (memory, redis), operation and result (tbo_cache_operations_total).',
        targets: [{ expr: `sum by (tier, operation, result) (rate(tbo_cache_operations_total{${SEL}}${RATE}))`, legendFormat: '{{tier}} {{operation}} {{result}}' }],
        unit: 'ops',
      },
    ],
  },
  {
    title: 'Upstream, overhead and back-pressure',
    panels: [
      {
        title: 'Upstream duration p50 / p95 / p99 by provider',
        description: 'Duration of the upstream calls (tbo_upstream_duration_seconds histogram).',
        targets: quantiles('tbo_upstream_duration_seconds', 'provider'),
        unit: 's',
      },
      {
        title: 'Upstream outcomes',
        description: 'Upstream calls per second by provider and outcome (tbo_upstream_duration_seconds_count).',
        targets: [{ expr: `sum by (provider, outcome) (rate(tbo_upstream_duration_seconds_count{${SEL}}${RATE}))`, legendFormat: '{{provider}} {{outcome}}' }],
        unit: 'reqps',
        stack: true,
      },
      {
        title: 'TBO overhead per proxied request',
        description: 'Time spent in TBO itself, excluding the upstream (tbo_overhead_seconds histogram; also in the x-tbo-overhead-ms header).',
        targets: [
          ...quantiles('tbo_overhead_seconds', '').filter((t) => t.legendFormat !== 'p95'),
          { expr: `sum(rate(tbo_overhead_seconds_sum{${SEL}}${RATE})) / sum(rate(tbo_overhead_seconds_count{${SEL}}${RATE}))`, legendFormat: 'mean' },
        ],
        unit: 's',
      },
      {
        title: 'Queue wait p95 / p99',
        description: 'Time requests waited for an upstream slot (tbo_queue_wait_seconds histogram).',
        targets: quantiles('tbo_queue_wait_seconds', '').filter((t) => t.legendFormat !== 'p50'),
        unit: 's',
      },
      {
        title: 'Circuit breaker',
        description: `Open while any instance has an upstream circuit breaker open (tbo_circuit_breaker_active). ${alertNote('circuitBreakerActive')}`,
        type: 'stat',
        targets: [alertTarget('circuitBreakerActive', 'breaker')],
        unit: 'none',
        width: 6,
        steps: alertSteps('circuitBreakerActive'),
        mappings: [{ type: 'value', options: { '0': { text: 'closed', color: 'green', index: 0 }, '1': { text: 'open', color: 'red', index: 1 } } }],
      },
      {
        title: 'Queue length',
        description: 'Requests waiting for an upstream slot (tbo_queue_length); the autoscaler scales out above 50 per instance.',
        targets: [{ expr: `tbo_queue_length{${SEL}}`, legendFormat: '{{instance}}' }],
        unit: 'short',
        width: 12,
        steps: [{ color: 'green', value: null }, { color: 'orange', value: 50 }],
      },
      {
        title: 'Request bodies in flight',
        description: 'Request body bytes each instance holds (tbo_inflight_body_bytes); at TBO_MAX_INFLIGHT_BODY_BYTES further requests get 503 with Retry-After.',
        targets: [{ expr: `tbo_inflight_body_bytes{${SEL}}`, legendFormat: '{{instance}}' }],
        unit: 'bytes',
        width: 6,
        steps: [{ color: 'green', value: null }],
      },
    ],
  },
  {
    title: 'Collaboration',
    panels: [
      {
        title: 'Collaborative bandwidth',
        description: `Mean turns per second over each instance's recent sessions (tbo_bandwidth_efficiency), per instance; an instance without sessions reports 0, which the alert's mean leaves out. ${alertNote('bandwidthEfficiency')}`,
        targets: [
          alertTarget('bandwidthEfficiency', 'mean'),
          { expr: `tbo_bandwidth_efficiency{${SEL}}`, legendFormat: '{{instance}}' },
        ],
        unit: 'short',
        steps: alertSteps('bandwidthEfficiency'),
      },
      {
        title: 'Active sessions',
        description: 'Sessions with a turn in the last 30 minutes (tbo_active_sessions). With Redis every instance reports the shared count, hence max.',
        targets: [{ expr: `max(tbo_active_sessions{${SEL}})`, legendFormat: 'sessions' }],
        unit: 'short',
      },
    ],
  },
  {
    title: 'Tokens and cost',
    panels: [
      {
        title: 'Tokens per second',
        description: 'Upstream tokens by provider and direction (tbo_tokens_total).',
        targets: [{ expr: `sum by (provider, direction) (rate(tbo_tokens_total{${SEL}}${RATE}))`, legendFormat: '{{provider}} {{direction}}' }],
        unit: 'short',
      },
      {
        title: 'Spend and savings per hour',
        description: 'Upstream spend (tbo_cost_usd_total) and the spend avoided by cache hits and coalescing (tbo_cost_saved_usd_total), in USD per hour.',
        targets: [
          { expr: `sum(rate(tbo_cost_usd_total{${SEL}}${RATE})) * 3600`, legendFormat: 'spent' },
          { expr: `sum(rate(tbo_cost_saved_usd_total{${SEL}}${RATE})) * 3600`, legendFormat: 'saved' },
        ],
        unit: 'currencyUSD',
      },
      {
        title: 'Spend over the time range',
        description: 'USD spent upstream and saved by TBO over the selected time range.',
        type: 'stat',
        targets: [
          { expr: `sum(increase(tbo_cost_usd_total{${SEL}}[$__range]))`, legendFormat: 'spent' },
          { expr: `sum(increase(tbo_cost_saved_usd_total{${SEL}}[$__range]))`, legendFormat: 'saved' },
        ],
        unit: 'currencyUSD',
      },
      {
        title: 'Spend by model',
        description: 'Upstream USD per hour by provider and model (tbo_cost_usd_total).',
        targets: [{ expr: `sum by (provider, model) (rate(tbo_cost_usd_total{${SEL}}${RATE})) * 3600`, legendFormat: '{{provider}} {{model}}' }],
        unit: 'currencyUSD',
      },
    ],
  },
  {
    title: 'Runtime',
    panels: [
      {
        title: 'Redis',
        description: 'The Redis cache tier of the worst instance (tbo_redis_up): up, down (serving from memory), or not configured.',
        type: 'stat',
        targets: [{ expr: `min(tbo_redis_up{${SEL}})`, legendFormat: 'redis' }],
        unit: 'none',
        width: 6,
        steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
        mappings: [
          {
            type: 'value',
            options: {
              '-1': { text: 'not configured', color: 'blue', index: 0 },
              '0': { text: 'down', color: 'red', index: 1 },
              '1': { text: 'up', color: 'green', index: 2 },
            },
          },
        ],
      },
      {
        title: 'Process memory',
        description: 'Resident set size and V8 heap in use per instance.',
        targets: [
          { expr: `process_resident_memory_bytes{${SEL}}`, legendFormat: 'rss {{instance}}' },
          { expr: `nodejs_heap_size_used_bytes{${SEL}}`, legendFormat: 'heap used {{instance}}' },
        ],
        unit: 'bytes',
        width: 9,
      },
      {
        title: 'CPU and event loop lag',
        description: 'CPU seconds per second, and the event loop lag p99 per instance.',
        targets: [
          { expr: `rate(process_cpu_seconds_total{${SEL}}${RATE})`, legendFormat: 'cpu {{instance}}' },
          { expr: `nodejs_eventloop_lag_p99_seconds{${SEL}}`, legendFormat: 'lag p99 {{instance}}' },
        ],
        unit: 'short',
        width: 9,
      },
    ],
  },
];

function panel(spec: PanelSpec, id: number, gridPos: GrafanaPanel['gridPos']): GrafanaPanel {
  const type = spec.type ?? 'timeseries';
  const targets = spec.targets.map((t, i) => ({
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legendFormat,
    refId: String.fromCharCode(65 + i),
    ...(type === 'stat' ? { instant: true, range: false } : { range: true }),
  }));
  const thresholds = { mode: 'absolute', steps: spec.steps ?? [{ color: 'green', value: null }] };
  const custom =
    type === 'timeseries'
      ? {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: spec.stack ? 30 : 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
          thresholdsStyle: { mode: spec.steps ? 'dashed' : 'off' },
        }
      : undefined;
  return {
    id,
    type,
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DS,
    targets,
    fieldConfig: {
      defaults: { unit: spec.unit, thresholds, mappings: spec.mappings ?? [], ...(custom ? { custom } : {}), ...(type === 'timeseries' ? { color: { mode: 'palette-classic' } } : {}) },
      overrides: [],
    },
    options:
      type === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'auto', justifyMode: 'auto', orientation: 'auto' }
        : { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

/** Lays the rows out on Grafana's 24-column grid: panels 12 wide (or their width), 8 high. */
function layout(): GrafanaPanel[] {
  const panels: GrafanaPanel[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    for (const spec of row.panels) {
      const w = spec.width ?? 12;
      if (x + w > 24) {
        x = 0;
        y += 8;
      }
      panels.push(panel(spec, id++, { h: 8, w, x, y }));
      x += w;
    }
    y += 8;
  }
  return panels;
}

const queryVariable = (name: string, label: string, query: string) => ({
  name,
  label,
  type: 'query',
  datasource: DS,
  definition: query,
  query: { query, refId: `${name}-variable` },
  refresh: 2,
  includeAll: true,
  multi: true,
  allValue: '.*',
  current: { selected: true, text: ['All'], value: ['$__all'] },
  sort: 1,
  hide: 0,
  options: [],
  regex: '',
});

/** The dashboard model (Grafana schema 39). */
export function tboDashboard(): Record<string, unknown> {
  return {
    uid: DASHBOARD_UID,
    title: 'TBO gateway',
    description: 'Temporal Bandwidth Optimizer: traffic, latency, cache, upstreams, collaboration, cost and runtime, from the service\'s /metrics.',
    tags: ['tbo', 'llm-gateway'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', includeAll: false, multi: false, options: [] },
        queryVariable('job', 'Job', 'label_values(tbo_requests_total, job)'),
        queryVariable('instance', 'Instance', 'label_values(tbo_requests_total{job=~"$job"}, instance)'),
      ],
    },
    panels: layout(),
  };
}

/** The committed JSON: the model, two-space indented, with a final newline. */
export function renderDashboardFile(): string {
  return `${JSON.stringify(tboDashboard(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(DASHBOARD_FILE, renderDashboardFile());
  process.stdout.write(`wrote ${relative(process.cwd(), DASHBOARD_FILE)}\n`);
}
