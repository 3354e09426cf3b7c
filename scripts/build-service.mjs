// Builds service/dist as the image's build stage does, on the node the image runs: the service's own
// `npm run build` (tsc, then build.mjs) with the service's Node.js (scripts/service-node.cjs) first on
// PATH. build.mjs writes V8's code cache with the node that runs it, and V8 takes a cache only from
// its own version: built this way, the Node 24 suites, test/image and `npm start` load dist/ exactly
// as the container does (from the cache), instead of compiling it because the machine's node made it.
// `npm run build --prefix service` alone still works (with the machine's node; the service then
// compiles at start-up).
//
// `node scripts/build-service.mjs --if-stale` (npm test's pretest) builds only when dist/ is out of
// date: older than an input of the build, or with a code cache the service's node rejects.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import serviceNode from './service-node.cjs';

const { ROOT, ensureServiceNode, pathWith } = serviceNode;
const SERVICE = join(ROOT, 'service');
/** What service/build.mjs reads: a change to any of them means dist/ is out of date. */
const BUILD_INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.mjs'];

/** Modification times (ms) of every file under `path` (the file itself when it is one). */
function mtimes(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return [stat.mtimeMs];
  return readdirSync(path).flatMap((entry) => mtimes(join(path, entry)));
}

/**
 * Why service/dist must be rebuilt from its sources, or undefined when every file in it is newer
 * than every input of the build.
 */
export function staleReason(service = SERVICE) {
  const dist = join(service, 'dist');
  if (!existsSync(join(dist, 'main.js'))) return 'service/dist/main.js is missing';
  const oldestOutput = Math.min(...mtimes(dist));
  for (const input of BUILD_INPUTS) {
    const path = join(service, input);
    if (existsSync(path) && Math.max(...mtimes(path)) >= oldestOutput) return `service/${input} changed since the last build`;
  }
  return undefined;
}

/** Why `node` would not load service/dist from its code cache (V8 rejects a cache of another node), or undefined when it would. */
export function cacheRejectedBy(node, service = SERVICE) {
  const dist = join(service, 'dist');
  const bundles = readdirSync(dist).filter((f) => /^server-[A-Z0-9]+\.js$/.test(f));
  if (bundles.length !== 1 || !existsSync(join(dist, `${bundles[0]}.cache`))) return 'service/dist has no single bundle with a code cache';
  const probe = `const { readFileSync } = require('node:fs');
    const f = process.argv[1];
    const s = new (require('node:vm').Script)(require('node:module').wrap(readFileSync(f, 'utf8')), { filename: f, cachedData: readFileSync(f + '.cache') });
    process.stdout.write(String(s.cachedDataRejected));`;
  const run = spawnSync(node.path, ['-e', probe, join(dist, bundles[0])], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`could not check service/dist's code cache with ${node.path}: ${run.stderr}`);
  return run.stdout === 'false' ? undefined : `node ${node.version ?? ''} rejects service/dist's code cache (another node built it)`;
}

/** Runs the service's build with its Node.js; throws when it fails. */
export function buildService() {
  const node = ensureServiceNode();
  console.error(`building service/dist with node ${node.version ?? process.version} (${node.source})`);
  const run = spawnSync('npm', ['run', 'build', '--prefix', SERVICE], {
    stdio: 'inherit',
    env: { ...process.env, PATH: pathWith(node) },
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`npm run build --prefix service failed (${run.signal ?? `exit ${run.status}`})`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--if-stale')) {
      const reason = staleReason() ?? cacheRejectedBy(ensureServiceNode());
      if (reason) {
        console.error(`${reason}: rebuilding`);
        buildService();
      } else console.error('service/dist is up to date, with a code cache for the service\'s node');
    } else buildService();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
