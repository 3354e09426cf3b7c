/**
 * A Cloud Run sidecar's configuration file, as both collector sidecars (Managed Prometheus, the
 * OpenTelemetry collector) ship it: a Secret Manager secret version mounted as a volume
 * (`config.yaml`), readable by the service's account only, plus the one project role the sidecar
 * writes with. The configuration holds no credential; a secret is simply how Cloud Run mounts a file.
 */
import type { CloudRunV2ServiceTemplateVolumes } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret, type SecretManagerSecretReplication } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { SECRET_ACCESSOR_ROLE } from './secret';
import { AUTOMATIC_SECRET_REPLICATION } from './secret-replication';

/** What a sidecar's configuration is made of. */
export interface SidecarConfigOptions {
  /** Project of the secret and of the role grant. @default - the provider's project */
  readonly project?: string;
  /** The secret's id, e.g. `<serviceName>-otel-config`. */
  readonly secretId: string;
  /** The secret's `content` label. */
  readonly content: string;
  /** The configuration file's text. */
  readonly config: string;
  /** The Cloud Run volume's name. */
  readonly volumeName: string;
  /** The service's identity (`serviceAccount:…`). */
  readonly accessor: string;
  /** Terraform deletion protection of the secret. @default true */
  readonly deletionProtection?: boolean;
  /** Replication policy of the secret. @default - automatic replication */
  readonly replication?: SecretManagerSecretReplication;
  /** The project role the sidecar writes with, and the construct id of its grant; none when undefined. */
  readonly projectRole?: { readonly id: string; readonly role: string };
}

/** The resources of {@link sidecarConfig}. */
export interface SidecarConfig {
  readonly configSecret: SecretManagerSecret;
  readonly configVersion: SecretManagerSecretVersion;
  readonly configAccessorGrant: SecretManagerSecretIamMember;
  readonly projectRoleGrant?: ProjectIamMember;
  readonly volume: CloudRunV2ServiceTemplateVolumes;
  /** What the Cloud Run revision needs before it starts: the version, read access, the role grant. */
  readonly prerequisites: ITerraformDependable[];
}

/**
 * Creates the secret (`ConfigSecret`), its version (`ConfigVersion`), the accessor grant on it
 * (`ConfigAccessorGrant`) and the project role grant (`projectRole.id`) in `scope`.
 */
export function sidecarConfig(scope: Construct, o: SidecarConfigOptions): SidecarConfig {
  const configSecret = new SecretManagerSecret(scope, 'ConfigSecret', {
    project: o.project,
    secretId: o.secretId,
    replication: o.replication ?? AUTOMATIC_SECRET_REPLICATION,
    deletionProtection: o.deletionProtection ?? true,
    labels: { app: 'tbo', content: o.content },
  });
  const configVersion = new SecretManagerSecretVersion(scope, 'ConfigVersion', { secret: configSecret.id, secretData: o.config });
  const configAccessorGrant = new SecretManagerSecretIamMember(scope, 'ConfigAccessorGrant', {
    project: o.project,
    secretId: configSecret.id,
    role: SECRET_ACCESSOR_ROLE,
    member: o.accessor,
  });
  let projectRoleGrant: ProjectIamMember | undefined;
  if (o.projectRole) {
    const project = o.project ?? new DataGoogleClientConfig(scope, 'ClientConfig').project;
    projectRoleGrant = new ProjectIamMember(scope, o.projectRole.id, { project, role: o.projectRole.role, member: o.accessor });
  }
  const volume = { name: o.volumeName, secret: { secret: configSecret.id, items: [{ version: configVersion.version, path: 'config.yaml' }] } };
  return { configSecret, configVersion, configAccessorGrant, projectRoleGrant, volume, prerequisites: [configVersion, configAccessorGrant, ...(projectRoleGrant ? [projectRoleGrant] : [])] };
}
