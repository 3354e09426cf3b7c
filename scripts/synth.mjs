// `npm run synth`: build, then synthesize every target, two jobs at a time (each is one busy node
// process; CI and most laptops have two cores or more).
//   1. the service bundle (scripts/build-service.mjs) and the library's dist/ (build:lib), together;
//   2. the CDK app (synth:cdk) and the cdktf apps (synth:cdktf), together, after both builds: the
//      CDK app's image asset is hashed from service/, which step 1 writes.
// Each job's output is printed in one piece when it ends (not interleaved); the first failure's exit
// code is the script's, after the other job of its step has finished.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import console from 'node:console';
import process from 'node:process';

/** Runs a command, buffering its output; resolves with its exit code and output. */
function run(label, command, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', (err) => chunks.push(Buffer.from(`${err.message}\n`)));
    child.on('close', (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const status = code === 0 ? 'ok' : `failed (${signal ?? `exit ${code}`})`;
      process.stdout.write(`\n── ${label}: ${status} in ${seconds} s\n${Buffer.concat(chunks).toString()}`);
      resolve(code ?? 1);
    });
  });
}

async function step(...jobs) {
  const codes = await Promise.all(jobs.map(([label, command, args]) => run(label, command, args)));
  const failed = codes.find((c) => c !== 0);
  if (failed !== undefined) process.exit(failed);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
await step(['service build', process.execPath, ['scripts/build-service.mjs']], ['library build', npm, ['run', '--silent', 'build:lib']]);
await step(['cdk synth', npm, ['run', '--silent', 'synth:cdk']], ['cdktf synth', npm, ['run', '--silent', 'synth:cdktf']]);
console.log('\nsynthesized: cdk.out (AWS), cdktf.out (GCP, Kubernetes)');
