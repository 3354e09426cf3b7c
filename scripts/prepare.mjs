// `prepare`: after `npm ci` / `npm install` in this repository, install the service's own
// dependencies (service/node_modules: the service build, the tests and the bench use them).
//
// Nothing to do when npm runs it elsewhere:
// - before `npm pack` / `npm publish`: the package ships the service's sources, not its
//   node_modules (and reinstalling them would pull them from under anything running meanwhile);
// - in an installed copy of the package (under node_modules: npm may run `prepare` of a package
//   installed from a tarball or a git URL when the project allows its scripts): a team needs the
//   service's dependencies only inside the image, which installs its own.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import process from 'node:process';

const installedCopy = realpathSync(process.cwd()).split(sep).includes('node_modules');
if (!installedCopy && !['pack', 'publish'].includes(process.env.npm_command ?? '')) {
  execFileSync('npm', ['ci', '--prefix', 'service', '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
