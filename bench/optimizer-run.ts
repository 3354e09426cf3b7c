/** `tsx bench/optimizer-run.ts`: the optimizer scenarios alone (also part of `npm run bench`). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optimizerTables, runOptimizerBench } from './optimizer';
import { installCleanupHandlers, runMain, stopAll } from './processes';

async function main(): Promise<number> {
  installCleanupHandlers('bench:optimizer');
  const logDir = mkdtempSync(join(tmpdir(), 'tbo-bench-optimizer-'));
  try {
    const results = await runOptimizerBench(logDir);
    console.log(optimizerTables(results));
    writeFileSync(join(__dirname, 'results', 'optimizer-latest.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), ...results }, null, 2)}\n`);
    return 0;
  } finally {
    await stopAll();
  }
}

runMain('bench:optimizer', main);
