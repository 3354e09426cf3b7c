/**
 * `npx tsx bench/cold-start-run.ts [N] [--service DIR]`: the cold-start measurement alone (also part
 * of `npm run bench`), N runs (default 20) of the image's start command to a 200 on /ready, for this
 * checkout's service/ or another service directory with its Dockerfile and a built dist/ (another
 * build, to compare). Prints the table; writes nothing. Needs the built service (`npm run build
 * --prefix service`).
 */
import { resolve } from 'node:path';
import { COLD_START_RUNS, coldStartSummary, measureColdStart, renderColdStart } from './cold-start';
import { installCleanupHandlers, runMain, stopAll } from './processes';

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<number> {
  installCleanupHandlers('bench:cold-start');
  const args = process.argv.slice(2);
  const at = args.indexOf('--service');
  const serviceDir = at >= 0 ? resolve(args.splice(at, 2)[1] ?? '') : undefined;
  const runs = Number(args[0] ?? COLD_START_RUNS);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`N must be a positive integer, got ${args[0]}`);
  try {
    const result = await measureColdStart({ runs, serviceDir, log });
    console.log(renderColdStart(result));
    console.log(coldStartSummary(result));
    for (const p of result.problems) console.log(`INVALID: ${p}`);
    return result.problems.length ? 1 : 0;
  } finally {
    await stopAll();
  }
}

runMain('bench:cold-start', main);
