/**
 * The Docker build context of service/Dockerfile (service/ as filtered by service/.dockerignore)
 * holds exactly what the Dockerfile COPYs from it: no tests, local node_modules, host dist/, logs,
 * env files, coverage or benchmark output. Matching follows Docker's .dockerignore rules through
 * aws-cdk-lib's DockerIgnoreStrategy (@balena/dockerignore, a port of moby's matcher), the code that
 * stages the AWS target's image asset from the same folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { IgnoreStrategy } from 'aws-cdk-lib/core';
import { SERVICE_DIR, serviceDockerfile } from './dockerfile';

const patterns = readFileSync(join(SERVICE_DIR, '.dockerignore'), 'utf8').split('\n');
const context = IgnoreStrategy.docker(SERVICE_DIR, patterns);
const included = (path: string) => !context.ignores(join(SERVICE_DIR, path));

/** Every file Docker would send, relative to service/ (pruning folders the patterns leave out entirely). */
function contextFiles(dir = SERVICE_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return context.completelyIgnores(path) ? [] : contextFiles(path);
    return context.ignores(path) ? [] : [relative(SERVICE_DIR, path)];
  });
}

/** Every file under a path of service/ (the path itself when it is a file). */
function filesUnder(path: string): string[] {
  const abs = join(SERVICE_DIR, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs).flatMap((entry) => filesUnder(join(path, entry)));
}

/** Sources the Dockerfile's COPY lines take from the build context (not `--from` a stage). */
const copiedFromContext = serviceDockerfile()
  .stages.flatMap((stage) => stage.copies)
  .filter((copy) => copy.from === undefined)
  .flatMap((copy) => copy.sources);

const isTestFile = (path: string) => /(\.(test|spec)\.[cm]?[jt]s$)|(^|\/)__tests__\//.test(path);

describe('service/.dockerignore', () => {
  it('lets in every file the Dockerfile COPYs from the context (tests beside the code excepted)', () => {
    expect(copiedFromContext).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const source of copiedFromContext) {
      const wanted = filesUnder(source).filter((path) => !isTestFile(path));
      expect(wanted.length).toBeGreaterThan(0);
      expect(wanted.filter((path) => !included(path))).toEqual([]);
    }
  });

  it('sends nothing the Dockerfile does not COPY', () => {
    const files = contextFiles();
    expect(files.length).toBeGreaterThan(10);
    const copied = (path: string) => copiedFromContext.some((source) => path === source || path.startsWith(`${source}/`));
    expect(files.filter((path) => !copied(path))).toEqual([]);
  });

  it.each([
    'node_modules/express/package.json',
    'dist/main.js',
    'dist/server-ABCD1234.js.cache',
    '.env',
    '.env.production',
    'npm-debug.log',
    'coverage/lcov.info',
    'bench/results/latest.json',
    'test/drop-in.test.ts',
    'src/http/auth.test.ts',
    'src/http/__tests__/auth.ts',
    'src/.env.local',
    'src/debug.log',
  ])('leaves out %s', (path) => {
    expect(included(path)).toBe(false);
  });

  it('the matcher is not vacuous: without the file, node_modules and dist would be sent', () => {
    const none = IgnoreStrategy.docker(SERVICE_DIR, []);
    expect(none.ignores(join(SERVICE_DIR, 'node_modules/express/package.json'))).toBe(false);
    expect(none.ignores(join(SERVICE_DIR, 'dist/main.js'))).toBe(false);
  });
});
