/**
 * TBO's resident memory with a full cache: a fresh process, warmed up without storing anything
 * (`Cache-Control: no-store`), then N distinct requests whose answers (~1.2 KB) are all cached.
 * VmRSS / VmHWM come from /proc/<pid>/status; heap and entry count from /metrics and /ready.
 * {@link measureRetained} repeats it on another fresh TBO with forced full GCs (through the inspector).
 */
import { procStatusBytes } from './cpu';
import { Inspector } from './inspector';
import { fire } from './load';
import { scrapeMetrics } from './metrics';
import type { TboProcess } from './processes';
import { CHAT_PATH, chatBody, longPrompt, type Tags } from './requests';

export interface MemoryResult {
  readonly entriesRequested: number;
  readonly entriesCached: number;
  readonly cacheCapacity: number;
  readonly answerBytes: number;
  readonly requestBytes: number;
  readonly rssBaselineBytes: number;
  readonly rssAfterBytes: number;
  readonly rssDeltaBytes: number;
  readonly rssDeltaPerEntryBytes: number;
  readonly vmHwmBytes: number;
  readonly heapUsedBaselineBytes: number;
  readonly heapUsedAfterBytes: number;
  readonly insertWallMs: number;
  readonly problems: readonly string[];
}

async function readiness(url: string): Promise<{ entries: number; capacity: number }> {
  const body = (await (await fetch(`${url}/ready`)).json()) as { cache?: { memory?: { entries?: number; capacity?: number } } };
  return { entries: body.cache?.memory?.entries ?? -1, capacity: body.cache?.memory?.capacity ?? -1 };
}

export async function measureMemory(tbo: TboProcess, headers: Record<string, string>, tags: Tags, entries: number, upstreamUrl: string): Promise<MemoryResult> {
  const problems: string[] = [];
  const url = `${tbo.url}${CHAT_PATH}`;
  const sampleBody = chatBody(longPrompt(tags.next()));
  const sample = await fetch(`${upstreamUrl}${CHAT_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }, body: sampleBody });
  const answerBytes = Buffer.byteLength(await sample.text());

  const warm = await fire({ url, headers: { ...headers, 'cache-control': 'no-store' }, body: () => chatBody(longPrompt(tags.next())), amount: 1000, connections: 4 });
  if (warm.errors + warm.non2xx > 0) problems.push(`warm-up: ${warm.errors} errors, ${warm.non2xx} non-2xx`);
  const before = await readiness(tbo.url);
  if (before.entries !== 0) problems.push(`cache held ${before.entries} entries after the no-store warm-up`);
  const heapBefore = (await scrapeMetrics(tbo.adminUrl)).get('nodejs_heap_size_used_bytes') ?? NaN;
  const rssBaseline = procStatusBytes(tbo.pid, 'VmRSS');

  const insert = await fire({ url, headers, body: () => chatBody(longPrompt(tags.next())), amount: entries, connections: 4 });
  if (insert.errors + insert.non2xx > 0) problems.push(`insert: ${insert.errors} errors, ${insert.non2xx} non-2xx`);
  const rssAfter = procStatusBytes(tbo.pid, 'VmRSS');
  const hwm = procStatusBytes(tbo.pid, 'VmHWM');
  const after = await readiness(tbo.url);
  const heapAfter = (await scrapeMetrics(tbo.adminUrl)).get('nodejs_heap_size_used_bytes') ?? NaN;
  if (after.entries !== entries) problems.push(`cache holds ${after.entries} entries, expected ${entries}`);

  return {
    entriesRequested: entries,
    entriesCached: after.entries,
    cacheCapacity: after.capacity,
    answerBytes,
    requestBytes: Buffer.byteLength(sampleBody),
    rssBaselineBytes: rssBaseline,
    rssAfterBytes: rssAfter,
    rssDeltaBytes: rssAfter - rssBaseline,
    rssDeltaPerEntryBytes: (rssAfter - rssBaseline) / entries,
    vmHwmBytes: hwm,
    heapUsedBaselineBytes: heapBefore,
    heapUsedAfterBytes: heapAfter,
    insertWallMs: insert.wallMs,
    problems,
  };
}

/** Memory that stays after full garbage collections (forced through the inspector), per cached entry. */
export interface RetainedMemoryResult {
  readonly entries: number;
  /** V8 heap used and VmRSS after a no-store warm-up (empty cache) and a forced full GC. */
  readonly heapUsedEmptyBytes: number;
  readonly rssEmptyBytes: number;
  /** The same with `entries` distinct answers cached. */
  readonly heapUsedFullBytes: number;
  readonly rssFullBytes: number;
  /** (heap full − heap empty) ÷ entries: what one cached answer really keeps alive. */
  readonly retainedPerEntryBytes: number;
  /** After another `entries` distinct requests (the LRU evicted every earlier entry): a leak shows as growth. */
  readonly heapUsedAfterEvictionBytes: number;
  readonly rssAfterEvictionBytes: number;
  readonly problems: readonly string[];
}

/**
 * On a fresh TBO started with `--inspect=127.0.0.1:0` (no session attached while load runs): heap and
 * RSS after forced full GCs with an empty cache, with `entries` cached, and after a second full set
 * evicted the first. Tells retained memory from garbage V8 has not collected yet.
 */
export async function measureRetained(tbo: TboProcess, inspector: string, headers: Record<string, string>, tags: Tags, entries: number): Promise<RetainedMemoryResult> {
  const problems: string[] = [];
  const url = `${tbo.url}${CHAT_PATH}`;
  const gc = async () => {
    const session = await Inspector.connect(inspector);
    try {
      const heap = await session.heapUsedAfterGc();
      return { heap, rss: procStatusBytes(tbo.pid, 'VmRSS') };
    } finally {
      session.close();
    }
  };
  const load = async (what: string, extra: Record<string, string>, amount: number) => {
    const r = await fire({ url, headers: { ...headers, ...extra }, body: () => chatBody(longPrompt(tags.next())), amount, connections: 4 });
    if (r.errors + r.non2xx > 0) problems.push(`${what}: ${r.errors} errors, ${r.non2xx} non-2xx`);
  };
  await load('warm-up', { 'cache-control': 'no-store' }, 1000);
  const empty = await gc();
  await load('insert', {}, entries);
  const full = await gc();
  const cached = (await readiness(tbo.url)).entries;
  if (cached !== entries) problems.push(`cache holds ${cached} entries, expected ${entries}`);
  await load('evict', {}, entries);
  const evicted = await gc();
  return {
    entries,
    heapUsedEmptyBytes: empty.heap,
    rssEmptyBytes: empty.rss,
    heapUsedFullBytes: full.heap,
    rssFullBytes: full.rss,
    retainedPerEntryBytes: (full.heap - empty.heap) / entries,
    heapUsedAfterEvictionBytes: evicted.heap,
    rssAfterEvictionBytes: evicted.rss,
    problems,
  };
}
