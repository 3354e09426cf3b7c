/**
 * `npx tsx bench/cardinality-run.ts [N]`: the bounded-state measurement alone (also part of
 * `npm run bench`), with N distinct model names, session ids and request ids (default 50 000).
 * Prints the table; writes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARDINALITY_CONNECTIONS, CARDINALITY_DISTINCT, cardinalityEnv, measureCardinality } from './cardinality';
import { inspectorUrl } from './inspector';
import { installCleanupHandlers, runMain, spawnBenchServer, spawnTbo, stopAll } from './processes';
import { cardinalitySummary, renderCardinality } from './report';
import { Tags } from './requests';

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<number> {
  installCleanupHandlers('bench:cardinality');
  const distinct = Number(process.argv[2] ?? CARDINALITY_DISTINCT);
  if (!Number.isInteger(distinct) || distinct < 1) throw new Error(`N must be a positive integer, got ${process.argv[2]}`);
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-cardinality-'));
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const upstream = await spawnBenchServer('upstream', 'upstream-server.ts');
    const { env, tenantKey, adminKey } = cardinalityEnv(upstream.url, configFile);
    const tbo = await spawnTbo('tbo-cardinality', env, join(tmp, 'tbo-cardinality.log'), { nodeArgs: ['--inspect=127.0.0.1:0'] });
    const result = await measureCardinality({ tbo, inspector: inspectorUrl(tbo.stderr()), upstream, tenantKey, adminKey, tags: new Tags(), distinct, connections: CARDINALITY_CONNECTIONS, log });
    console.log(renderCardinality(result));
    console.log(cardinalitySummary(result));
    for (const p of result.problems) console.log(`INVALID: ${p}`);
    return result.problems.length ? 1 : 0;
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench:cardinality', main);
