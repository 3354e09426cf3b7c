/**
 * The build context hash behind the cdktf image build (lib/cdktf-image): the files `docker build`
 * sends per `.dockerignore`, and a hash that changes exactly when they do. Shared by the GCP and
 * Kubernetes targets.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DockerignoreMatcher, buildContextFiles, buildContextHash } from '../../lib/cdktf-image';
import { serviceDirectory } from '../../lib/core';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tbo-context-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

describe('DockerignoreMatcher: Docker\'s .dockerignore rules', () => {
  const excluded = (ignore: string, paths: string[]) => {
    const m = new DockerignoreMatcher(ignore);
    return paths.filter((p) => m.excludes(p));
  };

  it('a name excludes that path and everything under it, at the root only', () => {
    expect(excluded('node_modules\n', ['node_modules/a/index.js', 'src/node_modules/x.js', 'node_modules'])).toEqual(['node_modules/a/index.js', 'node_modules']);
  });

  it('* and ? stay within one path segment; ** spans any number, none included', () => {
    expect(excluded('*.log\n', ['a.log', 'logs/a.log'])).toEqual(['a.log']);
    expect(excluded('**/*.log\n', ['a.log', 'logs/a.log', 'x/y/z.log', 'a.txt'])).toEqual(['a.log', 'logs/a.log', 'x/y/z.log']);
    expect(excluded('src/?.ts\n', ['src/a.ts', 'src/ab.ts'])).toEqual(['src/a.ts']);
    expect(excluded('test/**\n', ['test/a.ts', 'test/x/b.ts', 'testing/c.ts'])).toEqual(['test/a.ts', 'test/x/b.ts']);
  });

  it('the last matching line wins: ! re-includes', () => {
    expect(excluded('*.md\n!README.md\n', ['CHANGES.md', 'README.md'])).toEqual(['CHANGES.md']);
    expect(excluded('!README.md\n*.md\n', ['README.md'])).toEqual(['README.md']);
  });

  it('comments, blank lines, leading slashes, ./ and trailing slashes are read as Docker reads them', () => {
    expect(excluded('# dist\n\n  /dist/  \n./.env*\n', ['dist/main.js', '.env.local', '# dist'])).toEqual(['dist/main.js', '.env.local']);
  });

  it('regular-expression characters in names are literal', () => {
    expect(excluded('a+b(1).txt\n', ['a+b(1).txt', 'aab1.txt'])).toEqual(['a+b(1).txt']);
  });
});

describe('buildContextFiles and buildContextHash', () => {
  it('lists what docker build sends: not the ignored files, always the Dockerfile and .dockerignore', () => {
    write({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'node_modules\ndist\n*.log\nDockerfile\n.dockerignore\ntest/**\n!test/fixture.json\n',
      'package.json': '{}',
      'src/main.ts': 'x',
      'node_modules/dep/index.js': 'y',
      'dist/main.js': 'z',
      'debug.log': 'l',
      'test/a.test.ts': 't',
      'test/fixture.json': '{}',
    });
    expect(buildContextFiles(dir)).toEqual(['.dockerignore', 'Dockerfile', 'package.json', 'src/main.ts', 'test/fixture.json']);
  });

  it('changes when a sent file\'s content or name changes, a file is added, or .dockerignore changes; not for ignored files', () => {
    write({ Dockerfile: 'FROM scratch\n', '.dockerignore': 'node_modules\n*.log\n', 'src/main.ts': 'one' });
    const base = buildContextHash(dir);
    expect(buildContextHash(dir)).toBe(base);
    write({ 'node_modules/dep/index.js': 'ignored', 'x.log': 'ignored' });
    expect(buildContextHash(dir)).toBe(base);

    write({ 'src/main.ts': 'two' });
    const edited = buildContextHash(dir);
    expect(edited).not.toBe(base);
    write({ 'src/extra.ts': '' });
    const added = buildContextHash(dir);
    expect(added).not.toBe(edited);
    write({ '.dockerignore': 'node_modules\n' });
    expect(buildContextHash(dir)).not.toBe(added); // x.log is sent now, and .dockerignore itself changed
  });

  it('does not depend on where the folder is (the same sources give the same tag on any machine)', () => {
    write({ Dockerfile: 'FROM scratch\n', 'src/main.ts': 'x' });
    const elsewhere = mkdtempSync(join(tmpdir(), 'tbo-context-copy-'));
    try {
      cpSync(dir, elsewhere, { recursive: true });
      expect(buildContextHash(elsewhere)).toBe(buildContextHash(dir));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a symbolic link counts by its target, as docker sends it', () => {
    write({ Dockerfile: 'FROM scratch\n', 'a.txt': 'a', 'b.txt': 'b' });
    symlinkSync('a.txt', join(dir, 'link'));
    const toA = buildContextHash(dir);
    rmSync(join(dir, 'link'));
    symlinkSync('b.txt', join(dir, 'link'));
    expect(buildContextHash(dir)).not.toBe(toA);
    expect(buildContextFiles(dir)).toContain('link');
  });

  it('the bundled service: its sources and manifests, never a local node_modules or dist', () => {
    const files = buildContextFiles(serviceDirectory());
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'src/main.ts']));
    expect(files.filter((f) => /^(node_modules|dist)\//.test(f))).toEqual([]);
    expect(buildContextHash(serviceDirectory())).toMatch(/^[0-9a-f]{64}$/);
  });
});
