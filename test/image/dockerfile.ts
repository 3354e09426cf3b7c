/**
 * service/Dockerfile read into the facts the engine-less image tests reproduce: per stage its base
 * image, ENV, WORKDIR, COPY lines, USER, EXPOSE, HEALTHCHECK, STOPSIGNAL and CMD. Parsed with
 * dockerfile-ast (the parser of the Docker language server), so continuation lines, JSON and shell
 * forms and flags follow Docker's grammar. Anything a stage does that is not modelled here (RUN,
 * ADD, ENTRYPOINT, VOLUME, SHELL, …) is listed in `unmodelled`: a reproduction must refuse such a
 * stage rather than silently differ from the image.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Cmd, Copy, DockerfileParser, Env, From, Healthcheck, type Instruction } from 'dockerfile-ast';

export const SERVICE_DIR = join(__dirname, '..', '..', 'service');
export const SERVICE_DOCKERFILE = join(SERVICE_DIR, 'Dockerfile');

/** One COPY line. */
export interface CopyLine {
  /** `--from`: a stage name (or image); undefined for the build context. */
  readonly from?: string;
  /** `--chown` as written (`root:root`, `1000`, …). */
  readonly chown?: string;
  /** `--chmod` as written (octal). */
  readonly chmod?: string;
  readonly sources: readonly string[];
  /** Absolute, resolved against the stage's WORKDIR at that line. */
  readonly destination: string;
}

/** HEALTHCHECK with its timings in seconds (Docker's defaults when a flag is absent). */
export interface HealthcheckLine {
  /** The command as Docker runs it: exec form as written, shell form as `/bin/sh -c …`. */
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly startPeriodSeconds: number;
  readonly retries: number;
}

export interface Stage {
  /** `AS name`, when given. */
  readonly name?: string;
  /** The base image with build-arg defaults substituted. */
  readonly image: string;
  /** ENV in effect at the end of the stage (this stage's own ENV lines; base image ENV is not known here). */
  readonly env: Readonly<Record<string, string>>;
  /** WORKDIR in effect at the end of the stage. */
  readonly workdir: string;
  readonly copies: readonly CopyLine[];
  readonly user?: string;
  readonly expose: readonly string[];
  readonly healthcheck?: HealthcheckLine;
  readonly stopSignal?: string;
  /** CMD as Docker runs it (exec form as written, shell form as `/bin/sh -c …`). */
  readonly cmd?: readonly string[];
  /** Instructions present in the stage that this model does not capture. */
  readonly unmodelled: readonly string[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly args: Readonly<Record<string, string | undefined>>;
  readonly stages: readonly Stage[];
  /** The stage `docker build` produces without `--target`: the last one. */
  readonly final: Stage;
}

const MODELLED = new Set(['FROM', 'ENV', 'WORKDIR', 'COPY', 'USER', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'CMD', 'LABEL']);
/** Docker's HEALTHCHECK defaults. */
const HEALTHCHECK_DEFAULTS = { interval: 30, timeout: 30, 'start-period': 0, retries: 3 };

/** A Go duration as Docker's flags take it (`30s`, `1m30s`, `500ms`), in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, ns: 1e-9 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`Dockerfile: not a duration: ${text}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

/** `${NAME}` / `$NAME` from `vars`; a reference to an unknown name, or a `${NAME:-…}` modifier, throws. */
function substitute(text: string, vars: Readonly<Record<string, string | undefined>>, where: string): string {
  return text.replace(/\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = vars[name];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || value === undefined) throw new Error(`Dockerfile ${where}: cannot resolve $${braced !== undefined ? `{${name}}` : name}`);
    return value;
  });
}

/**
 * One word of an ENV value as Docker's shell lexer reads it: quotes removed ('…' literal, "…" with
 * \" \\ \$ escapes and variables), a backslash outside quotes escapes the next character, and
 * variables are substituted outside single quotes.
 */
function envWord(raw: string, vars: Readonly<Record<string, string | undefined>>, where: string): string {
  let out = '';
  let plain = '';
  const flush = () => {
    out += substitute(plain, vars, where);
    plain = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "'") {
      flush();
      const end = raw.indexOf("'", i + 1);
      if (end === -1) throw new Error(`Dockerfile ${where}: unterminated quote`);
      out += raw.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < raw.length && raw[j] !== '"'; j++) {
        if (raw[j] === '\\' && '"\\$'.includes(raw[j + 1] ?? '')) {
          flush();
          out += raw[++j];
        } else plain += raw[j];
      }
      if (j >= raw.length) throw new Error(`Dockerfile ${where}: unterminated quote`);
      i = j;
    } else if (c === '\\' && i + 1 < raw.length) {
      flush();
      out += raw[++i];
    } else plain += c;
  }
  flush();
  return out;
}

/** The command of CMD / HEALTHCHECK CMD as Docker runs it. */
function commandOf(raw: string): string[] {
  const text = raw.trim();
  if (text.startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`Dockerfile: not an exec-form command: ${text}`);
    return parsed;
  }
  return ['/bin/sh', '-c', text];
}

function healthcheckOf(instruction: Healthcheck): HealthcheckLine | undefined {
  const subcommand = instruction.getSubcommand();
  if (!subcommand || subcommand.getValue().toUpperCase() === 'NONE') return undefined;
  const flags = Object.fromEntries(instruction.getFlags().map((f) => [f.getName(), f.getValue() ?? '']));
  const seconds = (name: 'interval' | 'timeout' | 'start-period') => (name in flags ? durationSeconds(flags[name]) : HEALTHCHECK_DEFAULTS[name]);
  const raw = instruction.getRawArgumentsContent() ?? '';
  const afterCmd = raw.slice(raw.search(/\bCMD\b/i) + 3);
  return {
    command: commandOf(afterCmd),
    intervalSeconds: seconds('interval'),
    timeoutSeconds: seconds('timeout'),
    startPeriodSeconds: seconds('start-period'),
    retries: 'retries' in flags ? Number(flags.retries) : HEALTHCHECK_DEFAULTS.retries,
  };
}

function stageOf(instructions: readonly Instruction[], args: Readonly<Record<string, string | undefined>>): Stage {
  const [from, ...rest] = instructions;
  if (!(from instanceof From)) throw new Error('Dockerfile: a stage must start with FROM');
  let workdir = '/';
  const env: Record<string, string> = {};
  const copies: CopyLine[] = [];
  const expose: string[] = [];
  const unmodelled: string[] = [];
  let user: string | undefined;
  let healthcheck: HealthcheckLine | undefined;
  let stopSignal: string | undefined;
  let cmd: string[] | undefined;
  for (const instruction of rest) {
    const keyword = instruction.getKeyword();
    const where = `line ${instruction.getRange().start.line + 1} (${keyword})`;
    if (!MODELLED.has(keyword)) unmodelled.push(`${keyword} at line ${instruction.getRange().start.line + 1}`);
    if (instruction instanceof Env) {
      for (const p of instruction.getProperties()) env[p.getName()] = envWord(p.getUnescapedValue() ?? '', env, where); // as written: quotes and escapes intact
    } else if (keyword === 'WORKDIR') {
      if (user !== undefined) unmodelled.push(`WORKDIR after USER at line ${instruction.getRange().start.line + 1}`);
      workdir = posix.resolve(workdir, substitute(instruction.getArgumentsContent() ?? '', env, where));
    } else if (instruction instanceof Copy) {
      const flags = Object.fromEntries(instruction.getFlags().map((f) => [f.getName(), f.getValue() ?? '']));
      const json = instruction.getJSONStrings().map((s) => s.getJSONValue());
      const paths = json.length > 0 ? json : instruction.getArguments().map((a) => a.getValue());
      const destination = paths[paths.length - 1];
      copies.push({
        from: flags.from,
        chown: flags.chown,
        chmod: flags.chmod,
        sources: paths.slice(0, -1),
        // A destination ending in `/` names a directory; keep the slash.
        destination: posix.resolve(workdir, destination) + (destination.endsWith('/') && destination !== '/' ? '/' : ''),
      });
    } else if (keyword === 'USER') {
      user = instruction.getArgumentsContent() ?? undefined;
    } else if (keyword === 'EXPOSE') {
      expose.push(...instruction.getArguments().map((a) => a.getValue()));
    } else if (instruction instanceof Healthcheck) {
      healthcheck = healthcheckOf(instruction);
    } else if (keyword === 'STOPSIGNAL') {
      stopSignal = instruction.getArgumentsContent() ?? undefined;
    } else if (instruction instanceof Cmd) {
      cmd = commandOf(instruction.getRawArgumentsContent() ?? '');
    }
  }
  return {
    name: from.getBuildStage() ?? undefined,
    image: substitute(from.getImage() ?? '', args, 'FROM'),
    env,
    workdir,
    copies,
    user,
    expose,
    healthcheck,
    stopSignal,
    cmd,
    unmodelled,
  };
}

/** Parses a Dockerfile's text. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  const args = Object.fromEntries(
    dockerfile.getInitialARGs().flatMap((arg) => {
      const property = arg.getProperty();
      return property ? [[property.getName(), property.getUnescapedValue() ?? undefined]] : [];
    }),
  );
  const groups: Instruction[][] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) groups.push([instruction]);
    else if (groups.length > 0) groups[groups.length - 1].push(instruction);
  }
  if (groups.length === 0) throw new Error('Dockerfile: no FROM');
  const stages = groups.map((group) => stageOf(group, args));
  return { args, stages, final: stages[stages.length - 1] };
}

/** service/Dockerfile, parsed. */
export function serviceDockerfile(): ParsedDockerfile {
  return parseDockerfile(readFileSync(SERVICE_DOCKERFILE, 'utf8'));
}

/** The stage named `name` (a COPY --from target); throws naming the stages there are. */
export function stageNamed(dockerfile: ParsedDockerfile, name: string): Stage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`Dockerfile: no stage named ${name} (stages: ${dockerfile.stages.map((s) => s.name ?? '(unnamed)').join(', ')})`);
  return stage;
}
