/**
 * `npx tsx bench/tracing-run.ts [N] [--previous=<dist/main.js>[,<label>]] [--print-only]`: the tracing
 * group of `npm run bench` alone (TBO's CPU per request, cache miss and hit, tracing off / on at 100 % /
 * on at 1 %), N measured requests per scenario (default 5 000); with `--previous`, another build (e.g.
 * the commit before tracing) is measured in the same rounds, for a paired comparison with tracing
 * off. Prints the table and writes bench/results/tracing-latest.json; unless
 * `--print-only`, also puts the group into bench/results/latest.json (the full run's result, whose
 * other figures stay as they were) and re-renders BENCHMARKS.md from it with the usual writer.
 * Needs a built service (`npm run build --prefix service`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCleanupHandlers, ROOT, runMain, stopAll } from './processes';
import { Tags } from './requests';
import { offVersusPrevious, previousFigures, runTracingBench, tracingTable, type WithTracing } from './tracing';
import { BENCHMARKS_PATH, LATEST_PATH, writeBenchmarks } from './write-benchmarks';

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<number> {
  installCleanupHandlers('bench:tracing');
  const args = process.argv.slice(2);
  const printOnly = args.includes('--print-only');
  const measure = Number(args.find((a) => !a.startsWith('--')) ?? 5000);
  if (!Number.isInteger(measure) || measure < 5) throw new Error(`N must be an integer ≥ 5, got ${args.join(' ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-tracing-'));
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const previousArg = args.find((a) => a.startsWith('--previous='))?.slice('--previous='.length);
    const [previousMain, previousLabel] = previousArg?.split(',') ?? [];
    if (previousMain && !existsSync(previousMain)) throw new Error(`--previous: no built service at ${previousMain}`);
    const tracing = await runTracingBench({ logDir: tmp, configFile, tags: new Tags(), log, previous: previousFigures(LATEST_PATH), measure, previousMain, previousLabel });
    console.log(tracingTable(tracing));
    console.log(offVersusPrevious(tracing));
    for (const p of tracing.problems) console.log(`INVALID: ${p}`);
    writeFileSync(join(ROOT, 'bench', 'results', 'tracing-latest.json'), `${JSON.stringify(tracing, null, 2)}\n`);
    log('saved bench/results/tracing-latest.json');
    if (printOnly) return tracing.problems.length ? 1 : 0;
    if (tracing.problems.length) {
      log('BENCHMARKS.md left as it was: this run is invalid');
      return 1;
    }
    const latest = JSON.parse(readFileSync(LATEST_PATH, 'utf8')) as WithTracing;
    if (!latest.valid) {
      log(`BENCHMARKS.md left as it was: ${LATEST_PATH} is an invalid run`);
      return 1;
    }
    const merged: WithTracing = { ...latest, tracing };
    writeFileSync(LATEST_PATH, `${JSON.stringify(merged, null, 2)}\n`);
    writeBenchmarks(merged, BENCHMARKS_PATH);
    log('added the group to bench/results/latest.json and re-rendered BENCHMARKS.md');
    return 0;
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench:tracing', main);
