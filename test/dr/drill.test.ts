/**
 * The disaster-recovery drills of `npm run dr-drill` (ops/dr), run by CI: (1) Redis backup with the
 * CronJob's script, loss of the volume, restore with the init container's script, and the same
 * service serving the backed-up entries as hits again; (2) a release that never becomes ready
 * rolled onto one of three replicas behind nginx under steady traffic, then rolled back. Prints
 * each drill's table (RPO, RTO, requests, failures, rollback time) and asserts its checks.
 *
 * One drill after the other, as `npm run dr-drill` runs them: run together they would measure each
 * other (and the service's Redis commands time out after 250 ms on a starved machine). Needs, from
 * apt: redis-server, nginx (busybox optional, see ops/dr/shell.ts); and a current service build.
 */
import { runRedisDrill, type RedisDrillResult } from '../../ops/dr/redis-drill';
import { checkRows, formatTable, redisRows, rollbackRows } from '../../ops/dr/report';
import { PHASE_REQUESTS, runRollbackDrill, type RollbackDrillResult } from '../../ops/dr/rollback-drill';

let redis: PromiseSettledResult<RedisDrillResult>;
let rollback: PromiseSettledResult<RollbackDrillResult>;

beforeAll(async () => {
  [redis] = await Promise.allSettled([runRedisDrill()]);
  [rollback] = await Promise.allSettled([runRollbackDrill()]);
}, 90_000);

function resultOf<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === 'rejected') throw settled.reason;
  return settled.value;
}

describe('drill 1: Redis backup, loss of the volume, restore', () => {
  it('serves every backed-up entry as an authentic hit, loses only what came after the backup, and prints RPO and RTO', () => {
    const r = resultOf(redis);
    process.stdout.write(`\n${formatTable([...redisRows(r), ...checkRows('redis restore', r.checks)])}`);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.hitsAfterRestore).toBe(r.backedUp);
    expect(r.upstreamCallsForBackedUp).toBe(0);
    expect(r.authenticEntries).toBe(r.backedUp);
    expect(r.lostEntries).toBe(r.writtenAfterBackup);
    expect(r.sessionTurnsRestored).toBe(r.sessionTurnsBackedUp);
    expect(r.backupFile).toMatch(/^tbo-\d{8}T\d{6}Z\.rdb$/);
    expect(r.rtoSeconds).toBeGreaterThanOrEqual(r.restoreSeconds);
    expect(r.rtoSeconds).toBeLessThan(20);
  });
});

describe('drill 2: a release that never becomes ready, and the rollback', () => {
  it('keeps every request on the good replicas, and the rollback restores full capacity', () => {
    const r = resultOf(rollback);
    process.stdout.write(`\n${formatTable([...rollbackRows(r), ...checkRows('rollback', r.checks)])}`);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.failures).toBe(0);
    expect(r.requests).toBeGreaterThanOrEqual(4 * PHASE_REQUESTS);
    expect(r.servedWhileDegraded).toBeGreaterThanOrEqual(PHASE_REQUESTS);
    expect(r.badVersionExitCode).toBe(2);
    expect(r.badVersionReason).toContain('REDIS_URL');
    expect(r.capacity).toEqual({ before: 3, degraded: 2, after: 3, of: 3 });
    expect(r.routedToRolledSlotWhileOut).toBe(0);
    expect(r.servedByRolledBack).toBeGreaterThan(0);
  });
});
