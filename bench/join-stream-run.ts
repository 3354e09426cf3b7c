/**
 * `npx tsx bench/join-stream-run.ts [runs] [--main=<another build's dist/main.js>]`: the
 * join-a-running-call first-byte step alone (also part of `npm run bench`). With `--main` it measures
 * that build and writes nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinStreamTable, runJoinStreamBench } from './join-stream';
import { installCleanupHandlers, runMain, stopAll } from './processes';

async function main(): Promise<number> {
  installCleanupHandlers('bench:join-stream');
  const logDir = mkdtempSync(join(tmpdir(), 'tbo-bench-join-'));
  try {
    const args = process.argv.slice(2);
    const main = args.find((a) => a.startsWith('--main='))?.slice('--main='.length);
    const runsArg = args.find((a) => !a.startsWith('--'));
    const results = await runJoinStreamBench(logDir, { runs: runsArg ? Number(runsArg) : undefined, main, log: (line) => console.log(line) });
    console.log(joinStreamTable(results));
    for (const p of results.problems) console.error(`problem: ${p}`);
    if (main) return 0;
    writeFileSync(join(__dirname, 'results', 'join-stream-latest.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), ...results }, null, 2)}\n`);
    return results.problems.length === 0 ? 0 : 1;
  } finally {
    await stopAll();
  }
}

runMain('bench:join-stream', main);
