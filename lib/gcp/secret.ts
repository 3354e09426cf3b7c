import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { SECRET_ENV } from '../core';

/** A secret setting of the service (`anthropicApiKey`, `jwtSecretKey`, …); its env var comes from the contract. */
export type TboSecretSetting = keyof typeof SECRET_ENV;

/** The role that reads secret payloads, granted per secret and never project-wide. */
export const SECRET_ACCESSOR_ROLE = 'roles/secretmanager.secretAccessor';

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
   * @default - no version: nothing enters Terraform state, and `fillCommand` adds one
   */
  readonly value?: string;
  /** Terraform deletion protection of the created secret. @default true */
  readonly deletionProtection?: boolean;
}

/**
 * One Secret Manager secret the service reads as an env var: created (without a version unless a
 * `value` reference is given) or existing, with an accessor grant on this secret alone.
 */
export class TboSecret extends Construct {
  /** The env var the service reads this secret from (from the contract's `SECRET_ENV`). */
  readonly env: string;
  /** The created secret. @default - undefined with `existing` */
  readonly secret?: SecretManagerSecret;
  /** The version created from `value`. @default - undefined: no version in Terraform */
  readonly version?: SecretManagerSecretVersion;
  /** `roles/secretmanager.secretAccessor` on this secret for the accessor. */
  readonly accessorGrant: SecretManagerSecretIamMember;
  /** The secret as Cloud Run's `secret_key_ref.secret` and IAM accept it. */
  readonly secretRef: string;
  /** The version the service reads: the created version, else `latest`. */
  readonly versionRef: string;
  /** The shell command that adds the first version from the env var of the same name, for a created secret without a version. */
  readonly fillCommand?: string;

  constructor(scope: Construct, id: string, props: TboSecretProps) {
    super(scope, id);
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
        replication: { auto: {} },
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
      }
    }
  }
}
