/**
 * `npm run dr-drill`: the two disaster-recovery drills of RUNBOOK.md on loopback, one after the
 * other, then a table of their numbers (RPO, RTO, requests and failures, rollback time) and checks.
 * Exits 1 when a check failed or a drill could not run.
 *
 *   npm run dr-drill                     # the table
 *   npm run dr-drill -- --json out.json  # also every number as JSON
 *
 * Needs, from apt: redis-server, nginx (busybox optional: with it, the backup and restore scripts
 * run under busybox ash as in the redis:7-alpine image), and a current service build
 * (`npm run build --prefix service`) for the rollback drill's replicas.
 */
import { writeFileSync } from 'node:fs';
import { runRedisDrill, type RedisDrillResult } from './redis-drill';
import { checkRows, formatTable, redisRows, rollbackRows } from './report';
import { runRollbackDrill, type RollbackDrillResult } from './rollback-drill';

function jsonTarget(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--json');
  if (at < 0) return undefined;
  const file = argv[at + 1];
  if (!file || file.startsWith('--')) throw new Error('--json: give the file to write, e.g. --json dr-drill.json');
  return file;
}

async function main(): Promise<number> {
  const json = jsonTarget(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const rows: ReturnType<typeof redisRows> = [];
  const errors: string[] = [];
  let redis: RedisDrillResult | undefined;
  let rollback: RollbackDrillResult | undefined;

  process.stderr.write('drill 1: Redis backup, loss of the volume, restore\n');
  try {
    redis = await runRedisDrill({ log });
    rows.push(...redisRows(redis), ...checkRows('redis restore', redis.checks));
  } catch (err) {
    errors.push(`redis restore: ${(err as Error).message}`);
  }
  process.stderr.write('drill 2: a release that never becomes ready, and the rollback\n');
  try {
    rollback = await runRollbackDrill({ log });
    rows.push(...rollbackRows(rollback), ...checkRows('rollback', rollback.checks));
  } catch (err) {
    errors.push(`rollback: ${(err as Error).message}`);
  }

  process.stdout.write(`\n${formatTable(rows)}`);
  const failed = [...(redis?.checks ?? []), ...(rollback?.checks ?? [])].filter((c) => !c.ok).length;
  for (const error of errors) process.stdout.write(`\nDRILL FAILED TO RUN: ${error}\n`);
  process.stdout.write(`\n${failed + errors.length === 0 ? 'all checks passed' : `${failed} check(s) failed, ${errors.length} drill(s) did not run`}\n`);
  if (json) writeFileSync(json, `${JSON.stringify({ redis, rollback, errors }, null, 2)}\n`);
  return failed + errors.length === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`dr-drill: ${err.message}\n`);
    process.exitCode = 1;
  },
);
