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

/** The signal as PromQL over the service's own metrics. */
export const SIGNAL_PROMQL: Readonly<Record<AlertSignal, string>> = {
  latencyP95: `histogram_quantile(0.95, sum by (le) (rate(tbo_request_duration_seconds_bucket{${PROXIED}}[5m])))`,
  circuitBreakerActive: 'max(tbo_circuit_breaker_active)',
  // From counters over the window, not the since-start gauge: an idle service has no data (0/0) and
  // does not fire, a recent collapse does; `or vector(0)` gives 0 while no hit series exists yet.
  cacheHitRate: '(sum(rate(tbo_cache_requests_total{result=~"hit|coalesced"}[10m])) or vector(0)) / sum(rate(tbo_cache_requests_total{result=~"hit|miss|coalesced"}[10m]))',
  // Instances with no sessions report 0 and must not drag the average down.
  bandwidthEfficiency: 'avg(tbo_bandwidth_efficiency > 0)',
};

function rule(name: string, signal: AlertSignal, comparison: 'above' | 'below', threshold: number, forSeconds: number, severity: 'warning' | 'critical', summary: string): TboAlertRule {
  const op = comparison === 'above' ? '>' : '<';
  return { name, signal, comparison, threshold, forSeconds, severity, summary, promql: `${SIGNAL_PROMQL[signal]} ${op} ${threshold}` };
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
