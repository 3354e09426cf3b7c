/** Reads TBO's Prometheus text exposition (GET /metrics): sample name with labels -> value. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** `tbo_cache_requests_total{result="…"}` for hit, miss, coalesced and bypass. */
export async function cacheCounts(baseUrl: string): Promise<Record<'hit' | 'miss' | 'coalesced' | 'bypass', number>> {
  const m = await scrapeMetrics(baseUrl);
  const get = (result: string) => m.get(`tbo_cache_requests_total{result="${result}"}`) ?? 0;
  return { hit: get('hit'), miss: get('miss'), coalesced: get('coalesced'), bypass: get('bypass') };
}
