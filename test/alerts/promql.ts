/**
 * Just enough PromQL and Prometheus text-format parsing to check which metric names and labels
 * a query uses, and which ones a `/metrics` page exports.
 */

/** Functions, aggregations and keywords: every identifier of a query that is not a metric name. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const IDENTIFIER = /[A-Za-z_:][A-Za-z0-9_:]*/g;
const SELECTOR = /([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g;
const MATCHER_LABEL = /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"/g;
const histogramSuffix = /_(bucket|sum|count)$/;

/** The metric names a PromQL expression reads (Grafana `$variables` allowed). */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ').replace(GROUPING, ' ').replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(IDENTIFIER)) {
    const before = s[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // the exponent of 1e3 and the like
    if (s.slice(m.index + m[0].length).trimStart().startsWith('(')) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** A Grafana `label_values(selector, label)` variable query as its PromQL selector and label. */
export function labelValuesQuery(query: string): { selector: string; label: string } {
  const m = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query.trim());
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  return { selector: m[1], label: m[2] };
}

/** Label names a query matches on, per metric (`metric{label="…"}`). */
export function matcherLabels(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(SELECTOR)) out.push({ metric: m[1], labels: [...m[2].matchAll(MATCHER_LABEL)].map((l) => l[1]) });
  return out;
}

/** Label names a query groups by (`by (…)`, `without (…)`, `on (…)`, …). */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(GROUPING)].flatMap((m) => m[2].split(',').map((l) => l.trim()).filter(Boolean));
}

/** One `/metrics` page: every sample name and the label names seen on it, plus the declared types. */
export interface Exposition {
  /** Sample name (`tbo_request_duration_seconds_bucket`, …) → label names seen on its samples. */
  readonly samples: ReadonlyMap<string, ReadonlySet<string>>;
  /** Metric family → type from its `# TYPE` line. */
  readonly types: ReadonlyMap<string, string>;
}

export function parseExposition(text: string): Exposition {
  const samples = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels = samples.get(m[1]) ?? new Set<string>();
    for (const l of (m[3] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) labels.add(l[1]);
    samples.set(m[1], labels);
  }
  return { samples, types };
}

/** The metric family a sample name belongs to (`x_bucket` of histogram `x` → `x`). */
export function familyOf(sample: string, types: ReadonlyMap<string, string>): string {
  const base = sample.replace(histogramSuffix, '');
  return base !== sample && (types.get(base) === 'histogram' || types.get(base) === 'summary') ? base : sample;
}
