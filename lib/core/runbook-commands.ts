/**
 * Reading and filling the blanks of runbook commands: `<OutputName>` placeholders and `$NAME`
 * shell variables (see runbook-types.ts).
 */

const PLACEHOLDER = /<([A-Za-z][A-Za-z0-9_]*)>/g;
const VARIABLE = /\$\{?([A-Z][A-Z0-9_]*)\}?/g;
const ASSIGNMENT = /^([A-Z][A-Z0-9_]*)=\$\((.*)\)$/;

/** The output names a command's `<…>` placeholders name, in order, without repeats. */
export function placeholdersOf(run: string): string[] {
  return [...new Set([...run.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** The shell variables a command reads (`$NAME`, `${NAME}`), in order, without repeats; not the one it assigns. */
export function variablesOf(run: string): string[] {
  const assigned = assignedVariable(run);
  return [...new Set([...run.matchAll(VARIABLE)].map((m) => m[1]))].filter((name) => name !== assigned);
}

/** The variable a `NAME=$(…)` command assigns, if it is one. */
export function assignedVariable(run: string): string | undefined {
  return ASSIGNMENT.exec(run)?.[1];
}

/**
 * The tool a command runs: its first word, the one after `npx`, or the first word inside
 * `NAME=$(…)`; `<name>` when the command is exactly one placeholder.
 */
export function toolOf(run: string): string {
  const inner = ASSIGNMENT.exec(run)?.[2] ?? run;
  const words = inner.trim().split(/\s+/);
  return words[0] === 'npx' ? (words[1] ?? '') : words[0];
}

/** The placeholder a command consists of, when it is exactly one (an output whose value is a command). */
export function wholeCommandPlaceholder(run: string): string | undefined {
  return /^<([A-Za-z][A-Za-z0-9_]*)>$/.exec(run.trim())?.[1];
}

/** Concrete values for a command's blanks; any left out stay as they are. */
export interface RunbookValues {
  /** By output name (the placeholder without `<>`). */
  readonly outputs?: Readonly<Record<string, string>>;
  /** By shell variable name. */
  readonly variables?: Readonly<Record<string, string>>;
  /** Whole words replaced as given, e.g. the example app's stack name by the real one. */
  readonly words?: Readonly<Record<string, string>>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The command with every blank `values` knows filled in. */
export function fillRunbookCommand(run: string, values: RunbookValues): string {
  let text = run.replace(PLACEHOLDER, (whole, name: string) => values.outputs?.[name] ?? whole);
  text = text.replace(VARIABLE, (whole, name: string) => values.variables?.[name] ?? whole);
  for (const [word, replacement] of Object.entries(values.words ?? {})) {
    text = text.replace(new RegExp(`(?<=^|\\s)${escapeRegExp(word)}(?=\\s|$)`, 'g'), replacement);
  }
  return text;
}
