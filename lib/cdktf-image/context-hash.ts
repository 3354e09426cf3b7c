import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DockerignoreMatcher } from './dockerignore';

/** Files Docker always needs from the context, whatever `.dockerignore` says (the build reads them itself). */
const ALWAYS_SENT = ['Dockerfile', '.dockerignore'] as const;

/**
 * The files `docker build` sends from `contextDir`: every regular file and symbolic link that its
 * `.dockerignore` does not exclude, plus the Dockerfile and `.dockerignore` themselves; relative,
 * `/`-separated, sorted. Excluded directories are not entered unless an exception may re-include
 * something in them, so a local `node_modules` costs nothing.
 */
export function buildContextFiles(contextDir: string): string[] {
  const matcher = DockerignoreMatcher.forContext(contextDir);
  const files = new Set<string>();
  const walk = (relDir: string): void => {
    for (const entry of readdirSync(join(contextDir, relDir), { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const excluded = matcher.excludes(rel);
      if (entry.isDirectory()) {
        if (!excluded || matcher.mayReinclude(rel)) walk(rel);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !excluded) {
        files.add(rel);
      }
    }
  };
  walk('');
  for (const name of ALWAYS_SENT) {
    try {
      if (lstatSync(join(contextDir, name)).isFile()) files.add(name);
    } catch {
      // absent: nothing to send
    }
  }
  return [...files].sort();
}

/**
 * SHA-256 (hex) of a build context: each file's relative path and content (a symbolic link's
 * target), in path order. The same sources give the same hash on any machine and in any folder, so a
 * deploy rebuilds and pushes only when what the image is built from changed.
 */
export function buildContextHash(contextDir: string): string {
  const hash = createHash('sha256');
  for (const rel of buildContextFiles(contextDir)) {
    const path = join(contextDir, rel);
    const link = lstatSync(path).isSymbolicLink();
    const body = link ? Buffer.from(`symlink:${readlinkSync(path)}`) : readFileSync(path);
    hash.update(`${rel}\0${body.length}\0`);
    hash.update(body);
  }
  return hash.digest('hex');
}
