/**
 * Two projects over test/, each file in exactly one:
 * - `node24`: the service's suites that run on the Node.js the image ships (`npm run test:node24`
 *   runs them with scripts/service-node's binary), so the runtime the image ships is the one tested;
 * - `machine-node`: everything else, on the machine's node (the construct library supports the
 *   Node.js versions aws-cdk-lib does).
 * `npm test` runs each project once (`--selectProjects`). `npx jest <paths>` runs the given files
 * in whichever project holds them, on the node that runs jest.
 */

/** The suites that run on the service's Node.js: files, or folders ending in `/`, relative to this folder. */
const NODE24_SUITES = ['test/service/drop-in.test.ts', 'test/security/', 'test/faults/', 'test/topology/'];

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // Global, not per project: jest ignores a project's testTimeout.
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'machine-node',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...NODE24_SUITES.map((suite) => `^<rootDir>/${escapeRegExp(suite)}${suite.endsWith('/') ? '' : '$'}`)],
    },
    {
      ...common,
      displayName: 'node24',
      testMatch: NODE24_SUITES.map((suite) => (suite.endsWith('/') ? `<rootDir>/${suite}**/*.test.ts` : `<rootDir>/${suite}`)),
    },
  ],
};
