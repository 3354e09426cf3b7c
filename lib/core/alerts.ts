import { stringify } from 'yaml';

/** The service signal an alert watches; each target maps it to its own metric system. */
export type AlertSignal =
  /** 95th percentile of proxied request latency, seconds. */
  | 'latencyP95'
  /** 1 while any upstream circuit breaker is open. */
  | 'circuitBreakerActive'
  /** Share of cacheable requests answered without a new upstream call. */
  | 'cacheHitRate'
  /** Mean collaborative bandwidth over active sessions, turns per second. */
  | 'bandwidthEfficiency';

/** One alerting rule of the guide, defined once and rendered to Prometheus, CloudWatch and Cloud Monitoring. */
export interface TboAlertRule {
  readonly name: string;
  readonly signal: AlertSignal;
  readonly comparison: 'above' | 'below';
  readonly threshold: number;
  /** How long the condition must hold before the alert fires, in seconds. */
  readonly forSeconds: number;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
  /** PromQL over the metrics the service exports (also used by Cloud Monitoring's PromQL conditions). */
  readonly promql: string;
}

/** The proxied endpoints (not /v1/performance, whose fast polling would hide slow calls). */
const PROXIED = 'endpoint=~"/v1/(messages|chat/completions|collaborate)"';

/**
 * Label matchers that narrow an alert to one deployment's series, as label name → exact value
 * (e.g. `{ namespace: 'my-service' }` for the series a collector labels with that namespace).
 * Empty: every series of the metric, as in ops/prometheus/tbo-rules.yml.
 */
export type AlertScope = Readonly<Record<string, string>>;

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `a="x",b="y"` for a scope (values escaped as PromQL strings), '' for none. */
function scopeMatchers(scope: AlertScope): string {
  return Object.entries(scope)
    .map(([name, value]) => {
      if (!LABEL_NAME.test(name)) throw new Error(`alert scope: label name ${JSON.stringify(name)} must match ${LABEL_NAME.source}`);
      return `${name}=${JSON.stringify(value)}`;
    })
    .join(',');
}

/**
 * The signal as PromQL over the service's own metrics; with a `scope`, every selector also
 * matches the scope's labels, so the expression reads one deployment's series only. Without one
 * (the default) the expression is exactly {@link SIGNAL_PROMQL}'s.
 */
export function signalPromql(signal: AlertSignal, scope: AlertScope = {}): string {
  const extra = scopeMatchers(scope);
  const sel = (metric: string, ...matchers: string[]): string => {
    const all = [...matchers, extra].filter((m) => m !== '');
    return all.length ? `${metric}{${all.join(',')}}` : metric;
  };
  switch (signal) {
    case 'latencyP95':
      return `histogram_quantile(0.95, sum by (le) (rate(${sel('tbo_request_duration_seconds_bucket', PROXIED)}[5m])))`;
    case 'circuitBreakerActive':
      return `max(${sel('tbo_circuit_breaker_active')})`;
    case 'cacheHitRate':
      // From counters over the window, not the since-start gauge: an idle service has no data (0/0) and
      // does not fire, a recent collapse does; `or vector(0)` gives 0 while no hit series exists yet.
      return `(sum(rate(${sel('tbo_cache_requests_total', 'result=~"hit|coalesced"')}[10m])) or vector(0)) / sum(rate(${sel('tbo_cache_requests_total', 'result=~"hit|miss|coalesced"')}[10m]))`;
    case 'bandwidthEfficiency':
      // Instances with no sessions report 0 and must not drag the average down.
      return `avg(${sel('tbo_bandwidth_efficiency')} > 0)`;
  }
}

/** The signal as PromQL over the service's own metrics (every series: no deployment scope). */
export const SIGNAL_PROMQL: Readonly<Record<AlertSignal, string>> = {
  latencyP95: signalPromql('latencyP95'),
  circuitBreakerActive: signalPromql('circuitBreakerActive'),
  cacheHitRate: signalPromql('cacheHitRate'),
  bandwidthEfficiency: signalPromql('bandwidthEfficiency'),
};

function promqlOf(signal: AlertSignal, comparison: 'above' | 'below', threshold: number, scope: AlertScope = {}): string {
  return `${signalPromql(signal, scope)} ${comparison === 'above' ? '>' : '<'} ${threshold}`;
}

function rule(name: string, signal: AlertSignal, comparison: 'above' | 'below', threshold: number, forSeconds: number, severity: 'warning' | 'critical', summary: string): TboAlertRule {
  return { name, signal, comparison, threshold, forSeconds, severity, summary, promql: promqlOf(signal, comparison, threshold) };
}

/**
 * The rule with its PromQL narrowed to the series carrying every label of `scope` (one
 * deployment's, where several export the same metric names); everything else unchanged.
 */
export function scopeAlertRule(r: TboAlertRule, scope: AlertScope): TboAlertRule {
  return { ...r, promql: promqlOf(r.signal, r.comparison, r.threshold, scope) };
}

/** The guide's four alerting rules. */
export const TBO_ALERT_RULES: readonly TboAlertRule[] = [
  rule('TBOHighLatency', 'latencyP95', 'above', 2.0, 300, 'warning', 'TBO p95 response latency is above 2 s'),
  rule('TBOCircuitBreakerActive', 'circuitBreakerActive', 'above', 0, 60, 'critical', 'An upstream circuit breaker is open'),
  rule('TBOLowCacheHitRate', 'cacheHitRate', 'below', 0.1, 600, 'warning', 'TBO cache hit rate is below 10 %'),
  rule('TBOBandwidthDegradation', 'bandwidthEfficiency', 'below', 0.08, 300, 'warning', 'Collaborative bandwidth is below 0.08 turns per second'),
];

function duration(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/** The rules as a Prometheus rules file (`promtool check rules` accepts it). */
export function renderPrometheusRules(rules: readonly TboAlertRule[] = TBO_ALERT_RULES): string {
  const doc = {
    groups: [
      {
        name: 'tbo',
        rules: rules.map((r) => ({
          alert: r.name,
          expr: r.promql,
          for: duration(r.forSeconds),
          labels: { severity: r.severity, service: 'tbo' },
          annotations: { summary: r.summary, description: `${r.summary} (threshold ${r.threshold}, for ${duration(r.forSeconds)}).` },
        })),
      },
    ],
  };
  return stringify(doc, { lineWidth: 0 });
}
