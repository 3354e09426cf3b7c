/**
 * service/Dockerfile without a Docker engine: it passes dockerfile-utils' validator (the checks the
 * Docker builder makes, from the Docker language server; hadolint is not installable here), and it
 * agrees with the code and with the Node.js the service's suites run on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { ADMIN_PORT, SERVICE_PORT } from '../../service/src/config/settings';
import { pinnedVersion, requiredMajor } from '../../scripts/service-node.cjs';
import { parseDockerfile, SERVICE_DIR, SERVICE_DOCKERFILE, serviceDockerfile, stageNamed } from './dockerfile';

const text = readFileSync(SERVICE_DOCKERFILE, 'utf8');
const dockerfile = serviceDockerfile();
const runtime = dockerfile.final;

/** Every check of the validator, as an error. */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const problems = (dockerfileText: string) => validate(dockerfileText, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

describe('service/Dockerfile lint (dockerfile-utils)', () => {
  it('has no problems', () => {
    expect(problems(text)).toEqual([]);
  });

  it('reports a mistyped flag, a second CMD and a relative WORKDIR (the validator runs)', () => {
    const broken = text
      .replace('HEALTHCHECK --interval=', 'HEALTHCHECK --interva=')
      .replace('WORKDIR /app', 'WORKDIR app')
      .concat('CMD ["node", "other.js"]\n');
    expect(problems(broken)).toEqual(
      expect.arrayContaining([expect.stringMatching(/Unknown flag: interva/), expect.stringMatching(/only be one CMD/), expect.stringMatching(/WORKDIR paths should be absolute/)]),
    );
  });
});

describe('service/Dockerfile agrees with the service', () => {
  it('builds and runs on the Node.js the suites run on (scripts/service-node), which the service requires', () => {
    const version = pinnedVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const build = stageNamed(dockerfile, 'build');
    // One node for both stages: build.mjs writes V8's code cache for the node that runs dist/.
    expect(build.image).toBe(runtime.image);
    expect(runtime.image).toMatch(new RegExp(`^node:${String(version).replace(/\./g, '\\.')}-alpine(\\d+\\.\\d+)?$`));
    expect(Number(String(version).split('.')[0])).toBe(requiredMajor());
  });

  it('keeps the construct library on the Node.js versions aws-cdk-lib supports', () => {
    const root = JSON.parse(readFileSync(join(SERVICE_DIR, '..', 'package.json'), 'utf8')) as { engines: { node: string } };
    const cdk = JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')) as { engines: { node: string } };
    const major = (range: string) => Number(/(\d+)/.exec(range)?.[1]);
    expect(major(root.engines.node)).toBeLessThanOrEqual(major(cdk.engines.node));
    expect(major(root.engines.node)).toBeLessThan(requiredMajor());
  });

  it('runs the service on all interfaces on its port, exposes the API and admin ports, and stops it with SIGTERM', () => {
    expect(runtime.env).toMatchObject({ NODE_ENV: 'production', TBO_HOST: '0.0.0.0', TBO_PORT: String(SERVICE_PORT) });
    expect(runtime.expose).toEqual([String(SERVICE_PORT), String(ADMIN_PORT)]);
    expect(runtime.stopSignal).toBe('SIGTERM');
    expect(runtime.cmd).toEqual(['node', 'dist/main.js']);
    expect(runtime.healthcheck?.command).toEqual(['node', 'dist/healthcheck.js']);
    expect(runtime.user).toBe('node');
  });

  it('reads a Dockerfile as Docker does: build args, continuation lines, shell-form commands', () => {
    const parsed = parseDockerfile(
      [
        'ARG BASE=node:1.2.3-alpine',
        'FROM ${BASE} AS one',
        'WORKDIR /srv',
        'ENV A=1 \\',
        '    B="two words" \\',
        "    C='$A' D=${A}x E=\\$A",
        'WORKDIR app',
        'COPY --chown=1000:1000 a b ./',
        'HEALTHCHECK --timeout=1m30s CMD wget -q localhost',
        'CMD node x.js',
      ].join('\n'),
    );
    expect(parsed.final).toMatchObject({
      name: 'one',
      image: 'node:1.2.3-alpine',
      env: { A: '1', B: 'two words', C: '$A', D: '1x', E: '$A' },
      workdir: '/srv/app',
      copies: [{ chown: '1000:1000', sources: ['a', 'b'], destination: '/srv/app/' }],
      healthcheck: { command: ['/bin/sh', '-c', 'wget -q localhost'], timeoutSeconds: 90, intervalSeconds: 30, retries: 3 },
      cmd: ['/bin/sh', '-c', 'node x.js'],
      unmodelled: [],
    });
  });
});
