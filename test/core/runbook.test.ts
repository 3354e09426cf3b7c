/**
 * The recovery and rollback runbook (lib/core/runbook*.ts): RUNBOOK.md never drifts from it, every
 * step is a real command reading outputs the constructs have, every shell variable is set before it
 * is read, every phase of the guide's dr-runbook is covered on every target, and no command copies a
 * secret out of its store.
 */
import 'cdktf/lib/testing/adapters/jest';
import { readFileSync } from 'node:fs';
import { Testing } from 'cdktf';
import { TboGcpStack } from '../../app/gcp-stack';
import { TboKubernetesStack } from '../../app/k8s-stack';
import {
  assignedVariable,
  GUIDE_BACKUP_STEPS,
  GUIDE_RUNBOOK_STEPS,
  placeholdersOf,
  RECOVERY_PHASES,
  ROLLBACK_PHASES,
  RUNBOOK_CLIS,
  RUNBOOK_OUTPUTS,
  runbookOutput,
  TBO_RUNBOOKS,
  toolOf,
  variablesOf,
  wholeCommandPlaceholder,
  type RunbookProcedure,
  type RunbookStep,
  type TargetRunbook,
} from '../../lib/core/runbook';
import { RUNBOOK, renderRunbookFile } from '../../scripts/render-runbook';

const PROCEDURES: readonly RunbookProcedure[] = ['recovery', 'rollback'];

/** Every step of a target with its procedure and position, for messages that name it. */
function stepsOf(runbook: TargetRunbook): { where: string; procedure: RunbookProcedure; step: RunbookStep }[] {
  return PROCEDURES.flatMap((procedure) => (runbook[procedure] as readonly RunbookStep[]).map((step, i) => ({ where: `${runbook.target} ${procedure} ${i + 1}`, procedure, step })));
}

/** Why a command is not runnable as written, or undefined when it is. */
function commandProblem(runbook: TargetRunbook, run: string): string | undefined {
  const whole = wholeCommandPlaceholder(run);
  if (whole !== undefined) return runbookOutput(runbook.target, whole)?.command ? undefined : `<${whole}> is not an output whose value is a command`;
  const tool = toolOf(run);
  return (RUNBOOK_CLIS as readonly string[]).includes(tool) ? undefined : `starts with "${tool}", not one of ${RUNBOOK_CLIS.join(', ')}`;
}

describe('RUNBOOK.md', () => {
  it('is exactly what `npm run docs` renders from lib/core/runbook*.ts', () => {
    expect(readFileSync(RUNBOOK, 'utf8')).toBe(renderRunbookFile());
  });

  it('has every step of every target under its own anchor, and the guide mapping links only to anchors that exist', () => {
    const text = readFileSync(RUNBOOK, 'utf8');
    const anchors = new Set([...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    const steps = TBO_RUNBOOKS.flatMap(stepsOf);
    expect(anchors.size).toBe(steps.length + TBO_RUNBOOKS.length + 1);
    const links = [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });
});

describe.each(TBO_RUNBOOKS.map((r) => [r.target, r] as const))('%s runbook', (_, runbook) => {
  const steps = stepsOf(runbook);
  const commands = [runbook.outputsCommand, ...steps.flatMap((s) => s.step.commands)];

  it('every placeholder names an output of the target', () => {
    const unknown = commands.flatMap((c) => placeholdersOf(c.run).filter((name) => !runbookOutput(runbook.target, name)).map((name) => `<${name}> in: ${c.run}`));
    expect(unknown).toEqual([]);
  });

  it('every command starts with an allowed CLI (npx cdk/cdktf included), assigns its output to a variable, or is an output holding a command', () => {
    const bad = commands.flatMap((c) => {
      const problem = commandProblem(runbook, c.run);
      return problem ? [`${c.run}: ${problem}`] : [];
    });
    expect(bad).toEqual([]);
  });

  it('every step has a title, a why and at least one command', () => {
    for (const { where, step } of steps) {
      expect({ where, title: step.title.length > 0, why: step.why.length > 40, commands: step.commands.length > 0 }).toEqual({ where, title: true, why: true, commands: true });
    }
  });

  it.each(PROCEDURES)('%s: every shell variable is set before it is read, and every one a step asks for is read', (procedure) => {
    const known = new Set<string>();
    const problems: string[] = [];
    (runbook[procedure] as readonly RunbookStep[]).forEach((step, i) => {
      const declared = (step.inputs ?? []).map((input) => input.name);
      for (const name of declared) known.add(name);
      const read = new Set<string>();
      for (const c of step.commands) {
        for (const name of variablesOf(c.run)) {
          read.add(name);
          if (!known.has(name)) problems.push(`step ${i + 1} reads $${name} before it is set: ${c.run}`);
        }
        const assigned = assignedVariable(c.run);
        if (assigned) known.add(assigned);
      }
      for (const name of declared) if (!read.has(name)) problems.push(`step ${i + 1} asks for ${name} and never reads it`);
    });
    expect(problems).toEqual([]);
  });

  it('recovery covers every phase of the guide, and so does rollback', () => {
    expect(new Set(runbook.recovery.map((s) => s.phase))).toEqual(new Set(RECOVERY_PHASES));
    expect(new Set(runbook.rollback.map((s) => s.phase))).toEqual(new Set(ROLLBACK_PHASES));
  });

  it('no command copies a secret out of its store (no Secret as YAML/JSON, no secret value read back)', () => {
    const leaks = [/get\s+secrets?\b.*-o\s*(yaml|json)/, /get-secret-value/, /secrets\s+versions\s+access/, /--from-file/];
    expect(commands.filter((c) => leaks.some((l) => l.test(c.run))).map((c) => c.run)).toEqual([]);
  });
});

describe('the guide mapping', () => {
  it('maps every dr-runbook step of the guide to at least one step on every target', () => {
    const missing = GUIDE_RUNBOOK_STEPS.flatMap((g) =>
      TBO_RUNBOOKS.filter((r) => !(r[g.procedure] as readonly RunbookStep[]).some((s) => (g.phases as readonly string[]).includes(s.phase))).map((r) => `${g.guide} on ${r.target}`),
    );
    expect(missing).toEqual([]);
  });

  it('replaces every backup.sh step on every target, or says why it is not done; the Secret export is not done', () => {
    for (const step of GUIDE_BACKUP_STEPS) {
      expect({ step: step.guide, either: (step.replacedBy === undefined) !== (step.notDone === undefined) }).toEqual({ step: step.guide, either: true });
      if (step.replacedBy) for (const r of TBO_RUNBOOKS) expect(step.replacedBy[r.target].length).toBeGreaterThan(20);
    }
    expect(GUIDE_BACKUP_STEPS.find((s) => /Secret/.test(s.guide))?.notDone).toMatch(/in clear/);
  });
});

/** The Terraform output names of a synthesized cdktf stack. */
function outputNames(json: string): string[] {
  return Object.keys((JSON.parse(json) as { output: Record<string, unknown> }).output);
}

describe('the cdktf example stacks, synthesized with every feature the runbook reads on', () => {
  const saved = process.env.TBO_IMAGE;
  let k8s: string[];
  let gcp: string[];
  beforeAll(() => {
    process.env.TBO_IMAGE = 'registry.example.com/tbo-service:1.0.0';
    k8s = outputNames(Testing.synth(new TboKubernetesStack(Testing.app(), 'tbo-k8s')));
    gcp = outputNames(Testing.synth(new TboGcpStack(Testing.app(), 'tbo-gcp', { service: { redis: { export: true } } })));
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TBO_IMAGE;
    else process.env.TBO_IMAGE = saved;
  });

  it('Kubernetes: the stack has every output the runbook names', () => {
    expect(RUNBOOK_OUTPUTS.k8s.map((o) => o.name).filter((name) => !k8s.includes(name))).toEqual([]);
  });

  it('GCP (redis.export on): the stack has every output the runbook names', () => {
    expect(RUNBOOK_OUTPUTS.gcp.map((o) => o.name).filter((name) => !gcp.includes(name))).toEqual([]);
  });
});
