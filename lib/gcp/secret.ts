import { SecretManagerSecret, type SecretManagerSecretReplication } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { SECRET_ENV } from '../core';
import { AUTOMATIC_SECRET_REPLICATION } from './secret-replication';

/** A secret setting of the service (`anthropicApiKey`, `jwtSecretKey`, …); its env var comes from the contract. */
export type TboSecretSetting = keyof typeof SECRET_ENV;

/** The role that reads secret payloads, granted per secret and never project-wide. */
export const SECRET_ACCESSOR_ROLE = 'roles/secretmanager.secretAccessor';

/**
 * How every placeholder version starts: a marker an operator (or a future service version) can
 * recognise as "not filled yet". The full placeholder is this, `:`, and a random UUID.
 */
export const SECRET_PLACEHOLDER_PREFIX = 'unset:fill-with-gcloud';

/**
 * The placeholder as Terraform evaluates it: {@link SECRET_PLACEHOLDER_PREFIX}, `:`, and `uuid()`
 * (122 random bits from Terraform at apply). As the write-only `secret_data_wo` it reaches Secret
 * Manager only; Terraform keeps it in neither plan nor state, so nobody learns the UUID.
 *
 * Each is a value the service starts with: a provider key the provider refuses (401, which TBO
 * reports as "the operator must set a valid ANTHROPIC_API_KEY"), a `TBO_API_KEYS` entry (tenant
 * `unset`, key `fill-with-gcloud:<uuid>`, at least 16 characters) and a `JWT_SECRET_KEY` (59
 * characters, at least 32) that no caller can present or sign with.
 */
export function secretPlaceholder(): string {
  return `${SECRET_PLACEHOLDER_PREFIX}:${Fn.uuid()}`;
}

/** Properties of {@link TboSecret}. */
export interface TboSecretProps {
  /** The service setting the secret holds. */
  readonly setting: TboSecretSetting;
  /** Id of the secret to create (ignored with `existing`). */
  readonly secretId: string;
  /** An existing secret (id or `projects/P/secrets/S`) to use instead of creating one. @default - a new secret `secretId` */
  readonly existing?: string;
  /** Project of the secret. @default - the provider's project */
  readonly project?: string;
  /** IAM member (`serviceAccount:…`) granted `roles/secretmanager.secretAccessor` on this secret only. */
  readonly accessor: string;
  /**
   * A first version's payload, as a Terraform reference to another resource's attribute (e.g. a
   * Memorystore AUTH string). Terraform state holds it; literals are refused because they would
   * also be written to the synthesized configuration.
   * @default - no version from Terraform state (a write-only placeholder with `placeholder`), and `fillCommand` adds the user's
   */
  readonly value?: string;
  /** Terraform deletion protection of the created secret. @default true */
  readonly deletionProtection?: boolean;
  /** Replication policy of the created secret (`resolveSecretReplication`; immutable once created). Ignored with `existing`. @default - automatic replication */
  readonly replication?: SecretManagerSecretReplication;
  /**
   * Give the created secret (without `value`) a first version holding {@link secretPlaceholder},
   * written through `secret_data_wo` (Terraform ≥ 1.11), so a Cloud Run revision that reads
   * `latest` can start before the user fills the secret. Ignored with `existing`.
   * @default false
   */
  readonly placeholder?: boolean;
}

/**
 * One Secret Manager secret the service reads as an env var: created (with a version from a
 * `value` reference, a placeholder version, or none) or existing, with an accessor grant on this
 * secret alone.
 */
export class TboSecret extends Construct {
  /** The env var the service reads this secret from (from the contract's `SECRET_ENV`). */
  readonly env: string;
  /** The created secret. @default - undefined with `existing` */
  readonly secret?: SecretManagerSecret;
  /** The version created from `value`. @default - undefined: no version in Terraform */
  readonly version?: SecretManagerSecretVersion;
  /**
   * The placeholder version (version 1 of the created secret; the user's `gcloud secrets versions
   * add` makes the next one, which `latest` then reads). Leave it in place: destroying it makes
   * Terraform add a new placeholder, which would become the latest version. Disabling it is fine.
   * @default - undefined unless `placeholder` (and the secret is created here, without `value`)
   */
  readonly placeholderVersion?: SecretManagerSecretVersion;
  /** `roles/secretmanager.secretAccessor` on this secret for the accessor. */
  readonly accessorGrant: SecretManagerSecretIamMember;
  /** The secret as Cloud Run's `secret_key_ref.secret` and IAM accept it. */
  readonly secretRef: string;
  /** The version the service reads: the created version, else `latest`. */
  readonly versionRef: string;
  /** The shell command that adds the user's value as the next version (over a placeholder, if any) from the env var of the same name, for a created secret without `value`. */
  readonly fillCommand?: string;

  constructor(scope: Construct, id: string, props: TboSecretProps) {
    super(scope, id);
    if (props.value !== undefined && props.placeholder) {
      throw new Error(`TboSecret ${this.node.path}: placeholder and value cannot be combined (a secret with a value needs no placeholder)`);
    }
    if (props.value !== undefined && !Token.isUnresolved(props.value)) {
      throw new Error(`TboSecret ${this.node.path}: value must be a Terraform reference (e.g. an instance's auth_string), never a literal: a literal would be written to the synthesized configuration`);
    }
    this.env = SECRET_ENV[props.setting];

    if (props.existing !== undefined) {
      this.secretRef = props.existing;
    } else {
      this.secret = new SecretManagerSecret(this, 'Secret', {
        project: props.project,
        secretId: props.secretId,
        replication: props.replication ?? AUTOMATIC_SECRET_REPLICATION,
        deletionProtection: props.deletionProtection ?? true,
      });
      this.secretRef = this.secret.id;
    }

    this.accessorGrant = new SecretManagerSecretIamMember(this, 'AccessorGrant', {
      project: props.project,
      secretId: this.secretRef,
      role: SECRET_ACCESSOR_ROLE,
      member: props.accessor,
    });

    if (props.value !== undefined) {
      this.version = new SecretManagerSecretVersion(this, 'Version', { secret: this.secretRef, secretData: props.value });
      this.versionRef = this.version.version;
    } else {
      this.versionRef = 'latest';
      if (this.secret) {
        const project = props.project ?? this.secret.project;
        this.fillCommand = `printf '%s' "$${this.env}" | gcloud secrets versions add ${props.secretId} --project=${project} --data-file=-`;
        if (props.placeholder) {
          this.placeholderVersion = new SecretManagerSecretVersion(this, 'Placeholder', {
            secret: this.secretRef,
            secretDataWo: secretPlaceholder(),
            secretDataWoVersion: 1,
            // A later change to the trigger (or to `enabled`, when the user disables the placeholder) must
            // never make a new version: it would become `latest` over the user's value.
            lifecycle: { ignoreChanges: ['secret_data_wo_version', 'enabled'] },
          });
        }
      }
    }
  }
}
