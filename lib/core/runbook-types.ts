/**
 * The shape of the recovery and rollback runbook (lib/core/runbook.ts): readonly data, rendered to
 * RUNBOOK.md and to the Kubernetes `dr-runbook` ConfigMap by lib/core/runbook-render.ts.
 *
 * Two kinds of blank appear in commands:
 * - `<OutputName>`: a construct output the command reads (a CloudFormation output on AWS, a
 *   Terraform output on GCP and Kubernetes), from {@link RUNBOOK_OUTPUTS} of the step's target;
 * - `$NAME` (or `"$NAME"`): a shell variable the operator sets first (a step's {@link RunbookInput}),
 *   or one an earlier command assigned (`NAME=$(aws …)`).
 */

/** The deployment targets, as lib/aws, lib/gcp and lib/k8s. */
export type RunbookTarget = 'aws' | 'gcp' | 'k8s';

/** The two procedures of the guide's `dr-runbook`. */
export type RunbookProcedure = 'recovery' | 'rollback';

/** What a recovery step does, in the guide's words (each appears at least once per target). */
export type RecoveryPhase = 'verify-backup' | 'restore-redis' | 'redeploy' | 'secrets' | 'verify-health' | 'resume-traffic';

/** What a rollback step does, in the guide's words (each appears at least once per target). */
export type RollbackPhase = 'stop' | 'deploy-previous' | 'verify' | 'traffic';

/** Every phase, in the guide's order. */
export const RECOVERY_PHASES: readonly RecoveryPhase[] = ['verify-backup', 'restore-redis', 'redeploy', 'secrets', 'verify-health', 'resume-traffic'];
export const ROLLBACK_PHASES: readonly RollbackPhase[] = ['stop', 'deploy-previous', 'verify', 'traffic'];

/** One shell command line. */
export interface RunbookCommand {
  /**
   * The command, starting with one of {@link RUNBOOK_CLIS} (after `npx`), or `NAME=$(…)` around one,
   * or exactly one placeholder of an output whose value is itself a command.
   */
  readonly run: string;
  /** What it shows or does, when the command does not say (rendered as a `#` comment above it). */
  readonly note?: string;
}

/** A shell variable the operator sets before a step's commands. */
export interface RunbookInput {
  /** Upper-case shell name, e.g. `GOOD_COMMIT`. */
  readonly name: string;
  /** What value it takes and where to find it. */
  readonly meaning: string;
}

/** One step of a procedure. */
export interface RunbookStep<P extends string = string> {
  readonly phase: P;
  /** Imperative, short: "Find a good Redis backup and check it". */
  readonly title: string;
  /** Why this step exists and what it does not cover: prose, never parsed for placeholders. */
  readonly why: string;
  /** A code change to make and commit before the commands (configuration is code). */
  readonly change?: string;
  /** Shell variables to set first. */
  readonly inputs?: readonly RunbookInput[];
  readonly commands: readonly RunbookCommand[];
}

/** Recovery and rollback for one target. */
export interface TargetRunbook {
  readonly target: RunbookTarget;
  /** Section title, e.g. "AWS (TboFargateService, CDK)". */
  readonly title: string;
  /** Where the outputs come from and what the placeholders stand for (prose). */
  readonly outputsIntro: string;
  /** The command that prints every output the steps read. */
  readonly outputsCommand: RunbookCommand;
  readonly recovery: readonly RunbookStep<RecoveryPhase>[];
  readonly rollback: readonly RunbookStep<RollbackPhase>[];
}

/** One step of the guide's `backup.sh`, and what replaces it on each target (or why nothing does). */
export interface GuideBackupStep {
  readonly guide: string;
  /** What does the job on each target; absent when the step is deliberately not done. */
  readonly replacedBy?: Readonly<Record<RunbookTarget, string>>;
  /** Why the step is not done, when it is not. */
  readonly notDone?: string;
}

/** One step of the guide's `dr-runbook` ConfigMap, and the runbook phases that do it on every target. */
export interface GuideRunbookStep {
  readonly procedure: RunbookProcedure;
  readonly guide: string;
  readonly phases: readonly (RecoveryPhase | RollbackPhase)[];
  /** What differs from the guide, when something does. */
  readonly note?: string;
}
