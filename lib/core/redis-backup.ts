/**
 * How a Redis backup is taken and restored, as the POSIX shell the Kubernetes backup CronJob and
 * restore init container run (in the official `redis` image: busybox `ash` in `redis:7-alpine`, dash
 * and GNU coreutils in the Debian one) and the loopback drill (`npm run dr-drill`) runs on this
 * machine. One source: the drill exercises exactly the commands a cluster runs.
 *
 * Both scripts take their inputs from the environment ({@link REDIS_BACKUP_ENV}); the password is
 * passed as `REDISCLI_AUTH` (redis-cli reads it from there), never on a command line. They use only
 * what both images have: `redis-server`, `redis-cli`, `redis-check-rdb`, and POSIX/busybox tools
 * (`ls -A`, `sort -r`, `tail -n +N`, `sha256sum -c`, `date -u +FORMAT` and `sleep 0.1` behave the
 * same in busybox 1.35 as in GNU coreutils; the drill runs the scripts under busybox when it is
 * installed, with nothing but its applets and the Redis tools on PATH).
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

/**
 * The staging directory the restore works in, inside the data directory (same volume, so moving
 * its result into place is a rename). A data directory holding only this (an interrupted restore)
 * and `lost+found` still counts as empty.
 */
export const REDIS_RESTORE_STAGING_DIR = '.tbo-restore';

/** Seconds the restore waits for its temporary Redis to load the backup and rewrite it as an AOF. */
export const REDIS_RESTORE_TIMEOUT_SECONDS = 3600;

const E = REDIS_BACKUP_ENV;
/** `grep` pattern of backup file names (not the checksums, not the dot-prefixed partial files). */
const BACKUP_NAME_PATTERN = `^${REDIS_BACKUP_FILE_PREFIX}.*${REDIS_BACKUP_FILE_SUFFIX.replace('.', '\\.')}$`;

/**
 * Takes one backup: `redis-cli --rdb` (a full RDB snapshot streamed by the server, AUTH from
 * `REDISCLI_AUTH`) to a partial file, checked with `redis-check-rdb`, checksummed, renamed into
 * place, then all but the newest `BACKUP_KEEP` backups removed. Exits non-zero (and leaves no
 * partial file behind) when any step fails, so the Job is marked failed.
 */
export function redisBackupScript(): string {
  return [
    'set -eu',
    `[ -d "$${E.dir}" ] || { echo "backup failed: ${E.dir} '$${E.dir}' is not a directory" >&2; exit 1; }`,
    `case "$${E.keep}" in ''|*[!0-9]*|0) echo "backup failed: ${E.keep} must be a positive integer, got '$${E.keep}'" >&2; exit 2;; esac`,
    `ts=$(date -u +%Y%m%dT%H%M%SZ)`,
    `name="${REDIS_BACKUP_FILE_PREFIX}$ts${REDIS_BACKUP_FILE_SUFFIX}"`,
    `partial="$${E.dir}/.$name.partial"`,
    `trap 'rm -f "$partial"' EXIT`,
    `redis-cli --no-auth-warning -h "$${E.host}" -p "$${E.port}" --rdb "$partial"`,
    `redis-check-rdb "$partial" >/dev/null`,
    `mv "$partial" "$${E.dir}/$name"`,
    `(cd "$${E.dir}" && sha256sum "$name" > "$name.sha256")`,
    // Newest first by name (the timestamp sorts), everything past BACKUP_KEEP removed with its checksum.
    `ls -1 "$${E.dir}" | grep '${BACKUP_NAME_PATTERN}' | sort -r | tail -n +$(($${E.keep} + 1)) | while read -r old; do rm -f "$${E.dir}/$old" "$${E.dir}/$old.sha256"; done`,
    `echo "backup $name $(wc -c < "$${E.dir}/$name") bytes"`,
  ].join('\n');
}

/**
 * Restores one backup into an empty data directory, before Redis starts: verifies the checksum and
 * the RDB, then converts it into the files a Redis running with `appendonly yes` loads. A data
 * directory that already holds data is left alone (the restore runs only into a new, empty
 * volume), so a pod restart never rolls Redis back.
 *
 * Why not just copy the RDB in as `dump.rdb`: with `appendonly yes`, Redis loads only its AOF and
 * never reads `dump.rdb`. Observed with redis-server 7.0.15 (`--appendonly yes`, a data directory
 * holding only a valid `dump.rdb` of 2 keys): it logged "Creating AOF base file
 * appendonly.aof.1.base.rdb on server start", answered DBSIZE 0, and from then on the new, empty
 * multi-part AOF (`appendonlydir/`) is what every restart loads. redis.conf says the same of
 * `appendonly` (redis/redis#12506): switching it on over existing data "can lead to data loss. A
 * conversion needs to be done by setting it via CONFIG command on a live server first"; the
 * persistence docs (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/,
 * "How I can switch to AOF, if I'm currently using dump.rdb snapshots?") give the steps.
 *
 * So the restore does that conversion, with Redis itself writing its own AOF layout: a temporary
 * `redis-server` with `appendonly no` (unix socket only, no TCP port, no password: nothing but this
 * script can reach it) loads the backup in a staging directory, `CONFIG SET appendonly yes` makes
 * it write the AOF (base + manifest), the script waits until INFO persistence shows the rewrite
 * done and `aof_last_bgrewrite_status:ok`, shuts it down, and moves `appendonlydir/` (then
 * `dump.rdb`, the same data, for a Redis run with `appendonly no`) into the data directory. The
 * default `appenddirname`/`appendfilename` are used, as by the StatefulSet's Redis. The temporary
 * server holds the whole data set in memory: the restore container needs the Redis container's
 * memory limit.
 */
export function redisRestoreScript(): string {
  const stage = `"$${E.dataDir}/${REDIS_RESTORE_STAGING_DIR}"`;
  const sock = `"$${E.dataDir}/${REDIS_RESTORE_STAGING_DIR}/redis.sock"`;
  const polls = REDIS_RESTORE_TIMEOUT_SECONDS * 10;
  return [
    'set -eu',
    `[ -d "$${E.dataDir}" ] || { echo "restore failed: ${E.dataDir} '$${E.dataDir}' is not a directory" >&2; exit 1; }`,
    `if [ -n "$(ls -A "$${E.dataDir}" | grep -v -e '^lost+found$' -e '^${REDIS_RESTORE_STAGING_DIR.replace('.', '\\.')}$' || true)" ]; then echo "restore skipped: $${E.dataDir} is not empty"; exit 0; fi`,
    `from="$${E.restoreFrom}"`,
    `case "$from" in */*) echo "restore failed: ${E.restoreFrom} must be a file name in $${E.dir} or 'latest', got '$from'" >&2; exit 1;; esac`,
    `if [ "$from" = latest ]; then from=$(ls -1 "$${E.dir}" | grep '${BACKUP_NAME_PATTERN}' | sort -r | head -n 1 || true); fi`,
    `if [ -z "$from" ] || [ ! -f "$${E.dir}/$from" ]; then echo "restore failed: no backup '$${E.restoreFrom}' in $${E.dir}" >&2; exit 1; fi`,
    `if [ ! -f "$${E.dir}/$from.sha256" ]; then echo "restore failed: $from has no checksum file $from.sha256 in $${E.dir}" >&2; exit 1; fi`,
    `(cd "$${E.dir}" && sha256sum -c "$from.sha256")`,
    `redis-check-rdb "$${E.dir}/$from" >/dev/null`,
    `rm -rf ${stage}`,
    `mkdir ${stage}`,
    `cp "$${E.dir}/$from" ${stage}/dump.rdb`,
    // The temporary server: no TCP listener, a socket only its owner may open.
    'pid=',
    `trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true' EXIT`,
    `redis-server --port 0 --unixsocket ${sock} --unixsocketperm 700 --dir ${stage} --dbfilename dump.rdb --appendonly no --save '' --logfile '' --loglevel warning &`,
    'pid=$!',
    `cli() { redis-cli -s ${sock} "$@"; }`,
    // `wait_for WHAT COMMAND...`: polls COMMAND every 0.1 s (every second with a `sleep` that takes whole seconds only) while the temporary server lives.
    `wait_for() { what=$1; shift; n=0; until "$@"; do kill -0 "$pid" 2>/dev/null || { echo "restore failed: redis-server exited while $what" >&2; exit 1; }; n=$((n + 1)); [ "$n" -le ${polls} ] || { echo "restore failed: $what took over ${REDIS_RESTORE_TIMEOUT_SECONDS} s" >&2; exit 1; }; sleep 0.1 2>/dev/null || sleep 1; done; }`,
    `loaded() { [ "$(cli ping 2>/dev/null)" = PONG ]; }`,
    `rewritten() { info=$(cli info persistence | tr -d '\\r'); echo "$info" | grep -q '^aof_rewrite_in_progress:0$' && echo "$info" | grep -q '^aof_rewrite_scheduled:0$'; }`,
    `wait_for "loading $from" loaded`,
    'keys=$(cli dbsize)',
    `[ "$(cli config set appendonly yes)" = OK ] || { echo "restore failed: CONFIG SET appendonly yes was refused" >&2; exit 1; }`,
    `wait_for "writing the AOF" rewritten`,
    `echo "$info" | grep -q '^aof_last_bgrewrite_status:ok$' || { echo "restore failed: the AOF rewrite failed" >&2; exit 1; }`,
    // SHUTDOWN answers nothing when it succeeds (the connection closes); an error leaves the server up for the trap.
    'out=$(cli shutdown 2>&1 || true)',
    `[ -z "$out" ] || { echo "restore failed: SHUTDOWN answered: $out" >&2; exit 1; }`,
    'wait "$pid" || { echo "restore failed: redis-server did not shut down cleanly" >&2; exit 1; }',
    'pid=',
    // appendonlydir/ first: once it is in place the restore is complete for a Redis with appendonly yes.
    `mv ${stage}/appendonlydir "$${E.dataDir}/appendonlydir"`,
    `mv ${stage}/dump.rdb "$${E.dataDir}/dump.rdb"`,
    `rm -rf ${stage}`,
    `echo "restored $from: $keys keys"`,
  ].join('\n');
}
