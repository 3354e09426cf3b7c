// `npm start`: runs the built service (service/dist/main.js, the image's command) on 127.0.0.1 with
// the service's Node.js, rebuilding dist/ first only when it is out of date: when it lacks main.js,
// or when any file in it is older than any input of the build (service/src, package.json,
// package-lock.json, tsconfig.json, build.mjs). Right after `npm run synth` (which builds the service)
// it starts at once. TBO_HOST and every other setting may be given as usual; TBO_HOST defaults to
// 127.0.0.1 here (the image's 0.0.0.0 would publish a local run on every interface).
import { spawn } from 'node:child_process';
import console from 'node:console';
import { constants } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { buildService, staleReason } from './build-service.mjs';
import serviceNode from './service-node.cjs';

const { ROOT, ensureServiceNode } = serviceNode;
const MAIN = join(ROOT, 'service', 'dist', 'main.js');

function main() {
  const reason = staleReason();
  if (reason) {
    console.error(`${reason}: rebuilding`);
    buildService();
  }
  const node = ensureServiceNode();
  const child = spawn(node.path, [MAIN], {
    stdio: 'inherit',
    env: { ...process.env, TBO_HOST: process.env.TBO_HOST || '127.0.0.1' },
  });
  // Ctrl-C reaches the service directly (same process group) and starts its drain: wait for it.
  // SIGTERM/SIGHUP sent to this process alone (e.g. by npm, or a process manager) are passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    console.error(`could not start the service with ${node.path}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
