import type {
  DeploymentV1SpecTemplateSpecContainerSecurityContext,
  DeploymentV1SpecTemplateSpecSecurityContext,
} from '@cdktf/provider-kubernetes/lib/deployment-v1';

/**
 * The restricted Pod Security Standard, applied to every pod this library creates: non-root with a
 * fixed uid, no privilege escalation, every capability dropped, the runtime's default seccomp
 * profile and a read-only root filesystem (writable paths are explicit volumes).
 */
export const RESTRICTED_PSS_LEVEL = 'restricted';

/** Namespace labels that make the API server enforce (and warn and audit) the restricted standard. */
export const RESTRICTED_NAMESPACE_LABELS = {
  'pod-security.kubernetes.io/enforce': RESTRICTED_PSS_LEVEL,
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': RESTRICTED_PSS_LEVEL,
  'pod-security.kubernetes.io/audit': RESTRICTED_PSS_LEVEL,
} as const;

/** Pod-level security context: non-root uid/gid, volumes group-owned by gid, RuntimeDefault seccomp. */
export function restrictedPodSecurityContext(uid: number, gid: number = uid): DeploymentV1SpecTemplateSpecSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: String(uid),
    runAsGroup: String(gid),
    fsGroup: String(gid),
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security context (repeats the pod's non-root settings so each container stands alone). */
export function restrictedContainerSecurityContext(uid: number, gid: number = uid): DeploymentV1SpecTemplateSpecContainerSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: String(uid),
    runAsGroup: String(gid),
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
