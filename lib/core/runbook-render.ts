/**
 * Renders the runbook definitions (runbook.ts) as Markdown: the whole RUNBOOK.md, one procedure of
 * one target with concrete names (the Kubernetes `dr-runbook` ConfigMap), and the tables mapping the
 * guide's backup and DR steps to what replaces them.
 */
import { fillRunbookCommand, placeholdersOf, type RunbookValues } from './runbook-commands';
import { GUIDE_BACKUP_STEPS, GUIDE_RUNBOOK_STEPS } from './runbook-guide';
import type { RunbookCommand, RunbookProcedure, RunbookStep, RunbookTarget, TargetRunbook } from './runbook-types';

/** How each target is named in tables. */
export const RUNBOOK_TARGET_NAMES: Readonly<Record<RunbookTarget, string>> = { aws: 'AWS', gcp: 'GCP', k8s: 'Kubernetes' };

const PROCEDURE_TITLES: Readonly<Record<RunbookProcedure, string>> = { recovery: 'Recovery', rollback: 'Rollback' };

/** The HTML anchor of a step in RUNBOOK.md, e.g. `aws-recovery-3` (1-based). */
export function stepAnchor(target: RunbookTarget, procedure: RunbookProcedure, index: number): string {
  return `${target}-${procedure}-${index + 1}`;
}

/** The outputs a step's commands read, in order, without repeats. */
export function stepReads(step: RunbookStep): string[] {
  return [...new Set(step.commands.flatMap((c) => placeholdersOf(c.run)))];
}

function codeBlock(commands: readonly RunbookCommand[], values: RunbookValues): string {
  const lines = commands.flatMap((c) => [...(c.note ? [`# ${c.note}`] : []), fillRunbookCommand(c.run, values)]);
  return ['```sh', ...lines, '```'].join('\n');
}

interface StepOptions {
  readonly heading: string;
  readonly anchor?: string;
  readonly values: RunbookValues;
  /** List the outputs the step reads (RUNBOOK.md; the ConfigMap has them filled in). */
  readonly reads: boolean;
}

function renderStep(step: RunbookStep, index: number, o: StepOptions): string {
  const inputs = (step.inputs ?? []).filter((i) => o.values.variables?.[i.name] === undefined);
  const reads = stepReads(step).filter((name) => o.values.outputs?.[name] === undefined);
  const parts = [
    `${o.anchor ? `<a id="${o.anchor}"></a>\n` : ''}${o.heading} ${index + 1}. ${step.title}`,
    step.why,
    ...(step.change ? [`**Change:** ${step.change}`] : []),
    ...(inputs.length ? [['Set first:', ...inputs.map((i) => `- \`${i.name}\`: ${i.meaning}`)].join('\n')] : []),
    codeBlock(step.commands, o.values),
    ...(o.reads && reads.length ? [`Reads: ${reads.map((r) => `\`${r}\``).join(', ')}.`] : []),
  ];
  return parts.join('\n\n');
}

/** The steps of one procedure, each under `heading` (e.g. `####`), anchored for RUNBOOK.md or filled with `values`. */
export function renderProcedure(runbook: TargetRunbook, procedure: RunbookProcedure, heading: string, values: RunbookValues = {}, anchors = true): string {
  const steps: readonly RunbookStep[] = runbook[procedure];
  return steps
    .map((step, i) => renderStep(step, i, { heading, anchor: anchors ? stepAnchor(runbook.target, procedure, i) : undefined, values, reads: true }))
    .join('\n\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Links to the steps of `target` doing `phases` in `procedure`. */
function stepLinks(runbook: TargetRunbook, procedure: RunbookProcedure, phases: readonly string[], linkBase: string): string {
  const steps: readonly RunbookStep[] = runbook[procedure];
  return steps
    .flatMap((step, i) => (phases.includes(step.phase) ? [`[${i + 1}. ${step.title}](${linkBase}#${stepAnchor(runbook.target, procedure, i)})`] : []))
    .join('; ');
}

/**
 * The guide's `backup.sh` and `dr-runbook`, step by step, against what replaces each on every
 * target: links to the runbook's steps go to `linkBase` (`''` inside RUNBOOK.md, `RUNBOOK.md` from
 * the README).
 */
export function renderGuideMapping(runbooks: readonly TargetRunbook[], linkBase: string): string {
  const targets = runbooks.map((r) => r.target);
  const header = (first: string) => [`| ${first} | ${targets.map((t) => RUNBOOK_TARGET_NAMES[t]).join(' | ')} |`, `|---|${targets.map(() => '---').join('|')}|`];
  const replaced = GUIDE_BACKUP_STEPS.filter((s) => s.replacedBy);
  const notDone = GUIDE_BACKUP_STEPS.filter((s) => s.notDone);
  const backup = [
    ...header('`backup.sh`'),
    ...replaced.map((s) => `| ${cell(s.guide)} | ${targets.map((t) => cell(s.replacedBy?.[t] ?? '')).join(' | ')} |`),
  ].join('\n');
  const skipped = notDone.map((s) => `- **${s.guide}: not done.** ${s.notDone}`).join('\n');
  const dr = [
    ...header('`dr-runbook`'),
    ...GUIDE_RUNBOOK_STEPS.map((g) => {
      const title = `${PROCEDURE_TITLES[g.procedure]}: ${g.guide}${g.note ? ` (${g.note})` : ''}`;
      return `| ${cell(title)} | ${runbooks.map((r) => cell(stepLinks(r, g.procedure, g.phases, linkBase))).join(' | ')} |`;
    }),
  ].join('\n');
  return [backup, 'Deliberately not done:', skipped, dr].join('\n\n');
}

const HOW_TO_READ = [
  'Every step says why it exists, then gives the exact commands. `<Name>` is a construct output (each target\'s section says how to print them); ',
  '`$NAME` is a value you choose first (listed under "Set first") or one an earlier command set. Commands deploy the example apps\' stacks ',
  '(`TboAwsStack`, `tbo-gcp`, `tbo-k8s`): use your own stack\'s name.',
].join('');

/** RUNBOOK.md: recovery and rollback for every target, then the guide's steps mapped. */
export function renderRunbookDocument(runbooks: readonly TargetRunbook[]): string {
  const contents = runbooks.map((r) => `- [${r.title}](#${r.target}): [recovery](#${stepAnchor(r.target, 'recovery', 0)}), [rollback](#${stepAnchor(r.target, 'rollback', 0)})`);
  const sections = runbooks.map((r) =>
    [
      `<a id="${r.target}"></a>\n## ${r.title}`,
      r.outputsIntro,
      codeBlock([r.outputsCommand], {}),
      `### ${PROCEDURE_TITLES.recovery}`,
      renderProcedure(r, 'recovery', '####'),
      `### ${PROCEDURE_TITLES.rollback}`,
      renderProcedure(r, 'rollback', '####'),
    ].join('\n\n'),
  );
  return [
    '# Recovery and rollback',
    '<!-- Generated by `npm run docs` from lib/core/runbook*.ts; test/core/runbook.test.ts fails when it differs. Do not edit. -->',
    'What to do when a TBO deployment, or its Redis, is lost (recovery), and when a deploy goes bad (rollback), on each target. ' +
      'What state there is and what losing it costs: [README](README.md#state-and-what-losing-it-costs). ' +
      'The Kubernetes construct also renders its own steps, with its names filled in, as the ConfigMap `<name>-dr-runbook`.',
    HOW_TO_READ,
    contents.join('\n'),
    ...sections,
    '<a id="guide"></a>\n## The guide\'s backup and DR steps, mapped',
    'Each step of the deployment guide\'s `backup.sh` and `dr-runbook` ConfigMap, and what does its job on each target.',
    renderGuideMapping(runbooks, ''),
  ].join('\n\n') + '\n';
}

/** One procedure of one target as a standalone document with concrete names (a ConfigMap key). */
export function renderProcedureDocument(runbook: TargetRunbook, procedure: RunbookProcedure, values: RunbookValues): string {
  const steps: readonly RunbookStep[] = runbook[procedure];
  const open = [...new Set(steps.flatMap((s) => stepReads(s)))].filter((name) => values.outputs?.[name] === undefined);
  return [
    `# ${PROCEDURE_TITLES[procedure]}: ${runbook.title}`,
    "Rendered by the construct from the same definitions as the repository's RUNBOOK.md, with this deployment's names filled in. " +
      'Every step says why it exists, then gives the exact commands: run them from a checkout of the repository that deploys this stack, with kubectl pointed at the cluster. ' +
      '`$NAME` is a value you choose first (listed under "Set first") or one an earlier command set.',
    ...(open.length ? [`Still to fill in: ${open.map((o) => `\`<${o}>\``).join(', ')} (\`${fillRunbookCommand(runbook.outputsCommand.run, values)}\`).`] : []),
    renderProcedure(runbook, procedure, '##', values, false),
  ].join('\n\n') + '\n';
}
