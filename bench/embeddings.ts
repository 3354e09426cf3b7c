/**
 * `POST /v1/embeddings` next to `POST /v1/chat/completions`: TBO caches embeddings per tenant like
 * chat, so its cache-miss and cache-hit CPU per request are measured the same way, as scenarios
 * of the same interleaved rounds (bench/measure.ts).
 */
import type { Scenario, ScenarioResult } from './measure';
import type { TboProcess } from './processes';
import type { Tags } from './requests';
import { fmt, renderTable } from './table';
import { post } from './tbo-env';

export const EMBEDDINGS_PATH = '/v1/embeddings';

/** An OpenAI embedding model; TBO forwards it to the OpenAI upstream. */
export const EMBEDDINGS_MODEL = 'text-embedding-3-small';

/**
 * One embeddings request as the OpenAI SDK sends it (`encoding_format: base64`, its default), a
 * ~150-character chunk of a document, as a RAG app embeds it.
 */
export function embeddingsBody(tag: string): string {
  return JSON.stringify({
    model: EMBEDDINGS_MODEL,
    input: `Ticket ${tag}: the deploy pipeline failed at the integration stage right after the dependency upgrade; contract tests time out on payments.`,
    encoding_format: 'base64',
  });
}

/** The fixed body of the embeddings hit scenario. */
export const EMBEDDINGS_HIT_BODY = embeddingsBody('EMB-HIT-000000001');

/** A miss, then a hit, for the fixed body; a miss for a distinct one. Throws if TBO disagrees. */
export async function primeEmbeddings(tbo: TboProcess, headers: Record<string, string>, tags: Tags): Promise<void> {
  const expect = async (body: string, cache: string) => {
    const r = await post(`${tbo.url}${EMBEDDINGS_PATH}`, headers, body);
    const data = r.status === 200 ? (JSON.parse(r.text) as { data?: { embedding?: unknown }[] }).data : undefined;
    if (r.status !== 200 || r.cache !== cache || typeof data?.[0]?.embedding !== 'string') {
      throw new Error(`${tbo.name}: ${EMBEDDINGS_PATH}: expected 200 ${cache} with a base64 embedding, got ${r.status} ${r.cache}: ${r.text.slice(0, 300)}`);
    }
  };
  await expect(EMBEDDINGS_HIT_BODY, 'miss');
  await expect(EMBEDDINGS_HIT_BODY, 'hit');
  await expect(embeddingsBody(tags.next()), 'miss');
}

/** Scenario ids, next to the chat ones (`tbo-miss`, `tbo-hit`). */
export const EMBEDDINGS_SCENARIOS = { miss: 'tbo-emb-miss', hit: 'tbo-emb-hit' } as const;

/** The embeddings miss and hit scenarios against one TBO (prime it first: {@link primeEmbeddings}). */
export function embeddingsScenarios(tbo: TboProcess, headers: Record<string, string>, tags: Tags, extra: Partial<Pick<Scenario, 'connections' | 'measure'>> = {}): Scenario[] {
  const url = `${tbo.url}${EMBEDDINGS_PATH}`;
  return [
    { id: EMBEDDINGS_SCENARIOS.miss, label: `TBO cache miss, ${EMBEDDINGS_PATH} (distinct inputs)`, url, headers, body: () => embeddingsBody(tags.next()), server: tbo, upstreamCallsPerRequest: 1, ...extra },
    { id: EMBEDDINGS_SCENARIOS.hit, label: `TBO cache hit, ${EMBEDDINGS_PATH}`, url, headers, body: EMBEDDINGS_HIT_BODY, server: tbo, upstreamCallsPerRequest: 0, ...extra },
  ];
}

/** CPU per request of TBO, messages (chat completions) next to embeddings, miss and hit. */
export function renderEmbeddingsCpu(scenarios: readonly Pick<ScenarioResult, 'id' | 'requests' | 'serverCpuUsPerRequest' | 'serverSystemUsPerRequest' | 'serverCpuUsRange' | 'latency'>[]): string {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const rows = [
    ['chat completions, cache miss', 'tbo-miss'],
    [`embeddings, cache miss`, EMBEDDINGS_SCENARIOS.miss],
    ['chat completions, cache hit', 'tbo-hit'],
    [`embeddings, cache hit`, EMBEDDINGS_SCENARIOS.hit],
  ].flatMap(([label, id]) => {
    const s = byId.get(id);
    if (!s) return [];
    return [[label, id, String(s.requests), fmt(s.serverCpuUsPerRequest, 1), `${fmt(s.serverCpuUsPerRequest - s.serverSystemUsPerRequest, 0)} / ${fmt(s.serverSystemUsPerRequest, 0)}`, `${fmt(s.serverCpuUsRange[0], 0)}–${fmt(s.serverCpuUsRange[1], 0)}`, fmt(s.latency.meanMs, 3), fmt(s.latency.p99Ms, 3)]];
  });
  return renderTable(['TBO, 1 connection', 'scenario', 'requests', 'CPU µs/req', 'user / sys', 'per chunk', 'mean ms', 'p99 ms'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']);
}

/** The BENCHMARKS.md section (empty for runs made before the embeddings scenarios existed). */
export function embeddingsMarkdown(scenarios: readonly ScenarioResult[]): string[] {
  if (!scenarios.some((s) => s.id === EMBEDDINGS_SCENARIOS.miss)) return [];
  return [
    '## Embeddings next to messages',
    '',
    `TBO's CPU time per request for \`POST ${EMBEDDINGS_PATH}\` (${EMBEDDINGS_MODEL}, one ~150-character input, \`encoding_format: base64\` as the OpenAI SDK sends it;`,
    'cached per tenant like chat) next to chat completions, measured in the same interleaved rounds, on the same TBO process (log info).',
    '',
    '```',
    renderEmbeddingsCpu(scenarios),
    '```',
    '',
  ];
}
