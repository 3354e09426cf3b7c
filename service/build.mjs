// Builds dist/ for the image (`npm run build`, after `tsc --noEmit` has type-checked src/).
//
// Cold start is paid on every scale-out, and most of it was module loading: resolving, reading and
// compiling ~750 files. So:
// - src/main.ts and its dependencies are bundled by esbuild into one CommonJS file,
//   dist/server-<hash>.js; the image needs no node_modules (only node built-ins are left to require).
// - dist/main.js (the image's `node dist/main.js`) is a small loader, written here, that runs that
//   file from V8's code cache (dist/server-<hash>.js.cache) when this node accepts it, and compiles
//   it as usual otherwise. The cache is made here by starting the bundled service with this
//   node once (loopback, free ports), waiting for /ready and saving what V8 compiled by then.
//   V8 accepts a cache only from the same V8 version and flags (e.g. not with --max-old-space-size):
//   else the service starts as fast as the bundle alone allows, with the same code. V8 checks a
//   cache against its source's length, not its content: the bundle's name carries its content
//   hash, so a cache is never paired with another build's file.
// - dist/healthcheck.js (the image's HEALTHCHECK) is bundled the same way, without a cache.
// - Every src/optional/<name>.ts (a part a deployment may leave off: tracing …) is bundled as its own
//   file, dist/optional-<name>.js, which the service requires at run time only when that part is on
//   (src/optional.ts, `loadOptional`): off, its code is neither read nor compiled. The main bundle
//   must not contain it (checked below).
//
// dist/ is replaced file by file (each written beside its target, then renamed over it), the loader
// after the file it loads, and files of an earlier build are removed last: a process started
// meanwhile never finds a half-written or missing file.
import { spawn } from 'node:child_process';
import console from 'node:console';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const nodeMajor = /(\d+)/.exec(pkg.engines.node)[1];
const CACHE_TIMEOUT_MS = 30_000;

const common = {
  absWorkingDir: root,
  outdir: out,
  bundle: true,
  platform: 'node',
  target: `node${nodeMajor}`,
  format: 'cjs',
  // Stack traces keep function and class names; NODE_OPTIONS=--enable-source-maps maps them to
  // src/ through the .map files (no cost at start-up without the flag).
  keepNames: true,
  // Less to read and scan at start-up; identifiers are kept, so stack traces and CPU profiles
  // read as the source does.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  // Licence headers stay out of the code; the full texts go to dist/THIRD-PARTY-LICENSES.txt.
  legalComments: 'none',
  // debug's optional colour support, required inside a try: not a dependency of the service, so
  // the image has none, and neither may a bundle built anywhere else.
  external: ['supports-color'],
  // gaxios (Vertex AI's credentials) imports node-fetch on Node; Node's own fetch does the same
  // job (see src/shims/node-fetch.ts), ~190 KiB less to load.
  alias: { 'node-fetch': './src/shims/node-fetch.ts' },
  metafile: true,
  write: false,
  logLevel: 'warning',
  // src/optional.ts: in a bundle, optional parts are required from dist/optional-<name>.js.
  define: { TBO_BUNDLED: 'true' },
};

/** src/optional/<name>.ts → dist/optional-<name>.js (see src/optional.ts). */
const optionalDir = join(root, 'src', 'optional');
const optionalEntries = Object.fromEntries(
  (existsSync(optionalDir) ? readdirSync(optionalDir) : [])
    .filter((f) => /^[a-z][a-z0-9-]*\.ts$/.test(f))
    .map((f) => [`optional-${f.slice(0, -3)}`, `src/optional/${f}`]),
);

const hasOptional = Object.keys(optionalEntries).length > 0;
const [server, healthcheck, optional] = await Promise.all([
  build({ ...common, entryPoints: { server: 'src/main.ts' }, entryNames: '[name]-[hash]' }),
  build({ ...common, entryPoints: { healthcheck: 'src/healthcheck.ts' } }),
  hasOptional ? build({ ...common, entryPoints: optionalEntries }) : undefined,
]);
const metafiles = [server.metafile, healthcheck.metafile, ...(optional ? [optional.metafile] : [])];

// An optional part bundled into the main file would be loaded (and paid for) by every deployment.
const inMain = Object.keys(server.metafile.inputs).filter((input) => input.startsWith('src/optional/'));
if (inMain.length) throw new Error(`the main bundle contains optional modules (import them only through loadOptional in src/optional.ts): ${inMain.join(', ')}`);

// The bundle is what the image builds: only files of this folder and its own node_modules (not a
// package that happens to be installed further up, e.g. in the repository's root), and at run time
// nothing but node's built-ins and the optional externals above (the image has no node_modules).
const builtins = new Set(builtinModules);
for (const metafile of metafiles) {
  const outside = Object.keys(metafile.inputs).filter((input) => input.startsWith('..'));
  if (outside.length) throw new Error(`bundled from outside service/ (not in its package-lock.json): ${outside.join(', ')}`);
  for (const [file, output] of Object.entries(metafile.outputs)) {
    for (const { path, external } of output.imports) {
      if (external && !path.startsWith('node:') && !builtins.has(path) && !common.external.includes(path)) throw new Error(`${file} requires ${path} at run time: the image has no node_modules`);
    }
  }
}

const serverFile = server.outputFiles.find((f) => f.path.endsWith('.js')).path;
const serverName = relative(out, serverFile);

/** Every bundled npm package (name, version, licence, licence text), from the metafiles' inputs. */
function thirdPartyLicenses(...metafiles) {
  const dirs = new Set();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match) dirs.add(resolve(root, match[1]));
    }
  }
  const sections = [...dirs]
    .map((dir) => {
      const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `(the package ships no licence file; its package.json says ${meta.license ?? 'nothing'})`;
      return { name: meta.name, text: `${meta.name}@${meta.version} (${meta.license ?? 'see text'})\n\n${text}\n` };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return `Third-party packages bundled into dist/ by service/build.mjs (${sections.length}).\n\n${sections.map((s) => s.text).join(`\n${'-'.repeat(78)}\n\n`)}`;
}

const loader = `'use strict';
// Written by service/build.mjs: runs the bundled service (./${serverName}) from V8's code cache
// (./${serverName}.cache, made by the build with this node) when this node accepts it, else
// compiles it as usual. Same code either way; the cache only saves compiling it at start-up.
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

const file = join(__dirname, ${JSON.stringify(serverName)});
if (process.sourceMapsEnabled) {
  require(file); // --enable-source-maps: the usual loader, which maps stack traces to src/
} else {
  let cachedData;
  try {
    cachedData = readFileSync(\`\${file}.cache\`);
  } catch {
    // no cache: compile
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const mod = new Module(file, module);
  mod.filename = file;
  require.cache[file] = mod;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, __dirname);
  mod.loaded = true;
  /** For the build: V8's code cache of everything compiled so far. */
  module.exports.createCachedData = () => script.createCachedData();
}
`;

/** Writes beside the target, then renames over it. */
function replace(path, contents) {
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, contents);
  renameSync(partial, path);
}

const written = new Set();
const put = (path, contents) => {
  replace(path, contents);
  written.add(path);
};
mkdirSync(out, { recursive: true });
// Optional parts first: the main bundle that requires them is written after them.
for (const f of [...(optional?.outputFiles ?? []), ...server.outputFiles, ...healthcheck.outputFiles]) put(f.path, f.contents);
put(join(out, 'THIRD-PARTY-LICENSES.txt'), thirdPartyLicenses(...metafiles));
put(join(out, 'main.js'), loader);

/**
 * Starts `node dist/main.js` on free loopback ports, waits for /ready, and writes V8's code cache of
 * what it compiled by then to `path` (in its own process: the cache must come from the node that
 * runs it, with no extra V8 flags).
 */
function writeCodeCache(path) {
  const script = `
    const { get } = require('node:http');
    const net = require('node:net');
    const free = () => new Promise((ok, fail) => {
      const s = net.createServer().once('error', fail).listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    });
    const status = (port, path) => new Promise((ok) => get({ host: '127.0.0.1', port, path, agent: false }, (res) => { res.resume(); ok(res.statusCode); }).on('error', () => ok(0)));
    (async () => {
      const [port, admin] = [await free(), await free()];
      Object.assign(process.env, { TBO_PORT: String(port), TBO_ADMIN_PORT: String(admin) });
      const tbo = require(${JSON.stringify(join(out, 'main.js'))});
      while ((await status(port, '/ready')) !== 200) await new Promise((r) => setTimeout(r, 5));
      await status(port, '/health');
      require('node:fs').writeFileSync(process.argv[1], tbo.createCachedData());
      process.exit(0);
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', TBO_HOST: '127.0.0.1', TBO_LOG_LEVEL: 'silent', TBO_CONFIG_FILE: '' };
  return new Promise((resolveWritten, reject) => {
    const child = spawn(process.execPath, ['-e', script, path], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CACHE_TIMEOUT_MS);
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveWritten();
      else reject(new Error(`the bundled service did not reach /ready (${signal ?? `exit ${code}`}): ${err.slice(-2000)}`));
    });
  });
}

const partialCache = `${serverFile}.cache.${process.pid}.partial`;
await writeCodeCache(partialCache);
renameSync(partialCache, `${serverFile}.cache`);
written.add(`${serverFile}.cache`);

for (const entry of readdirSync(out)) {
  const path = join(out, entry);
  if (!written.has(path) && !entry.endsWith('.partial')) rmSync(path, { recursive: true, force: true });
}
const kib = (path) => `${(statSync(path).size / 1024).toFixed(0)} KiB`;
const optionalSizes = Object.keys(optionalEntries).map((name) => `, dist/${name}.js ${kib(join(out, `${name}.js`))}`).join('');
console.log(`dist/${serverName} ${kib(serverFile)}, its code cache ${kib(`${serverFile}.cache`)}, dist/healthcheck.js ${kib(join(out, 'healthcheck.js'))}${optionalSizes}`);
