/**
 * Reads TBO's Prometheus text exposition (`GET /metrics`). It lives on the admin listener
 * (`TboProcess.adminUrl`); the public port answers 404 there.
 */

/** The raw exposition text; throws unless /metrics answers 200. */
export async function metricsText(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  const text = await res.text();
  if (!res.ok) throw new Error(`${baseUrl}/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/** Sample lines of an exposition (one per series): sample name with labels -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Sample name with labels -> value. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  return parseMetrics(await metricsText(baseUrl));
}

/** Distinct values of one label over all series (e.g. every `model="…"`). */
export function labelValues(samples: ReadonlyMap<string, number>, label: string): Set<string> {
  const pattern = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`);
  const values = new Set<string>();
  for (const key of samples.keys()) {
    const match = pattern.exec(key);
    if (match) values.add(match[1]);
  }
  return values;
}

/** `tbo_cache_requests_total{result="…"}` for hit, miss, coalesced and bypass. */
export async function cacheCounts(baseUrl: string): Promise<Record<'hit' | 'miss' | 'coalesced' | 'bypass', number>> {
  const m = await scrapeMetrics(baseUrl);
  const get = (result: string) => m.get(`tbo_cache_requests_total{result="${result}"}`) ?? 0;
  return { hit: get('hit'), miss: get('miss'), coalesced: get('coalesced'), bypass: get('bypass') };
}
