/**
 * Drill 1: lose the Redis volume, restore it from the backup, and serve the backed-up answers again.
 *
 * A real redis-server with the StatefulSet's flags (AOF, `requirepass`, `maxmemory`) holds cache
 * entries and session turns written through the service (in-process, REDIS_URL + REDIS_PASSWORD,
 * its memory tier off so every hit comes from Redis, a fake upstream counting calls). The backup
 * is the CronJob's script (`redis-cli --rdb` with AUTH from `REDISCLI_AUTH`), next to two earlier
 * backups it must rotate. More entries are written after it; then Redis is SIGKILLed, its data
 * directory deleted and recreated empty (a new volume), the init container's restore script run
 * into it, and redis-server started again with the same flags on the same port. The same service
 * instance reconnects by itself.
 *
 * Measured: RPO (entries written after the backup and lost; seconds from the backup to the kill)
 * and RTO (seconds from the kill to the first cache hit). Checked: every backed-up entry is a hit
 * with no upstream call, every later one a miss, every restored entry authenticates with the
 * deployment's signing key (and not with another), no entry is refused (`tbo_cache_rejected_total`),
 * and the session turns came back.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REDIS_BACKUP_ENV as E,
  REDIS_BACKUP_FILE_PREFIX,
  REDIS_BACKUP_FILE_SUFFIX,
  redisBackupScript,
  redisRestoreScript,
} from '../../lib/core';
import { EntrySigner, signingKey } from '../../service/src/adapters/cache/signer';
import { startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream';
import { freePort, waitFor } from '../../test/support/ports';
import { startTbo, upstreamEnv, type RunningTbo } from '../../test/support/tbo';
import { Checks, type DrillCheck } from './checks';
import { StatefulSetRedis } from './redis-server';
import { imageShell, runScript } from './shell';

const TENANT = 'dr';
const API_KEY = `${TENANT}-key-0123456789abcdef`;
const MODEL = 'claude-haiku-4-5';
/** Backups the CronJob keeps (`BACKUP_KEEP`): the drill's backup plus the newest earlier one. */
const KEEP = 2;
/** Two earlier nightly backups already on the volume; the older one must be rotated out. */
const EARLIER_BACKUPS = ['20261130T020000Z', '20261201T020000Z'].map((ts) => `${REDIS_BACKUP_FILE_PREFIX}${ts}${REDIS_BACKUP_FILE_SUFFIX}`);

export interface RedisDrillOptions {
  /** Cache entries written before the backup. @default 40 */
  readonly backedUp?: number;
  /** Cache entries written after the backup: lost with the volume (and one more turn per session). @default 10 */
  readonly afterBackup?: number;
  /** Sessions with turns before the backup. @default 4 */
  readonly sessions?: number;
  /** Turns per session before the backup. @default 5 */
  readonly turnsPerSession?: number;
  /** Progress lines (never secrets or prompt text). */
  readonly log?: (line: string) => void;
}

export interface RedisDrillResult {
  /** The shell the scripts ran under (busybox ash when installed, as in redis:7-alpine). */
  readonly shell: string;
  readonly backupFile: string;
  readonly backupBytes: number;
  /** Wall time of the backup script. */
  readonly backupSeconds: number;
  /** Wall time of the restore script (checksum, RDB check, conversion to the AOF layout). */
  readonly restoreSeconds: number;
  readonly backedUp: number;
  readonly writtenAfterBackup: number;
  /** RPO, entries: written after the backup and missing after the restore. */
  readonly lostEntries: number;
  /** RPO, time: seconds from the end of the backup to the kill (in production: up to the CronJob interval). */
  readonly backupToKillSeconds: number;
  /** RTO: seconds from the kill to the first cache hit served from the restored Redis. */
  readonly rtoSeconds: number;
  /** Seconds from the kill until every connection of the service was ready again. */
  readonly reconnectSeconds: number;
  /** Backed-up entries served as hits after the restore. */
  readonly hitsAfterRestore: number;
  /** Upstream calls made while serving the backed-up entries after the restore (0 expected). */
  readonly upstreamCallsForBackedUp: number;
  /** Restored cache entries that authenticate with the deployment's signing key. */
  readonly authenticEntries: number;
  /** Session turns in Redis after the restore, and before the backup. */
  readonly sessionTurnsRestored: number;
  readonly sessionTurnsBackedUp: number;
  readonly checks: readonly DrillCheck[];
}

interface Asked {
  readonly status: number;
  readonly cache: string | null;
}

async function ask(tbo: RunningTbo, prompt: string): Promise<Asked> {
  const res = await fetch(`${tbo.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: prompt }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, cache: res.headers.get('x-tbo-cache') };
}

/**
 * One turn of `sessionId` through `/v1/collaborate`, which records the turn before it answers, with
 * `Cache-Control: no-store` (a turn, not a cache entry). Resolves with `bandwidth_metrics.turns`:
 * the session's turns so far, this one included.
 */
async function turn(tbo: RunningTbo, sessionId: string): Promise<number> {
  const res = await fetch(`${tbo.url}/v1/collaborate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'cache-control': 'no-store' },
    body: JSON.stringify({ messages: [{ role: 'user', content: `a turn ${randomUUID()}` }], context: { session_id: sessionId }, model: MODEL }),
  });
  const body = (await res.json()) as { bandwidth_metrics?: { turns?: number } };
  if (res.status !== 200) throw new Error(`/v1/collaborate answered HTTP ${res.status}`);
  return body.bandwidth_metrics?.turns ?? -1;
}

/** Sum of `tbo_cache_rejected_total` over its reasons, from the admin listener. */
async function rejectedEntries(tbo: RunningTbo): Promise<number> {
  const text = await (await fetch(`${tbo.adminUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('tbo_cache_rejected_total'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function allConnectionsReady(tbo: RunningTbo): boolean {
  return tbo.service.redis?.clients.every((c) => c.status === 'ready') ?? false;
}

/** Runs drill 1 on loopback; everything it starts is stopped and its files removed before it returns. */
export async function runRedisDrill(opts: RedisDrillOptions = {}): Promise<RedisDrillResult> {
  const backedUp = opts.backedUp ?? 40;
  const afterBackup = opts.afterBackup ?? 10;
  const sessionCount = opts.sessions ?? 4;
  const turnsPerSession = opts.turnsPerSession ?? 5;
  const log = opts.log ?? (() => undefined);
  const checks = new Checks();

  const work = await mkdtemp(join(tmpdir(), 'tbo-dr-redis-'));
  const dataDir = join(work, 'data');
  const backupDir = join(work, 'backups');
  await mkdir(dataDir);
  await mkdir(backupDir);
  const shell = await imageShell(work);
  const password = randomBytes(24).toString('hex');
  const cacheSigningKey = randomBytes(32).toString('hex');
  const redis = new StatefulSetRedis(await freePort(), dataDir, password, join(work, 'redis.log'));
  let fake: FakeUpstream | undefined;
  let tbo: RunningTbo | undefined;
  try {
    await redis.start();
    fake = await startFakeUpstream();
    tbo = await startTbo(
      upstreamEnv(fake.url, {
        REDIS_URL: redis.url,
        REDIS_PASSWORD: password,
        TBO_CACHE_SIGNING_KEY: cacheSigningKey,
        // Memory tier off: a hit after the restore can only have come from the restored Redis.
        TBO_CACHE_SIZE: '0',
        TBO_API_KEYS: `${TENANT}:${API_KEY}`,
      }),
    );
    const service = tbo;
    await waitFor(() => allConnectionsReady(service), { what: 'the service to connect to Redis', timeoutMs: 15_000 });
    const prefix = service.service.config.redisKeyPrefix;
    const sessions = Array.from({ length: sessionCount }, (_, i) => `dr-session-${i}`);
    const sessionKey = (id: string) => `${prefix}:session:${TENANT}|${id}`;
    const run = randomUUID().slice(0, 8);
    const before = Array.from({ length: backedUp }, (_, i) => `drill ${run} backed up ${i}`);
    const later = Array.from({ length: afterBackup }, (_, i) => `drill ${run} after the backup ${i}`);

    /**
     * Writes each prompt's answer through the service and confirms it is in Redis: asked again it
     * is a hit (the memory tier is off). A store the service gave up on (a Redis command past its
     * 250 ms timeout, on a loaded machine) is redone by asking again. Resolves with the first
     * answers that were misses.
     */
    const store = async (prompts: readonly string[]): Promise<number> => {
      let misses = 0;
      for (const prompt of prompts) {
        if ((await ask(service, prompt)).cache === 'miss') misses++;
        await waitFor(async () => (await ask(service, prompt)).cache === 'hit', { what: 'an answer stored in Redis', intervalMs: 5 });
      }
      return misses;
    };
    const turnsOf = async (id: string): Promise<number> => Number((await redis.cli('LLEN', sessionKey(id))).trim());
    const sessionTurns = async (): Promise<number> => {
      let turns = 0;
      for (const id of sessions) turns += await turnsOf(id);
      return turns;
    };

    log(`redis-server ${redis.url} (StatefulSet flags), service ${service.url}, scripts under ${shell.name}`);
    checks.equal('entries written before the backup are misses', await store(before), backedUp);
    for (let t = 0; t < turnsPerSession; t++) for (const id of sessions) await turn(service, id);
    // Turns as Redis holds them at the backup (a turn whose Redis write timed out went to the memory fallback).
    const sessionTurnsBackedUp = await sessionTurns();
    const firstSessionTurns = await turnsOf(sessions[0]);
    checks.add('session turns in Redis at the backup', firstSessionTurns > 0, `${sessionTurnsBackedUp} of ${turnsPerSession * sessions.length}`);
    const rejectedBefore = await rejectedEntries(service);

    // Two earlier backups, as earlier CronJob runs left them (contents that are no RDB: restoring one fails).
    for (const name of EARLIER_BACKUPS) {
      const body = `not an RDB: ${name}\n`;
      await writeFile(join(backupDir, name), body);
      await writeFile(join(backupDir, `${name}.sha256`), `${createHash('sha256').update(body).digest('hex')}  ${name}\n`);
    }
    const backup = await runScript(shell, redisBackupScript(), {
      [E.host]: '127.0.0.1',
      [E.port]: String(redis.port),
      [E.auth]: password,
      [E.dir]: backupDir,
      [E.keep]: String(KEEP),
    });
    const backupEndedAt = performance.now();
    const backupFile = /^backup (\S+) (\d+) bytes$/m.exec(backup.output)?.[1] ?? '';
    const backupBytes = backupFile ? (await stat(join(backupDir, backupFile))).size : 0;
    log(`backup ${backupFile}: ${backupBytes} bytes in ${(backup.ms / 1000).toFixed(2)} s`);
    const kept = (await readdir(backupDir)).filter((f) => f.endsWith(REDIS_BACKUP_FILE_SUFFIX)).sort();
    checks.equal('backup rotation keeps the newest BACKUP_KEEP files', kept.join(' '), [EARLIER_BACKUPS[1], backupFile].sort().join(' '));

    // The restore verifies before it writes: a file that is no RDB, and a backup altered after its checksum, are refused.
    const scratch = join(work, 'scratch-data');
    await mkdir(scratch);
    const refused = async (from: string): Promise<boolean> => {
      const failed = await runScript(shell, redisRestoreScript(), { [E.dir]: backupDir, [E.restoreFrom]: from, [E.dataDir]: scratch }).then(() => false, () => true);
      return failed && (await readdir(scratch)).length === 0;
    };
    const tampered = 'tampered.rdb';
    const bytes = await readFile(join(backupDir, backupFile));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(join(backupDir, tampered), bytes);
    await writeFile(join(backupDir, `${tampered}.sha256`), (await readFile(join(backupDir, `${backupFile}.sha256`), 'utf8')).replace(backupFile, tampered));
    checks.add('the restore refuses a file that is no RDB (redis-check-rdb)', await refused(EARLIER_BACKUPS[1]), 'refused, data directory left empty');
    checks.add('the restore refuses an altered backup (sha256sum -c)', await refused(tampered), 'refused, data directory left empty');

    checks.equal('entries written after the backup are misses', await store(later), afterBackup);
    for (const id of sessions) await turn(service, id);

    // The disaster: the process and its volume.
    const killedAt = performance.now();
    await redis.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir);
    log(`redis-server SIGKILLed ${((killedAt - backupEndedAt) / 1000).toFixed(2)} s after the backup; data directory deleted`);

    const restore = await runScript(shell, redisRestoreScript(), { [E.dir]: backupDir, [E.restoreFrom]: 'latest', [E.dataDir]: dataDir });
    log(`restore: ${restore.output.trim().split('\n').at(-1) ?? ''} in ${(restore.ms / 1000).toFixed(2)} s`);
    await redis.start();
    await waitFor(() => allConnectionsReady(service), { what: 'the service to reconnect to Redis', timeoutMs: 15_000, intervalMs: 10 });
    const reconnectedAt = performance.now();
    const callsBefore = fake.calls;
    const first = await ask(service, before[0]);
    const firstHitAt = performance.now();
    checks.equal('first request after the restore is a hit', first.cache, 'hit');

    // The restored entries, read back exactly as stored, against the deployment's key and another one.
    const restoredKeys = await redis.keys(`${prefix}:cache:*`);
    checks.equal('cache entries in the restored Redis', restoredKeys.length, backedUp);
    const signer = new EntrySigner(signingKey(cacheSigningKey, [], prefix));
    const stranger = new EntrySigner(signingKey(randomBytes(32).toString('hex'), [], prefix));
    let authentic = 0;
    let forgedAccepted = 0;
    // One MGET over the service's own (authenticated) connection; retried, since a command may time out on a loaded machine.
    let values: (string | null)[] = [];
    if (restoredKeys.length) await waitFor(async () => ((values = (await service.service.redis?.next().mget(...restoredKeys)) ?? []), true), { what: 'MGET of the restored entries' });
    for (const [i, key] of restoredKeys.entries()) {
      const stored = values[i];
      if (typeof stored !== 'string') continue;
      const cacheKey = key.slice(`${prefix}:cache:`.length);
      if ('value' in signer.open(cacheKey, stored)) authentic++;
      if ('value' in stranger.open(cacheKey, stored)) forgedAccepted++;
    }
    checks.equal('restored entries authenticate with the signing key', authentic, backedUp);
    checks.equal('restored entries refused under another key', forgedAccepted, 0);

    const sessionTurnsRestored = await sessionTurns();
    checks.equal('session turns restored (those before the backup)', sessionTurnsRestored, sessionTurnsBackedUp);

    let hits = first.cache === 'hit' ? 1 : 0;
    for (const prompt of before.slice(1)) if ((await ask(service, prompt)).cache === 'hit') hits++;
    const upstreamCallsForBackedUp = fake.calls - callsBefore;
    checks.equal('backed-up entries served as hits', hits, backedUp);
    checks.equal('upstream calls for backed-up entries', upstreamCallsForBackedUp, 0);
    let lost = 0;
    for (const prompt of later) if ((await ask(service, prompt)).cache === 'miss') lost++;
    checks.equal('entries written after the backup are lost (misses)', lost, afterBackup);
    checks.equal('cache entries refused (tbo_cache_rejected_total increase)', (await rejectedEntries(service)) - rejectedBefore, 0);
    const turns = await turn(service, sessions[0]);
    checks.equal('a new turn continues its restored session (bandwidth_metrics.turns)', turns, firstSessionTurns + 1);

    return {
      shell: shell.name,
      backupFile,
      backupBytes,
      backupSeconds: backup.ms / 1000,
      restoreSeconds: restore.ms / 1000,
      backedUp,
      writtenAfterBackup: afterBackup,
      lostEntries: lost,
      backupToKillSeconds: (killedAt - backupEndedAt) / 1000,
      rtoSeconds: (firstHitAt - killedAt) / 1000,
      reconnectSeconds: (reconnectedAt - killedAt) / 1000,
      hitsAfterRestore: hits,
      upstreamCallsForBackedUp,
      authenticEntries: authentic,
      sessionTurnsRestored,
      sessionTurnsBackedUp,
      checks: checks.list,
    };
  } finally {
    await tbo?.close();
    await redis.kill('SIGKILL');
    await fake?.close();
    await rm(work, { recursive: true, force: true });
  }
}
