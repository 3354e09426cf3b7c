/**
 * The promtool unit tests of the alerting rules (`promtool test rules`), generated from the rules
 * themselves (threshold, comparison, `for`, rate window) and from the buckets the service really
 * exports.
 *
 * For every rule: a scenario in which the condition holds for exactly its `for` duration and the
 * alert fires (and is only pending one evaluation earlier), one at the threshold itself (the
 * comparison is strict, so it never fires), and one in which the condition holds one evaluation
 * short of `for` (it never fires). Some rules have more: scenarios for the traffic that must not
 * hide or fake the condition (fast /v1/performance polling, idle services, idle instances).
 *
 * Rate windows follow Prometheus 2.x (promtool 2.42): `x[10m]` at time t holds the samples of
 * [t-10m, t], so with 1m samples it is the increases of minutes t-9 … t.
 */
import { stringify } from 'yaml';
import { SIGNAL_PROMQL, TBO_ALERT_RULES, type TboAlertRule } from '../../lib/core';
import { ADMIN_PORT } from '../../service/src/config/settings';
import { Metrics } from '../../service/src/observability/metrics';

/** Rule evaluation and scrape interval of the tests, in minutes. */
const STEP_MINUTES = 1;
/** The quantile the latency signal alerts on (`latencyP95`). */
const LATENCY_QUANTILE = 0.95;
/** Proxied requests per minute in the latency scenarios. */
const REQUESTS_PER_MINUTE = 100;
/** Scrape targets: each instance's admin listener, where /metrics is served. */
const TARGET = { job: 'tbo', instance: `tbo-a:${ADMIN_PORT}` } as const;
const SECOND_TARGET = { job: 'tbo', instance: `tbo-b:${ADMIN_PORT}` } as const;

/** One input series in promtool's expanding notation. */
interface InputSeries {
  readonly series: string;
  readonly values: string;
}

interface ExpectedAlert {
  readonly exp_labels: Record<string, string>;
  readonly exp_annotations: Record<string, string>;
}

interface AlertCheck {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: readonly ExpectedAlert[];
}

interface ExprCheck {
  readonly expr: string;
  readonly eval_time: string;
  readonly exp_samples: readonly { labels: string; value: number }[];
}

/** One `tests:` entry of a promtool test file. */
export interface RuleTestGroup {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly InputSeries[];
  readonly alert_rule_test: readonly AlertCheck[];
  readonly promql_expr_test?: readonly ExprCheck[];
}

type GaugeSignal = 'circuitBreakerActive' | 'bandwidthEfficiency';

/** The gauges the gauge-based signals read, and the per-instance values of each scenario. */
const GAUGE_SIGNALS: Readonly<Record<GaugeSignal, { metric: string; crossing: (r: TboAlertRule) => [number, number] }>> = {
  // An open breaker on one of two instances.
  circuitBreakerActive: { metric: 'tbo_circuit_breaker_active', crossing: () => [0, 1] },
  // One instance well below, the other a little above: the mean is below.
  bandwidthEfficiency: { metric: 'tbo_bandwidth_efficiency', crossing: (r) => [r.threshold * 0.5, r.threshold * 1.2] },
};

const round = (x: number): number => Number(x.toFixed(9));
const minutes = (m: number): string => `${m}m`;

function forMinutes(rule: TboAlertRule): number {
  if (rule.forSeconds % (STEP_MINUTES * 60) !== 0) throw new Error(`${rule.name}: for ${rule.forSeconds}s is not a whole number of ${STEP_MINUTES}m evaluations`);
  return rule.forSeconds / 60;
}

/** Values in promtool's notation: runs of a constant step become `start+stepxN`. */
export function seriesNotation(values: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    if (i === values.length - 1) {
      parts.push(String(round(values[i])));
      break;
    }
    const step = round(values[i + 1] - values[i]);
    let j = i + 1;
    while (j + 1 < values.length && round(values[j + 1] - values[j]) === step) j++;
    if (j - i === 1 && step !== 0) {
      parts.push(String(round(values[i]))); // a lone change: the next run starts at the new value
      i += 1;
      continue;
    }
    parts.push(`${round(values[i])}${step < 0 ? '' : '+'}${step}x${j - i}`);
    i = j + 1;
  }
  return parts.join(' ');
}

function selector(metric: string, labels: Record<string, string>): string {
  const body = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',');
  return `${metric}{${body}}`;
}

function firing(rule: TboAlertRule): ExpectedAlert {
  const rendered = renderedRule(rule);
  return { exp_labels: rendered.labels, exp_annotations: rendered.annotations };
}

/** The labels and annotations `renderPrometheusRules` gives the rule (aggregations drop every series label). */
function renderedRule(rule: TboAlertRule): { labels: Record<string, string>; annotations: Record<string, string> } {
  const forText = rule.forSeconds % 60 === 0 ? `${rule.forSeconds / 60}m` : `${rule.forSeconds}s`;
  return {
    labels: { severity: rule.severity, service: 'tbo' },
    annotations: { summary: rule.summary, description: `${rule.summary} (threshold ${rule.threshold}, for ${forText}).` },
  };
}

const check = (rule: TboAlertRule, minute: number, fires: boolean): AlertCheck => ({
  eval_time: minutes(minute),
  alertname: rule.name,
  exp_alerts: fires ? [firing(rule)] : [],
});

/** A value for each minute 0..length-1: `bad` where `isBad(minute)`, else `good`. */
const timeline = (length: number, isBad: (minute: number) => boolean, bad: number, good: number): number[] =>
  Array.from({ length }, (_, m) => (isBad(m) ? bad : good));

function gaugeScenarios(rule: TboAlertRule, signal: GaugeSignal): RuleTestGroup[] {
  const { metric, crossing } = GAUGE_SIGNALS[signal];
  const f = forMinutes(rule);
  const start = 2;
  const length = start + 3 * f + 5;
  const [badA, badB] = crossing(rule).map(round);
  const healthy = round(rule.comparison === 'above' ? rule.threshold - 1 : rule.threshold * 2);
  const goodA = rule.comparison === 'above' ? Math.max(0, healthy) : healthy;
  const gauges = (isBad: (m: number) => boolean): InputSeries[] => [
    { series: selector(metric, TARGET), values: seriesNotation(timeline(length, isBad, badA, goodA)) },
    { series: selector(metric, SECOND_TARGET), values: seriesNotation(timeline(length, isBad, badB, goodA)) },
  ];
  const word = rule.comparison === 'above' ? 'above' : 'below';
  return [
    {
      name: `${rule.name} fires once ${metric} has been ${word} ${rule.threshold} for ${minutes(f)} (pending one evaluation earlier)`,
      interval: minutes(STEP_MINUTES),
      input_series: gauges((m) => m >= start),
      alert_rule_test: [check(rule, start - 1, false), check(rule, start + f - 1, false), check(rule, start + f, true), check(rule, start + 2 * f, true)],
    },
    {
      name: `${rule.name} does not fire at the threshold itself (${metric} = ${rule.threshold} everywhere, for ${minutes(length - 1)})`,
      interval: minutes(STEP_MINUTES),
      input_series: [
        { series: selector(metric, TARGET), values: seriesNotation(timeline(length, () => true, rule.threshold, rule.threshold)) },
        { series: selector(metric, SECOND_TARGET), values: seriesNotation(timeline(length, () => true, rule.threshold, rule.threshold)) },
      ],
      alert_rule_test: [check(rule, start + f, false), check(rule, length - 1, false)],
    },
    {
      name: `${rule.name} does not fire when ${metric} is ${word} ${rule.threshold} for one evaluation less than ${minutes(f)}`,
      interval: minutes(STEP_MINUTES),
      // Bad at evaluations start … start+f-1: active for f-1 minutes, then healthy again.
      input_series: gauges((m) => m >= start && m < start + f),
      alert_rule_test: [check(rule, start + f - 1, false), check(rule, start + f, false), check(rule, length - 1, false)],
    },
  ];
}

/**
 * Bandwidth: instances without sessions report 0 (not "no data"), and must not drag the mean
 * down: one idle instance beside one a little above the threshold (a plain mean would be below it
 * for the whole phase), then every instance idle (no data).
 */
function idleInstanceScenario(rule: TboAlertRule): RuleTestGroup {
  const { metric, crossing } = GAUGE_SIGNALS.bandwidthEfficiency;
  const f = forMinutes(rule);
  const [, healthyB] = crossing(rule).map(round);
  if (!(rule.comparison === 'below' && healthyB > rule.threshold && healthyB / 2 < rule.threshold)) throw new Error(`${rule.name}: the idle-instance scenario needs a value above ${rule.threshold} whose mean with 0 is below it`);
  const idleFrom = 2 * f + 2; // phase 1: minutes 0 … idleFrom-1, phase 2: every instance idle
  const length = idleFrom + 2 * f + 2;
  return {
    name: `${rule.name} does not fire for an idle instance reporting ${metric} 0 beside a healthy one at ${healthyB} (nor once every instance is idle)`,
    interval: minutes(STEP_MINUTES),
    input_series: [
      { series: selector(metric, TARGET), values: seriesNotation(timeline(length, () => true, 0, 0)) },
      { series: selector(metric, SECOND_TARGET), values: seriesNotation(timeline(length, (m) => m >= idleFrom, 0, healthyB)) },
    ],
    alert_rule_test: [check(rule, f, false), check(rule, f + 1, false), check(rule, idleFrom - 1, false), check(rule, length - 1, false)],
    promql_expr_test: [
      { expr: SIGNAL_PROMQL[rule.signal], eval_time: minutes(idleFrom - 1), exp_samples: [{ labels: '{}', value: healthyB }] },
      { expr: SIGNAL_PROMQL[rule.signal], eval_time: minutes(length - 1), exp_samples: [] },
    ],
  };
}

/** The outcomes of `tbo_cache_requests_total`; bypassed requests are not cacheable and do not count. */
const CACHE_OUTCOMES = ['hit', 'coalesced', 'miss', 'bypass'] as const;
type CacheOutcome = (typeof CACHE_OUTCOMES)[number];
/** Requests per minute of one instance, by cache outcome. */
type CacheTraffic = Readonly<Record<CacheOutcome, number>>;
/** The traffic of each instance ([TARGET, SECOND_TARGET]) in minute m (the increase from sample m-1 to m). */
type CachePhase = (minute: number) => readonly [CacheTraffic, CacheTraffic];
/**
 * Cacheable requests per minute and instance. A multiple of 15 per outcome makes every 10m rate
 * (count / 60) a multiple of 1/4, which floating point adds and divides exactly: the scenario at
 * the threshold really is at it.
 */
const CACHEABLE_PER_MINUTE = 300;
const CACHE_METRIC = 'tbo_cache_requests_total';

/** Traffic of one instance: `answered` hits and coalesced requests (half each), the rest misses. */
function cacheTraffic(answered: number, bypass = 0): CacheTraffic {
  if (!Number.isInteger(answered) || answered < 0 || answered > CACHEABLE_PER_MINUTE) throw new Error(`cache scenario: ${answered} answered requests of ${CACHEABLE_PER_MINUTE} per minute`);
  const hit = Math.ceil(answered / 2);
  return { hit, coalesced: answered - hit, miss: CACHEABLE_PER_MINUTE - answered, bypass };
}

/** The rate window of the cache hit rate signal, in minutes (one window, in whole minutes). */
function cacheWindowMinutes(rule: TboAlertRule): number {
  const windows = [...rule.promql.matchAll(/\[(\d+)m\]/g)].map((m) => Number(m[1]));
  if (!windows.length || windows.some((w) => w !== windows[0])) throw new Error(`${rule.name}: expected one rate window in whole minutes in ${rule.promql}`);
  return windows[0];
}

/** Cumulative counter series, from 0 at minute 0; an outcome that never happens on an instance is not exported. */
function cacheSeries(length: number, phase: CachePhase): InputSeries[] {
  return [TARGET, SECOND_TARGET].flatMap((target, i) =>
    CACHE_OUTCOMES.flatMap((result) => {
      const values = [0];
      for (let m = 1; m < length; m++) values.push(values[m - 1] + phase(m)[i][result]);
      return values[length - 1] === 0 ? [] : [{ series: selector(CACHE_METRIC, { ...target, result }), values: seriesNotation(values) }];
    }),
  );
}

/** The hit rate the rule sees at evaluation t: answered / cacheable over the increases of minutes t-w+1 … t (NaN when idle). */
function windowRatio(phase: CachePhase, w: number, t: number): number {
  let answered = 0;
  let cacheable = 0;
  for (let m = Math.max(1, t - w + 1); m <= t; m++) {
    for (const x of phase(m)) {
      answered += x.hit + x.coalesced;
      cacheable += x.hit + x.coalesced + x.miss;
    }
  }
  return t < 1 ? NaN : answered / cacheable;
}

/** The evaluations 0 … length-1 at which the condition holds, per the model (NaN never does). */
function holdsAt(rule: TboAlertRule, phase: CachePhase, w: number, length: number): number[] {
  const times: number[] = [];
  for (let t = 0; t < length; t++) {
    const r = windowRatio(phase, w, t);
    if (Math.abs(r - rule.threshold) < 1e-6) throw new Error(`${rule.name}: the modelled hit rate touches the threshold at ${t}m; pick other traffic`);
    if (r < rule.threshold) times.push(t);
  }
  return times;
}

const consecutive = (times: readonly number[]): boolean => times.every((t, i) => i === 0 || t === times[i - 1] + 1);
const pct = (x: number): string => `${round(x * 100)} %`;

function cacheScenarios(rule: TboAlertRule): RuleTestGroup[] {
  if (rule.comparison !== 'below') throw new Error(`${rule.name}: the cache scenarios expect a 'below' rule`);
  const f = forMinutes(rule);
  const w = cacheWindowMinutes(rule);
  const t = rule.threshold;
  const n = CACHEABLE_PER_MINUTE;
  const atThreshold = t * n;
  if (!Number.isInteger(atThreshold) || atThreshold % 30 !== 0) throw new Error(`${rule.name}: ${t} of ${n} requests per minute must be a multiple of 30 (15 hits + 15 coalesced) for an exact threshold test`);

  // Healthy: twice the threshold on both instances (bypassed requests beside).
  const healthy: [CacheTraffic, CacheTraffic] = [cacheTraffic(2 * atThreshold, n / 10), cacheTraffic(2 * atThreshold)];
  // Low: one instance well below, the other a little above; together below.
  const low: [CacheTraffic, CacheTraffic] = [cacheTraffic(Math.round(0.2 * atThreshold)), cacheTraffic(Math.round(1.2 * atThreshold))];
  const share = ([a, b]: readonly CacheTraffic[]) => (a.hit + a.coalesced + b.hit + b.coalesced) / (2 * n);
  if (!(share(low) < t && share(healthy) > t)) throw new Error(`${rule.name}: the low and healthy traffic must lie either side of ${t}`);
  const hits = (phase: readonly CacheTraffic[]) => `${pct(share(phase))} hits`;

  // Fires: healthy for one whole window, then low from minute `start` on.
  const start = w;
  const firesLength = start + 2 * w + f + 5;
  const fires: CachePhase = (m) => (m > start ? low : healthy);
  const firesAt = holdsAt(rule, fires, w, firesLength);
  const cross = firesAt[0];
  if (!(cross > start + 1 && consecutive(firesAt) && firesAt[firesAt.length - 1] === firesLength - 1 && cross + f < firesLength - 1)) throw new Error(`${rule.name}: unexpected fires timeline ${firesAt.join(',')}`);
  const firesChecks = [check(rule, start, false), ...(start + f < cross + f - 1 ? [check(rule, start + f, false)] : []), check(rule, cross + f - 1, false), check(rule, cross + f, true), check(rule, firesLength - 1, true)];

  // Shorter: a dip of `dip` minutes whose windowed hit rate is below the threshold at exactly f evaluations.
  let dip = 0;
  let dipAt: number[] = [];
  const dipLength = (d: number) => start + d + w + 5;
  const dipPhase = (d: number): CachePhase => (m) => (m > start && m <= start + d ? low : healthy);
  for (let d = 1; d <= 3 * (w + f); d++) {
    const at = holdsAt(rule, dipPhase(d), w, dipLength(d));
    if (at.length === f && consecutive(at)) {
      dip = d;
      dipAt = at;
      break;
    }
    if (at.length > f) break;
  }
  if (!dip) throw new Error(`${rule.name}: no dip keeps the ${w}m hit rate below ${t} for exactly ${f} evaluations`);

  // At the threshold on both instances; the bypassed requests would pull it below if they counted.
  const exact: [CacheTraffic, CacheTraffic] = [cacheTraffic(atThreshold, n / 2), cacheTraffic(atThreshold)];
  const exactLength = w + f + 5;

  // Idle: one instance fresh (no cache counters yet; its since-start gauge reads 0), the other
  // with counters from earlier traffic that no longer grow (since start: 1 % hits).
  const idleLength = w + f + 5;
  const earlier = { hit: n / 100, miss: n - n / 100 };
  const flat = (v: number) => seriesNotation(timeline(idleLength, () => true, v, v));
  const signal = SIGNAL_PROMQL[rule.signal];

  // Fresh collapse: nothing but misses from the first request (no hit or coalesced series exist).
  const onlyMisses: [CacheTraffic, CacheTraffic] = [cacheTraffic(0), cacheTraffic(0)];
  const missLength = w + f + 5;

  return [
    {
      name: `${rule.name} fires once the ${w}m hit rate has been below ${t} for ${minutes(f)} (${hits(healthy)}, then ${hits(low)} from minute ${start}: the ${w}m window falls below ${t} at minute ${cross}, pending until ${cross + f - 1}, firing at ${cross + f})`,
      interval: minutes(STEP_MINUTES),
      input_series: cacheSeries(firesLength, fires),
      alert_rule_test: firesChecks,
    },
    {
      name: `${rule.name} fires for a fresh service whose every cacheable request misses (no hit or coalesced series exported yet)`,
      interval: minutes(STEP_MINUTES),
      input_series: cacheSeries(missLength, () => onlyMisses),
      // rate() needs two samples: the condition first holds at 1m, so the alert fires at 1m + for.
      alert_rule_test: [check(rule, f, false), check(rule, 1 + f, true), check(rule, missLength - 1, true)],
    },
    {
      name: `${rule.name} does not fire at the threshold itself (exactly ${pct(t)} hits on every instance; bypassed requests do not count)`,
      interval: minutes(STEP_MINUTES),
      input_series: cacheSeries(exactLength, () => exact),
      alert_rule_test: [check(rule, 1 + f, false), check(rule, w + f, false), check(rule, exactLength - 1, false)],
      promql_expr_test: [{ expr: signal, eval_time: minutes(exactLength - 1), exp_samples: [{ labels: '{}', value: t }] }],
    },
    {
      name: `${rule.name} does not fire for a shorter dip (${dip} minutes of ${hits(low)}: the ${w}m hit rate is below ${t} at ${f} evaluations, ${dipAt[0]}m … ${dipAt[f - 1]}m, one short of firing)`,
      interval: minutes(STEP_MINUTES),
      input_series: cacheSeries(dipLength(dip), dipPhase(dip)),
      alert_rule_test: [check(rule, dipAt[f - 1], false), check(rule, dipAt[f - 1] + 1, false), check(rule, dipLength(dip) - 1, false)],
    },
    {
      name: `${rule.name} does not fire when the service is idle (no cacheable requests: the ${w}m rate is 0/0, no data; the since-start gauge would read ${pct(earlier.hit / n)})`,
      interval: minutes(STEP_MINUTES),
      input_series: [
        { series: selector('tbo_cache_hit_rate', TARGET), values: flat(0) },
        { series: selector(CACHE_METRIC, { ...SECOND_TARGET, result: 'hit' }), values: flat(earlier.hit) },
        { series: selector(CACHE_METRIC, { ...SECOND_TARGET, result: 'miss' }), values: flat(earlier.miss) },
        { series: selector('tbo_cache_hit_rate', SECOND_TARGET), values: flat(round(earlier.hit / n)) },
      ],
      alert_rule_test: [check(rule, 1 + f, false), check(rule, w + f + 1, false), check(rule, idleLength - 1, false)],
      promql_expr_test: [{ expr: rule.promql, eval_time: minutes(idleLength - 1), exp_samples: [] }],
    },
  ];
}

/** The histogram's bucket bounds, read from the service's own registry (as `le` label values). */
async function latencyBuckets(): Promise<number[]> {
  const metrics = new Metrics();
  metrics.request('POST', '/v1/messages', 200, 0.1);
  const { values } = await metrics.requestDuration.get();
  return values
    .filter((v) => v.metricName === 'tbo_request_duration_seconds_bucket')
    .map((v) => (v.labels as Readonly<Record<string, string | number | undefined>>).le)
    .map((le) => (le === '+Inf' ? Infinity : Number(le)));
}

const leLabel = (bound: number): string => (bound === Infinity ? '+Inf' : String(bound));

/** Observations of one minute: `count` requests that took `seconds` each. */
type Minute = readonly { readonly seconds: number; readonly count: number }[];

/** Cumulative `_bucket` series of one endpoint from its per-minute observations (minute i is the increase from sample i-1 to i). */
function histogramSeries(buckets: readonly number[], labels: Record<string, string>, perMinute: readonly Minute[]): InputSeries[] {
  return buckets.map((bound) => {
    const values = [0];
    for (const minute of perMinute) {
      const within = minute.filter((o) => o.seconds <= bound).reduce((s, o) => s + o.count, 0);
      values.push(values[values.length - 1] + within);
    }
    return { series: selector('tbo_request_duration_seconds_bucket', { ...labels, le: leLabel(bound) }), values: seriesNotation(values) };
  });
}

async function latencyScenarios(rule: TboAlertRule): Promise<RuleTestGroup[]> {
  const buckets = await latencyBuckets();
  const t = rule.threshold;
  const at = buckets.indexOf(t);
  if (at <= 0 || at + 1 >= buckets.length) throw new Error(`${rule.name}: threshold ${t} s must be an inner bucket bound of tbo_request_duration_seconds (${buckets.join(', ')}) for an exact boundary test`);
  const slow = buckets[at + 1]; // lands in the bucket just above the threshold
  const atThreshold = t; // lands in the bucket ending at the threshold
  const fast = buckets[Math.max(0, at - 3)];
  const f = forMinutes(rule);
  const length = 2 * f + 10;
  const tail = Math.round((1 - LATENCY_QUANTILE) * REQUESTS_PER_MINUTE); // 5 of 100 may be slow
  const constant = (minute: Minute): Minute[] => Array.from({ length: length - 1 }, () => minute);
  const post = (endpoint: string) => ({ ...TARGET, method: 'POST', endpoint });
  const get = (endpoint: string) => ({ ...TARGET, method: 'GET', endpoint });
  const half = REQUESTS_PER_MINUTE / 2;

  // Just over the tail: p95 interpolates into the bucket above the threshold.
  const over: Minute = [{ seconds: fast, count: half - (tail + 1) }, { seconds: slow, count: tail + 1 }];
  const overOther: Minute = [{ seconds: fast, count: half }];
  // Exactly the tail: the 95th percentile request sits at the threshold's bucket bound.
  const exact: Minute = [{ seconds: atThreshold, count: REQUESTS_PER_MINUTE - tail }, { seconds: slow, count: tail }];
  // Many fast probes that must not dilute the proxied requests' latency.
  const probes: Minute = [{ seconds: buckets[0], count: 20 * REQUESTS_PER_MINUTE }];
  // A dashboard polling /v1/performance, fast and often: under /v1/ too, but not proxied.
  const polling: Minute = [{ seconds: buckets[0], count: 20 * REQUESTS_PER_MINUTE }];
  // A one-minute stall (every request slow) inside the 5m rate window: above the threshold for 5
  // evaluations, i.e. active for 4 minutes, one short of `for`.
  const stallMinute = 5;
  const stall = Array.from({ length: length - 1 }, (_, i): Minute => (i + 1 === stallMinute ? [{ seconds: slow, count: REQUESTS_PER_MINUTE }] : [{ seconds: fast, count: REQUESTS_PER_MINUTE }]));
  if (f - 1 !== 4) throw new Error(`${rule.name}: the stall scenario assumes for 5m over a 5m rate window; adjust it for for ${minutes(f)}`);

  const p95 = SIGNAL_PROMQL.latencyP95;
  return [
    {
      name: `${rule.name} fires once proxied p95 has been above ${t} s for ${minutes(f)} (${tail + 1} of ${REQUESTS_PER_MINUTE} requests per minute take ${slow} s; fast /health probes do not mask them)`,
      interval: minutes(STEP_MINUTES),
      input_series: [
        ...histogramSeries(buckets, post('/v1/messages'), constant(over)),
        ...histogramSeries(buckets, post('/v1/chat/completions'), constant(overOther)),
        ...histogramSeries(buckets, get('/health'), constant(probes)),
      ],
      // rate() needs two samples: the condition first holds at 1m, so the alert fires at 1m + for.
      alert_rule_test: [check(rule, 1 + f - 1, false), check(rule, 1 + f, true), check(rule, length - 1, true)],
    },
    {
      name: `${rule.name} fires for slow proxied calls while /v1/performance is polled ${20 * REQUESTS_PER_MINUTE} times a minute in ${buckets[0]} s (the polling does not hide them)`,
      interval: minutes(STEP_MINUTES),
      input_series: [
        ...histogramSeries(buckets, post('/v1/messages'), constant(over)),
        ...histogramSeries(buckets, post('/v1/collaborate'), constant(overOther)),
        ...histogramSeries(buckets, get('/v1/performance'), constant(polling)),
      ],
      alert_rule_test: [check(rule, 1 + f - 1, false), check(rule, 1 + f, true), check(rule, length - 1, true)],
    },
    {
      name: `${rule.name} does not fire when proxied p95 is exactly ${t} s (${REQUESTS_PER_MINUTE - tail} of ${REQUESTS_PER_MINUTE} requests at ${t} s)`,
      interval: minutes(STEP_MINUTES),
      input_series: [...histogramSeries(buckets, post('/v1/messages'), constant(exact))],
      alert_rule_test: [check(rule, 1 + f, false), check(rule, length - 1, false)],
      promql_expr_test: [{ expr: p95, eval_time: minutes(2 * f), exp_samples: [{ labels: '{}', value: t }] }],
    },
    {
      name: `${rule.name} does not fire for a one-minute stall (p95 over 5m above ${t} s for 4 minutes, one short of ${minutes(f)})`,
      interval: minutes(STEP_MINUTES),
      input_series: [...histogramSeries(buckets, post('/v1/messages'), stall)],
      alert_rule_test: [check(rule, stallMinute + f - 1, false), check(rule, stallMinute + f, false), check(rule, length - 1, false)],
    },
    {
      name: `${rule.name} ignores endpoints that are not proxied (slow /health and /ready probes, slow /v1/performance reports)`,
      interval: minutes(STEP_MINUTES),
      input_series: [
        ...histogramSeries(buckets, get('/ready'), constant([{ seconds: slow, count: REQUESTS_PER_MINUTE }])),
        ...histogramSeries(buckets, get('/health'), constant([{ seconds: slow, count: REQUESTS_PER_MINUTE }])),
        ...histogramSeries(buckets, get('/v1/performance'), constant([{ seconds: slow, count: REQUESTS_PER_MINUTE }])),
      ],
      alert_rule_test: [check(rule, 1 + f, false), check(rule, length - 1, false)],
    },
  ];
}

/** Every scenario of every rule, in rule order. */
export async function ruleTestGroups(rules: readonly TboAlertRule[] = TBO_ALERT_RULES): Promise<RuleTestGroup[]> {
  const groups: RuleTestGroup[] = [];
  for (const rule of rules) {
    switch (rule.signal) {
      case 'latencyP95':
        groups.push(...(await latencyScenarios(rule)));
        break;
      case 'cacheHitRate':
        groups.push(...cacheScenarios(rule));
        break;
      case 'bandwidthEfficiency':
        groups.push(...gaugeScenarios(rule, rule.signal), idleInstanceScenario(rule));
        break;
      default:
        groups.push(...gaugeScenarios(rule, rule.signal));
    }
  }
  return groups;
}

/** The promtool test file for the rules file `rulesFile` (a path relative to the test file). */
export async function renderRuleTests(rulesFile: string, rules: readonly TboAlertRule[] = TBO_ALERT_RULES): Promise<string> {
  return stringify(
    { rule_files: [rulesFile], evaluation_interval: minutes(STEP_MINUTES), tests: await ruleTestGroups(rules) },
    { lineWidth: 0 },
  );
}
