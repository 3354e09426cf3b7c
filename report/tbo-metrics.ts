/** What TBO says about the run on `GET /metrics` (Prometheus text), summed over labels. */
import { scrapeMetrics } from '../bench/metrics';

export interface TboCounters {
  readonly tokensInput: number;
  readonly tokensOutput: number;
  readonly costUsd: number;
  readonly costSavedUsd: number;
  /** tbo_cache_requests_total by result. */
  readonly cache: Readonly<Record<string, number>>;
  /** tbo_upstream_duration_seconds_count by outcome ("ok", "529", …): upstream calls as TBO counts them. */
  readonly upstreamCalls: Readonly<Record<string, number>>;
  /** tbo_requests_total{endpoint="/v1/collaborate"} by status. */
  readonly collaborateResponses: Readonly<Record<string, number>>;
}

function sumWhere(samples: Map<string, number>, name: string, ...labels: readonly string[]): number {
  let total = 0;
  for (const [key, value] of samples) {
    if (key.startsWith(`${name}{`) && labels.every((l) => key.includes(l))) total += value;
  }
  return total;
}

function byLabel(samples: Map<string, number>, name: string, label: string, ...filters: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const pattern = new RegExp(`[{,]${label}="([^"]*)"`);
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`) || !filters.every((f) => key.includes(f))) continue;
    const match = pattern.exec(key);
    if (match) out[match[1]] = (out[match[1]] ?? 0) + value;
  }
  return out;
}

export async function readTboCounters(baseUrl: string): Promise<TboCounters> {
  const m = await scrapeMetrics(baseUrl);
  return {
    tokensInput: sumWhere(m, 'tbo_tokens_total', 'direction="input"'),
    tokensOutput: sumWhere(m, 'tbo_tokens_total', 'direction="output"'),
    costUsd: sumWhere(m, 'tbo_cost_usd_total'),
    costSavedUsd: sumWhere(m, 'tbo_cost_saved_usd_total'),
    cache: byLabel(m, 'tbo_cache_requests_total', 'result'),
    upstreamCalls: byLabel(m, 'tbo_upstream_duration_seconds_count', 'outcome'),
    collaborateResponses: byLabel(m, 'tbo_requests_total', 'status', 'endpoint="/v1/collaborate"'),
  };
}
