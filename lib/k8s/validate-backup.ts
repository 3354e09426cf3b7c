/** Synth-time checks of `redis.backup`: schedule, retention, claim, resources, run time, restore file. */
import { REDIS_BACKUP_FILE_PREFIX, REDIS_BACKUP_FILE_SUFFIX, type PropValidator } from '../core';
import { REDIS_BACKUP_DEFAULTS } from './defaults';
import type { TboKubernetesRedisBackupProps } from './props';
import { parseQuantity } from './quantity';
import { DNS_SUBDOMAIN, known, resources } from './validate-common';

/** Most backups `redis.backup.keep` may keep (e.g. hourly for 6 weeks). */
const MAX_BACKUPS_KEPT = 1000;

/** One field of a cron schedule: numbers, names, `*`, `?`, lists, ranges and steps. */
const CRON_FIELD = /^[0-9A-Za-z*?,/-]+$/;
/** The macros a CronJob schedule may be. */
const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** A CronJob schedule: five fields (minute hour day-of-month month day-of-week) or a macro; no `TZ=` (the controller's zone applies). */
export function isCronSchedule(schedule: string): boolean {
  const fields = schedule.trim().split(/\s+/);
  return CRON_MACROS.includes(schedule.trim()) || (fields.length === 5 && fields.every((f) => CRON_FIELD.test(f)));
}

/** A backup file name in the backup directory (no path), or `latest`. */
const BACKUP_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Checks `redis.backup` (given as an object), naming each prop and what it accepts. */
export function validateRedisBackup(v: PropValidator, backup: TboKubernetesRedisBackupProps): void {
  const prop = 'redis.backup';
  if (known(backup.schedule)) {
    v.check(isCronSchedule(backup.schedule), `${prop}.schedule`, backup.schedule, 'must be a cron schedule of 5 fields (minute hour day-of-month month day-of-week), e.g. "0 * * * *", or a macro: ' + CRON_MACROS.join(', '));
  }
  v.integer(`${prop}.keep`, backup.keep, 1, MAX_BACKUPS_KEPT);
  v.integer(`${prop}.activeDeadlineSeconds`, backup.activeDeadlineSeconds, 60, 86_400);
  if (known(backup.storage)) v.check(parseQuantity(backup.storage) !== undefined && parseQuantity(backup.storage)! > 0, `${prop}.storage`, backup.storage, 'must be a positive Kubernetes quantity such as 10Gi');
  if (backup.storageClassName !== undefined && known(backup.storageClassName)) {
    v.check(DNS_SUBDOMAIN.test(backup.storageClassName), `${prop}.storageClassName`, backup.storageClassName, 'must be a StorageClass name (a DNS subdomain name)');
  }
  if (backup.existingClaim !== undefined) {
    if (known(backup.existingClaim)) v.check(DNS_SUBDOMAIN.test(backup.existingClaim) && backup.existingClaim.length <= 253, `${prop}.existingClaim`, backup.existingClaim, 'must be the name of a PersistentVolumeClaim in the namespace (a DNS subdomain name)');
    v.check(backup.storage === undefined && backup.storageClassName === undefined, `${prop}.existingClaim`, backup.existingClaim,
      'give existingClaim (an existing claim) or storage / storageClassName (a claim created here), not both');
  }
  resources(v, `${prop}.resources`, backup.resources, REDIS_BACKUP_DEFAULTS.resources);
  if (backup.restoreFrom !== undefined && known(backup.restoreFrom)) {
    v.check(BACKUP_FILE_NAME.test(backup.restoreFrom), `${prop}.restoreFrom`, backup.restoreFrom,
      `must be "latest" or a backup file name in the backup claim, such as ${REDIS_BACKUP_FILE_PREFIX}20261202T030000Z${REDIS_BACKUP_FILE_SUFFIX} (no path)`);
  }
}
