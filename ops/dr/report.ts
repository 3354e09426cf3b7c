/** The drills' results as the small table `npm run dr-drill` (and test/dr) prints. */
import type { DrillCheck } from './checks';
import type { RedisDrillResult } from './redis-drill';
import type { RollbackDrillResult } from './rollback-drill';

type Row = readonly [drill: string, measure: string, value: string];

const s = (seconds: number) => `${seconds.toFixed(2)} s`;

/** Measured rows of drill 1 (Redis backup and restore). */
export function redisRows(r: RedisDrillResult): Row[] {
  const d = 'redis restore';
  return [
    [d, 'scripts ran under', r.shell],
    [d, 'backup (redis-cli --rdb, CronJob script)', `${r.backupFile}, ${r.backupBytes} bytes, ${s(r.backupSeconds)}`],
    [d, 'restore (init container script)', s(r.restoreSeconds)],
    [d, 'RPO: entries written after the backup, lost', `${r.lostEntries} of ${r.writtenAfterBackup}`],
    [d, 'RPO: backup -> kill', s(r.backupToKillSeconds)],
    [d, 'RTO: kill -> first cache hit', s(r.rtoSeconds)],
    [d, 'service reconnected (kill -> all connections ready)', s(r.reconnectSeconds)],
    [d, 'backed-up entries served as hits', `${r.hitsAfterRestore} of ${r.backedUp}, ${r.upstreamCallsForBackedUp} upstream calls`],
    [d, 'restored entries authentic (HMAC)', `${r.authenticEntries} of ${r.backedUp}`],
    [d, 'session turns restored', `${r.sessionTurnsRestored} of ${r.sessionTurnsBackedUp}`],
  ];
}

/** Measured rows of drill 2 (a release that never becomes ready, and the rollback). */
export function rollbackRows(r: RollbackDrillResult): Row[] {
  const d = 'rollback';
  return [
    [d, 'bad release', `${r.badVersion}: exit ${r.badVersionExitCode}, ${r.badVersionReason}`],
    [d, 'deploy gave up after', s(r.deployFailedSeconds)],
    [d, 'capacity before / degraded / after', `${r.capacity.before} / ${r.capacity.degraded} / ${r.capacity.after} of ${r.capacity.of}`],
    [d, 'rollback (known-good ready, in rotation)', s(r.rollbackSeconds)],
    [d, 'rollback mirrors', r.mirrors],
    [d, 'client requests / failed', `${r.requests} / ${r.failures}${r.failureSamples.length ? ` (${r.failureSamples.join('; ')})` : ''}`],
    [d, 'served while degraded / by the rolled-back replica', `${r.servedWhileDegraded} / ${r.servedByRolledBack}`],
  ];
}

/** One row per check: `ok` or `FAIL`, with what was seen. */
export function checkRows(drill: string, checks: readonly DrillCheck[]): Row[] {
  return checks.map((c) => [drill, `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`, c.detail]);
}

/** Rows as aligned text columns, with a header. */
export function formatTable(rows: readonly Row[]): string {
  const all: readonly Row[] = [['drill', 'measure', 'value'], ...rows];
  const widths = [0, 1].map((i) => Math.max(...all.map((row) => row[i].length)));
  return `${all.map((row) => `${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${row[2]}`.trimEnd()).join('\n')}\n`;
}
