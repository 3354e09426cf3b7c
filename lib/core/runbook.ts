/**
 * Recovery and rollback of a TBO deployment on every target, defined once: RUNBOOK.md
 * (`npm run docs`) and the Kubernetes construct's `dr-runbook` ConfigMap are rendered from these
 * definitions, and test/core/runbook.test.ts holds both to them and every command to the outputs
 * the constructs really have.
 */
import { AWS_RUNBOOK } from './runbook-aws';
import { GCP_RUNBOOK } from './runbook-gcp';
import { K8S_RUNBOOK } from './runbook-k8s';
import type { TargetRunbook } from './runbook-types';

export * from './runbook-types';
export * from './runbook-outputs';
export * from './runbook-commands';
export * from './runbook-render';
export { GUIDE_BACKUP_STEPS, GUIDE_RUNBOOK_STEPS } from './runbook-guide';
export { AWS_RUNBOOK } from './runbook-aws';
export { GCP_RUNBOOK } from './runbook-gcp';
export { K8S_RUNBOOK, RUNBOOK_REDIS_DATA_CLAIM, RUNBOOK_REDIS_STATEFULSET } from './runbook-k8s';

/** The runbook of every target, in the order RUNBOOK.md shows them. */
export const TBO_RUNBOOKS: readonly TargetRunbook[] = [AWS_RUNBOOK, GCP_RUNBOOK, K8S_RUNBOOK];
