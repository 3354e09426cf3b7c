import type { SecretManagerSecretReplication } from '@cdktf/provider-google/lib/secret-manager-secret';
import { Token } from 'cdktf';
import type { PropValidator } from '../core';

/**
 * Where Secret Manager keeps the replicas of every secret the construct creates
 * (`secretReplication` of `TboCloudRunService`), and with which key.
 *
 * Secret Manager's replication policy is immutable ("The replication policy cannot be changed after
 * the Secret has been created", Secret Manager API, `Secret.replication`): changing this on a
 * deployed stack makes Terraform replace every secret the construct created, which deletion
 * protection (on by default) refuses, and which would lose the values you filled. Choose it before
 * the first deploy.
 */
export interface TboSecretReplication {
  /**
   * Regions that hold the replicas (user-managed replication, e.g. `['europe-west1',
   * 'europe-west4']` to keep secret payloads in the EU). A secret stays readable while one of its
   * regions is up.
   * @default - automatic replication: Google chooses the regions, without restriction
   */
  readonly locations?: readonly string[];
  /**
   * Customer-managed Cloud KMS keys (`projects/P/locations/L/keyRings/R/cryptoKeys/K`) that
   * encrypt the payloads: one key in `global` with automatic replication, or one key per location
   * of `locations` (each in that location), as Secret Manager requires. Secret Manager's service
   * agent (`service-PROJECT_NUMBER@gcp-sa-secretmanager.iam.gserviceaccount.com`) needs
   * `roles/cloudkms.cryptoKeyEncrypterDecrypter` on each key: grant it before deploying (the
   * construct does not, since the agent's address needs the project number).
   * @default - Google-managed encryption
   */
  readonly kmsKeyNames?: readonly string[];
}

const LOCATION = /^[a-z]+(-[a-z]+)+\d+$/;
const KMS_KEY = /^projects\/[^/\s]+\/locations\/([^/\s]+)\/keyRings\/[^/\s]+\/cryptoKeys\/[^/\s]+$/;
const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** The automatic policy every secret gets without `secretReplication`. */
export const AUTOMATIC_SECRET_REPLICATION: SecretManagerSecretReplication = { auto: {} };

/**
 * Checks `secretReplication` (through `v`, naming each bad field and what is accepted) and returns
 * the `replication` block of every secret the construct creates.
 */
export function resolveSecretReplication(v: PropValidator, option: TboSecretReplication | undefined): SecretManagerSecretReplication {
  if (option === undefined) return AUTOMATIC_SECRET_REPLICATION;
  const keys = option.kmsKeyNames ?? [];
  const keyLocations = new Map<string, string>();
  for (const key of keys) {
    if (!known(key)) continue;
    const match = KMS_KEY.exec(key);
    v.check(match !== null, 'secretReplication.kmsKeyNames', key, 'each must be a Cloud KMS key name: projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY');
    if (match) keyLocations.set(match[1], key);
  }
  const allKnown = keys.every(known);

  if (option.locations === undefined) {
    if (keys.length === 0) return AUTOMATIC_SECRET_REPLICATION;
    v.check(keys.length === 1, 'secretReplication.kmsKeyNames', keys, 'with automatic replication (no secretReplication.locations) give exactly one key, in the global location');
    if (allKnown && keys.length === 1 && keyLocations.size === 1) {
      v.check(keyLocations.has('global'), 'secretReplication.kmsKeyNames', keys[0], "with automatic replication the key must be in the 'global' location (Secret Manager's rule); give secretReplication.locations for regional keys");
    }
    return { auto: { customerManagedEncryption: { kmsKeyName: keys[0] } } };
  }

  const locations = option.locations;
  v.check(locations.length > 0, 'secretReplication.locations', locations, 'must list at least one region (e.g. europe-west1), or be left out for automatic replication');
  v.check(new Set(locations).size === locations.length, 'secretReplication.locations', locations, 'must not list a region twice');
  for (const location of locations) {
    if (known(location)) v.check(LOCATION.test(location), 'secretReplication.locations', location, 'each must be a Google Cloud region such as europe-west1 or us-central1');
  }
  v.check(allKnown, 'secretReplication.kmsKeyNames', '<a Terraform reference>', 'must be literal key names with secretReplication.locations: the location in each name decides which replica it encrypts');
  if (keys.length > 0 && allKnown && locations.every(known)) {
    const missing = locations.filter((l) => !keyLocations.has(l));
    const extra = [...keyLocations.keys()].filter((l) => !locations.includes(l));
    v.check(missing.length === 0 && extra.length === 0 && keys.length === locations.length, 'secretReplication.kmsKeyNames', keys,
      `must hold exactly one key per location of secretReplication.locations (${locations.join(', ')}), each in that location (Secret Manager's rule)` +
        (missing.length ? `; no key for ${missing.join(', ')}` : '') + (extra.length ? `; keys outside the locations: ${extra.join(', ')}` : ''));
  }
  return {
    userManaged: {
      replicas: locations.map((location) => {
        const key = keyLocations.get(location);
        return key ? { location, customerManagedEncryption: { kmsKeyName: key } } : { location };
      }),
    },
  };
}
