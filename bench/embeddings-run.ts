/**
 * `npx tsx bench/embeddings-run.ts [N]`: TBO's CPU per request for `/v1/embeddings` next to chat
 * completions, cache miss and hit, at 1 connection, interleaved in the same rounds as
 * `npm run bench` (which measures these scenarios among all the others), N measured requests per
 * scenario (default 10 000). Prints the tables; writes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddingsScenarios, primeEmbeddings, renderEmbeddingsCpu } from './embeddings';
import { runScenarios, type Scenario } from './measure';
import { cacheCounts } from './metrics';
import { installCleanupHandlers, runMain, spawnBenchServer, spawnTbo, stopAll } from './processes';
import { renderScenarios } from './report';
import { CHAT_PATH, chatBody, smallPrompt, Tags } from './requests';
import { primeAndCheck, TBO_KEY, tboEnv } from './tbo-env';

const WARMUP = 1000;
const ROUNDS = 5;

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<number> {
  installCleanupHandlers('bench:embeddings');
  const measure = Number(process.argv[2] ?? 10_000);
  if (!Number.isInteger(measure) || measure < ROUNDS) throw new Error(`N must be an integer ≥ ${ROUNDS}, got ${process.argv[2]}`);
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-embeddings-'));
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const tags = new Tags();
    const upstream = await spawnBenchServer('upstream', 'upstream-server.ts');
    const tbo = await spawnTbo('tbo', tboEnv(upstream.url, configFile), join(tmp, 'tbo.log'));
    const headers = { authorization: `Bearer ${TBO_KEY}` };
    const hitBody = chatBody(smallPrompt('HIT-000000001'));
    await primeAndCheck(tbo, headers, hitBody, tags);
    await primeEmbeddings(tbo, headers, tags);
    const before = await cacheCounts(tbo.adminUrl);
    const distinct = () => chatBody(smallPrompt(tags.next()));
    const scenarios: Scenario[] = [
      { id: 'tbo-miss', label: 'TBO cache miss, log info (default)', url: `${tbo.url}${CHAT_PATH}`, headers, body: distinct, server: tbo, upstreamCallsPerRequest: 1 },
      { id: 'tbo-hit', label: 'TBO cache hit, log info (default)', url: `${tbo.url}${CHAT_PATH}`, headers, body: hitBody, server: tbo, upstreamCallsPerRequest: 0 },
      ...embeddingsScenarios(tbo, headers, tags),
    ];
    const { results } = await runScenarios(scenarios, upstream, { warmup: WARMUP, measure, rounds: ROUNDS, minRounds: ROUNDS, budgetMs: Infinity, startedAt: began, log });
    const after = await cacheCounts(tbo.adminUrl);
    const problems = results.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`));
    const expectOf = (calls: 0 | 1) => results.filter((r) => r.upstreamCallsPerRequest === calls).reduce((a, r) => a + WARMUP + r.requests, 0);
    if (after.miss - before.miss !== expectOf(1) || after.hit - before.hit !== expectOf(0)) {
      problems.push(`/metrics counted ${after.miss - before.miss} misses and ${after.hit - before.hit} hits, expected ${expectOf(1)} and ${expectOf(0)}`);
    }
    console.log(renderEmbeddingsCpu(results));
    console.log('');
    console.log(renderScenarios(results, new Map()));
    for (const p of problems) console.log(`INVALID: ${p}`);
    return problems.length ? 1 : 0;
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench:embeddings', main);
