/**
 * How a Redis backup is taken and restored, as the POSIX shell the Kubernetes backup CronJob and
 * restore init container run (in the official `redis` image: busybox or Debian coreutils) and the
 * loopback drill (`npm run dr-drill`) runs on this machine. One source: the drill exercises exactly
 * the commands a cluster runs.
 *
 * Both scripts take their inputs from the environment ({@link REDIS_BACKUP_ENV}); the password is
 * passed as `REDISCLI_AUTH` (redis-cli reads it from there), never on a command line.
 */

/** Environment variables the backup and restore scripts read. */
export const REDIS_BACKUP_ENV = {
  /** Redis host name (backup). */
  host: 'REDIS_HOST',
  /** Redis port (backup). */
  port: 'REDIS_PORT',
  /** The Redis password; redis-cli sends it as AUTH (backup). */
  auth: 'REDISCLI_AUTH',
  /** Directory of the backup files (backup and restore). */
  dir: 'BACKUP_DIR',
  /** How many backup files to keep, newest first (backup). */
  keep: 'BACKUP_KEEP',
  /** Which backup to restore: a file name in the backup directory, or `latest` (restore). */
  restoreFrom: 'RESTORE_FROM',
  /** The Redis data directory to restore into; left alone unless empty (restore). */
  dataDir: 'DATA_DIR',
} as const;

/** Backup file names: `tbo-<UTC yyyymmddThhmmssZ>.rdb`, each with a `.sha256` beside it. */
export const REDIS_BACKUP_FILE_PREFIX = 'tbo-';
export const REDIS_BACKUP_FILE_SUFFIX = '.rdb';

const E = REDIS_BACKUP_ENV;

/**
 * Takes one backup: `redis-cli --rdb` (a full RDB snapshot streamed by the server, AUTH from
 * `REDISCLI_AUTH`) to a partial file, checked with `redis-check-rdb`, checksummed, renamed into
 * place, then all but the newest `BACKUP_KEEP` backups removed. Exits non-zero (and leaves no
 * partial file behind) when any step fails, so the Job is marked failed.
 */
export function redisBackupScript(): string {
  return [
    'set -eu',
    `ts=$(date -u +%Y%m%dT%H%M%SZ)`,
    `name="${REDIS_BACKUP_FILE_PREFIX}$ts${REDIS_BACKUP_FILE_SUFFIX}"`,
    `partial="$${E.dir}/.$name.partial"`,
    `trap 'rm -f "$partial"' EXIT`,
    `redis-cli --no-auth-warning -h "$${E.host}" -p "$${E.port}" --rdb "$partial"`,
    `redis-check-rdb "$partial" >/dev/null`,
    `mv "$partial" "$${E.dir}/$name"`,
    `(cd "$${E.dir}" && sha256sum "$name" > "$name.sha256")`,
    // Newest first by name (the timestamp sorts), everything past BACKUP_KEEP removed with its checksum.
    `ls -1 "$${E.dir}" | grep '^${REDIS_BACKUP_FILE_PREFIX}.*${REDIS_BACKUP_FILE_SUFFIX.replace('.', '\\.')}$' | sort -r | tail -n +$(($${E.keep} + 1)) | while read -r old; do rm -f "$${E.dir}/$old" "$${E.dir}/$old.sha256"; done`,
    `echo "backup $name $(wc -c < "$${E.dir}/$name") bytes"`,
  ].join('\n');
}

/**
 * Restores one backup into an empty data directory, before Redis starts: verifies the checksum and
 * the RDB, then writes it as `dump.rdb`. A data directory that already holds data is left alone
 * (the restore runs only into a new, empty volume), so a pod restart never rolls Redis back.
 */
export function redisRestoreScript(): string {
  return [
    'set -eu',
    `if [ -n "$(ls -A "$${E.dataDir}" 2>/dev/null | grep -v '^lost+found$' || true)" ]; then echo "restore skipped: $${E.dataDir} is not empty"; exit 0; fi`,
    `from="$${E.restoreFrom}"`,
    `if [ "$from" = latest ]; then from=$(ls -1 "$${E.dir}" | grep '^${REDIS_BACKUP_FILE_PREFIX}.*${REDIS_BACKUP_FILE_SUFFIX.replace('.', '\\.')}$' | sort -r | head -n 1); fi`,
    `if [ -z "$from" ] || [ ! -f "$${E.dir}/$from" ]; then echo "restore failed: no backup '$${E.restoreFrom}' in $${E.dir}" >&2; exit 1; fi`,
    `(cd "$${E.dir}" && sha256sum -c "$from.sha256")`,
    `redis-check-rdb "$${E.dir}/$from" >/dev/null`,
    `cp "$${E.dir}/$from" "$${E.dataDir}/.dump.rdb.partial"`,
    `mv "$${E.dataDir}/.dump.rdb.partial" "$${E.dataDir}/dump.rdb"`,
    `echo "restored $from"`,
  ].join('\n');
}
