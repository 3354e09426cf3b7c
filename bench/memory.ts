/**
 * TBO's resident memory with a full cache: a fresh process, warmed up without storing anything
 * (`Cache-Control: no-store`), then N distinct requests whose answers (~1.2 KB) are all cached.
 * VmRSS / VmHWM come from /proc/<pid>/status; heap and entry count from /metrics and /ready.
 */
import { procStatusBytes } from './cpu';
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
  const heapBefore = (await scrapeMetrics(tbo.url)).get('nodejs_heap_size_used_bytes') ?? NaN;
  const rssBaseline = procStatusBytes(tbo.pid, 'VmRSS');

  const insert = await fire({ url, headers, body: () => chatBody(longPrompt(tags.next())), amount: entries, connections: 4 });
  if (insert.errors + insert.non2xx > 0) problems.push(`insert: ${insert.errors} errors, ${insert.non2xx} non-2xx`);
  const rssAfter = procStatusBytes(tbo.pid, 'VmRSS');
  const hwm = procStatusBytes(tbo.pid, 'VmHWM');
  const after = await readiness(tbo.url);
  const heapAfter = (await scrapeMetrics(tbo.url)).get('nodejs_heap_size_used_bytes') ?? NaN;
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
