import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/** One `.dockerignore` line, cleaned as Docker cleans it. */
export interface IgnorePattern {
  /** The cleaned pattern, without its leading `!`. */
  readonly text: string;
  /** A `!` line: re-includes what earlier lines excluded. */
  readonly exception: boolean;
  readonly regex: RegExp;
}

/** Characters that are literal in a Docker pattern but special in a JavaScript regular expression. */
const LITERAL = /[.+(){}|$^]/;

/**
 * A Docker pattern (Go `filepath.Match` syntax plus `**`) as an anchored regular expression, the way
 * moby's patternmatcher compiles it: `*` is any run of characters but `/`, `?` one such character,
 * `**` any number of directories (none included), `[...]` a character class, `\` escapes.
 */
function compile(pattern: string): RegExp {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        source += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        source += '[^/]*';
      }
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '\\') {
      source += i + 1 < pattern.length ? `\\${pattern[++i]}` : '\\\\';
    } else if (ch === '[' || ch === ']') {
      source += ch;
    } else {
      source += LITERAL.test(ch) ? `\\${ch}` : ch;
    }
  }
  return new RegExp(`${source}$`);
}

/** `filepath.Clean` of a slash-separated pattern, relative to the context root (a leading `/` dropped). */
function clean(pattern: string): string {
  let text = posix.normalize(pattern);
  if (text.length > 1 && text.endsWith('/')) text = text.slice(0, -1);
  if (text.length > 1 && text.startsWith('/')) text = text.slice(1);
  return text;
}

/**
 * Parses `.dockerignore` text as Docker does: `#` lines are comments, lines are trimmed, empty ones
 * skipped, `!` marks an exception, each pattern is cleaned and taken relative to the context root.
 */
export function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (raw.startsWith('#')) continue;
    let line = raw.trim();
    if (line === '') continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    if (line === '') continue;
    const cleaned = clean(line);
    patterns.push({ text: cleaned, exception, regex: compile(cleaned) });
  }
  return patterns;
}

/**
 * Which paths of a build context `docker build` leaves out, per its `.dockerignore`: the last pattern
 * that matches a path (or one of its parent directories) decides.
 */
export class DockerignoreMatcher {
  private readonly patterns: readonly IgnorePattern[];

  constructor(text: string) {
    this.patterns = parseDockerignore(text);
  }

  /** The matcher of `<contextDir>/.dockerignore` (none: nothing is excluded). */
  static forContext(contextDir: string): DockerignoreMatcher {
    const file = join(contextDir, '.dockerignore');
    return new DockerignoreMatcher(existsSync(file) ? readFileSync(file, 'utf8') : '');
  }

  /** Whether `docker build` leaves out `path` (relative to the context, `/`-separated). */
  excludes(path: string): boolean {
    const parents = path.split('/').slice(0, -1);
    let excluded = false;
    for (const pattern of this.patterns) {
      // An exception can only undo an exclusion, and an exclusion only matters for a path still sent.
      if (pattern.exception !== excluded) continue;
      let match = pattern.regex.test(path);
      for (let i = 1; !match && i <= parents.length; i++) match = pattern.regex.test(parents.slice(0, i).join('/'));
      if (match) excluded = !pattern.exception;
    }
    return excluded;
  }

  /**
   * Whether an excluded directory may still hold a path an exception re-includes, so the walk must
   * enter it (Docker's own rule: an exception pattern that starts with the directory's path).
   */
  mayReinclude(dir: string): boolean {
    return this.patterns.some((p) => p.exception && `${p.text}/`.startsWith(`${dir}/`));
  }
}
