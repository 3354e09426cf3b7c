/**
 * `npx tsx bench/big-bodies-run.ts`: RSS with 100 concurrent ~8 MB image bodies, with a body
 * budget large enough for all and with a 1 GiB instance's default budget (bench/big-bodies.ts).
 * Prints the table; writes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderBigBodies, runBigBodiesBench } from './big-bodies';
import { installCleanupHandlers, runMain, stopAll } from './processes';

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<number> {
  installCleanupHandlers('bench:big-bodies');
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-big-bodies-'));
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const result = await runBigBodiesBench(tmp, configFile, log);
    console.log(renderBigBodies(result));
    for (const p of result.problems) console.log(`INVALID: ${p}`);
    return result.problems.length ? 1 : 0;
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench:big-bodies', main);
