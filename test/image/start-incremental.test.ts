/**
 * `npm start` recompiled the service every time (~12 s before it listened, even right after
 * `npm run synth`). It now rebuilds only when an input of the build is newer than `dist/`: this is
 * the check it runs (scripts/build-service.mjs `staleReason`), on a service folder laid out here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const SCRIPT = pathToFileURL(join(__dirname, '..', '..', 'scripts', 'build-service.mjs')).href;

/** What `staleReason` says of a service folder ('' when dist/ is up to date), run as npm start runs it. */
function staleReason(service: string): string {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', `import { staleReason } from ${JSON.stringify(SCRIPT)}; process.stdout.write(staleReason(${JSON.stringify(service)}) ?? '');`], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout;
}

function write(path: string, secondsAgo: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  const at = Date.now() / 1000 - secondsAgo;
  utimesSync(path, at, at);
}

describe('npm start rebuilds the service only when it is out of date', () => {
  let service: string;
  beforeEach(() => {
    service = mkdtempSync(join(tmpdir(), 'tbo-start-'));
    for (const input of ['src/main.ts', 'src/http/app.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.mjs']) write(join(service, input), 60);
  });
  afterEach(() => rmSync(service, { recursive: true, force: true }));

  it('a build newer than every input is used as it is', () => {
    for (const output of ['dist/main.js', 'dist/server-ABC.js', 'dist/server-ABC.js.cache']) write(join(service, output), 10);
    expect(staleReason(service)).toBe('');
  });

  it('rebuilds when dist/ is missing, or when any input changed after the build', () => {
    expect(staleReason(service)).toBe('service/dist/main.js is missing');
    for (const output of ['dist/main.js', 'dist/server-ABC.js']) write(join(service, output), 10);
    write(join(service, 'src/http/app.ts'), 1);
    expect(staleReason(service)).toBe('service/src changed since the last build');
    write(join(service, 'src/http/app.ts'), 60);
    write(join(service, 'package-lock.json'), 1);
    expect(staleReason(service)).toBe('service/package-lock.json changed since the last build');
  });
});
