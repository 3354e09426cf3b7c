// `npm run test:node24`: jest's `node24` project (the service's suites listed in jest.config.js) on
// the Node.js the image ships (scripts/service-node.cjs; installed on first use). Extra arguments go
// to jest (`npm run test:node24 -- test/security`). The tests' own child processes run the service
// with `process.execPath`, so they are on the same node; `node` on their PATH is that node too.
import { spawn } from 'node:child_process';
import console from 'node:console';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import process from 'node:process';
import serviceNode from './service-node.cjs';

const { ROOT, ensureServiceNode, pathWith } = serviceNode;
const jest = createRequire(import.meta.url).resolve('jest/bin/jest');

let node;
try {
  node = ensureServiceNode();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
console.error(`jest project node24 on node ${node.version ?? process.version} (${node.source})`);
const child = spawn(node.path, [jest, '--selectProjects', 'node24', '-w', '2', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, PATH: pathWith(node) },
});
// Ctrl-C reaches jest directly (same process group): wait for it to stop. SIGTERM/SIGHUP sent to this
// process alone are passed on.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`could not start jest on ${node.path}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
