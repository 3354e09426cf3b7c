/**
 * The restricted Pod Security Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * checked on a manifest's pod template, plus this project's read-only root filesystem rule.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** Volume types the restricted standard allows. */
const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** The pod template of a workload manifest (Deployment, StatefulSet, …; a CronJob's through its job template), or undefined. */
export function podTemplateSpec(manifest: Obj): Obj | undefined {
  const spec = obj(manifest.spec);
  const template = obj((spec.jobTemplate ? obj(obj(spec.jobTemplate).spec) : spec).template);
  return template.spec ? obj(template.spec) : undefined;
}

/** Every way a pod spec falls short of the restricted standard (empty when it meets it). */
export function restrictedViolations(pod: Obj): string[] {
  const problems: string[] = [];
  const podContext = obj(pod.securityContext);
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[host] === true) problems.push(`pod: ${host} is true`);
  for (const volume of list(pod.volumes)) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (!type || !ALLOWED_VOLUMES.has(type)) problems.push(`volume ${String(volume.name)}: type ${type} is not allowed`);
  }
  if (podContext.runAsUser === 0) problems.push('pod: runAsUser is 0');
  const containers = [...list(pod.initContainers), ...list(pod.containers)];
  if (containers.length === 0) problems.push('pod: no containers');
  for (const c of containers) {
    const ctx = obj(c.securityContext);
    const name = `container ${String(c.name)}`;
    if (ctx.privileged === true) problems.push(`${name}: privileged`);
    if (ctx.allowPrivilegeEscalation !== false) problems.push(`${name}: allowPrivilegeEscalation is not false`);
    if ((ctx.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${name}: runAsNonRoot is not true`);
    if (ctx.runAsUser === 0) problems.push(`${name}: runAsUser is 0`);
    const seccomp = obj(ctx.seccompProfile ?? podContext.seccompProfile).type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${name}: seccompProfile is ${String(seccomp)}`);
    const caps = obj(ctx.capabilities);
    if (!(Array.isArray(caps.drop) && caps.drop.includes('ALL'))) problems.push(`${name}: capabilities do not drop ALL`);
    for (const added of Array.isArray(caps.add) ? caps.add : []) if (added !== 'NET_BIND_SERVICE') problems.push(`${name}: adds capability ${String(added)}`);
    for (const port of list(c.ports)) if (port.hostPort !== undefined && port.hostPort !== 0) problems.push(`${name}: hostPort ${String(port.hostPort)}`);
    if (ctx.readOnlyRootFilesystem !== true) problems.push(`${name}: readOnlyRootFilesystem is not true`);
  }
  return problems;
}
