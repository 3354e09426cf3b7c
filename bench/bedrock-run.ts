/**
 * `npx tsx bench/bedrock-run.ts [N]`: TBO's CPU per request for a streamed `/v1/messages` cache
 * miss answered through Amazon Bedrock next to the same miss answered by the Anthropic API, at 1
 * connection, interleaved in rounds as in `npm run bench` (which measures these two scenarios
 * among all the others), N measured requests per scenario (default 5 000). Needs a built service
 * (`npm run build --prefix service`). Prints the tables; writes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bedrockEndpointOf, bedrockScenarios, bedrockTboEnv, primeBedrock, renderBedrockCpu } from './bedrock';
import { runScenarios } from './measure';
import { cacheCounts } from './metrics';
import { installCleanupHandlers, runMain, spawnBenchServer, spawnTbo, stopAll } from './processes';
import { renderScenarios } from './report';
import { Tags } from './requests';

const WARMUP = 1000;
const ROUNDS = 5;

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<number> {
  installCleanupHandlers('bench:bedrock');
  const measure = Number(process.argv[2] ?? 5_000);
  if (!Number.isInteger(measure) || measure < ROUNDS) throw new Error(`N must be an integer ≥ ${ROUNDS}, got ${process.argv[2]}`);
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-bedrock-'));
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const upstream = await spawnBenchServer('upstream', 'bedrock-upstream-server.ts');
    const tbo = await spawnTbo('tbo-messages', bedrockTboEnv(upstream.url, bedrockEndpointOf(upstream), configFile), join(tmp, 'tbo-messages.log'));
    log(`processes up: fake Anthropic API + Bedrock ${upstream.pid}, tbo ${tbo.pid}`);
    const tags = new Tags();
    await primeBedrock(tbo, upstream, tags);
    const before = await cacheCounts(tbo.adminUrl);
    const scenarios = bedrockScenarios(tbo, tags);
    const { results } = await runScenarios(scenarios, upstream, { warmup: WARMUP, measure, rounds: ROUNDS, minRounds: ROUNDS, budgetMs: Infinity, startedAt: began, log });
    const after = await cacheCounts(tbo.adminUrl);
    const problems = results.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`));
    const expected = results.reduce((a, r) => a + WARMUP + r.requests, 0);
    if (after.miss - before.miss !== expected || after.hit - before.hit !== 0) {
      problems.push(`/metrics counted ${after.miss - before.miss} misses and ${after.hit - before.hit} hits, expected ${expected} and 0`);
    }
    console.log(renderBedrockCpu(results));
    console.log('');
    console.log(renderScenarios(results, new Map()));
    for (const p of problems) console.log(`INVALID: ${p}`);
    return problems.length ? 1 : 0;
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench:bedrock', main);
