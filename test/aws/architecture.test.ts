import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Names } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SERVICE_BUILD_EXCLUDES } from '../../lib/core';
import type { TboFargateService } from '../../lib/aws';
import { cfnLint } from './support/cfn-lint';
import { containerOf, onlyResource, registryImage, synthTbo, TempDirs, type Synthesized } from './support/synth';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

type AssetManifest = { dockerImages?: Record<string, { source: { directory: string; platform?: string } }> };

/** The Docker image assets of a synthesized stack, from the cloud assembly's asset manifest. */
function dockerImages(s: Synthesized): { hash: string; directory: string; platform?: string }[] {
  const manifest = JSON.parse(readFileSync(s.templateFile.replace('.template.json', '.assets.json'), 'utf8')) as AssetManifest;
  return Object.entries(manifest.dockerImages ?? {}).map(([hash, { source }]) => ({ hash, directory: source.directory, platform: source.platform }));
}

const runtimePlatformOf = (s: Synthesized) => onlyResource(s.json, 'AWS::ECS::TaskDefinition').props.RuntimePlatform;
const ids = (s: Synthesized) => Object.fromEntries(Object.entries(s.json.Resources).map(([id, r]) => [id, r.Type]));

/** Sets a capacity provider strategy on the service through its L1 (the construct has no such prop). */
function useCapacityProviders(tbo: TboFargateService, providers: string[]): void {
  const cfn = tbo.service.node.defaultChild as ecs.CfnService;
  cfn.launchType = undefined; // ECS takes a launch type or a strategy, not both
  cfn.capacityProviderStrategy = providers.map((capacityProvider) => ({ capacityProvider, weight: 1 }));
}

describe('cpuArchitecture: ARM64 with the bundled image', () => {
  let arm: Synthesized;
  beforeAll(() => {
    arm = synthTbo(dirs, { cpuArchitecture: ecs.CpuArchitecture.ARM64 });
  }, 120_000);

  it('runs Linux ARM64 (Graviton) tasks', () => {
    expect(runtimePlatformOf(arm)).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    expect(arm.tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.ARM64);
  });

  it('builds the bundled service folder for linux/arm64, and the container runs that image', () => {
    const images = dockerImages(arm);
    expect(images).toEqual([expect.objectContaining({ platform: 'linux/arm64' })]);
    expect(JSON.stringify(containerOf(arm.json).Image)).toContain(`:${images[0].hash}`);
    const staged = readFileSync(join(arm.templateFile, '..', images[0].directory, 'Dockerfile'), 'utf8');
    expect(staged).toMatch(/^FROM /m);
    for (const excluded of SERVICE_BUILD_EXCLUDES.filter((e) => !e.includes('*'))) {
      expect(() => readFileSync(join(arm.templateFile, '..', images[0].directory, excluded))).toThrow();
    }
  });

  it('is an image distinct from the x86_64 build of the same folder (its own asset hash)', () => {
    const x86 = synthTbo(dirs, {});
    const [amd64] = dockerImages(x86);
    expect(amd64.platform).toBe('linux/amd64');
    expect(dockerImages(arm)[0].hash).not.toBe(amd64.hash);
  }, 120_000);

  it('keeps every logical id of the default deployment: switching architecture registers a new task definition revision, nothing else is replaced', () => {
    const expected = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'default-logical-ids.json'), 'utf8')) as Record<string, string>;
    expect(ids(arm)).toEqual(expected);
    // the service name (its alarms, log group, EMF dimension) does not depend on the architecture
    expect(arm.tbo.serviceName).toBe(Names.uniqueResourceName(arm.tbo, { maxLength: 64, separator: '-' }));
  });

  it('passes cdk-nag AwsSolutions with no finding and cfn-lint with zero errors and no warnings', async () => {
    expect(new AwsSolutionsChecks().validateScope(arm.app).violations).toEqual([]);
    const lint = await cfnLint([arm.templateFile]);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
    expect(lint.statuses.every((st) => st === 0)).toBe(true);
  }, 180_000);
});

describe('cpuArchitecture with an image you bring', () => {
  it('sets only the runtime platform: no Docker asset is built, the image must already be arm64', () => {
    const arm = synthTbo(dirs, { image: registryImage(), cpuArchitecture: ecs.CpuArchitecture.ARM64 });
    const x86 = synthTbo(dirs, { image: registryImage() });
    expect(dockerImages(arm)).toEqual([]);
    expect(runtimePlatformOf(arm)).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    expect(runtimePlatformOf(x86)).toEqual({ CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
    // the architecture is the only difference between the two templates
    const withoutArch = (s: Synthesized) => JSON.parse(JSON.stringify(s.json).replace(/"CpuArchitecture":"(ARM64|X86_64)"/, '"CpuArchitecture":"-"')) as unknown;
    expect(withoutArch(arm)).toEqual(withoutArch(x86));
  });

  it('accepts X86_64 given explicitly, the same as the default', () => {
    const explicit = synthTbo(dirs, { image: registryImage(), cpuArchitecture: ecs.CpuArchitecture.X86_64 });
    const implicit = synthTbo(dirs, { image: registryImage() });
    expect(explicit.json).toEqual(implicit.json);
    expect(explicit.tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.X86_64);
    expect(implicit.tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.X86_64);
  });

  it('accepts ecs.CpuArchitecture.of("ARM64") as ARM64', () => {
    const s = synthTbo(dirs, { image: registryImage(), cpuArchitecture: ecs.CpuArchitecture.of('ARM64') });
    expect(runtimePlatformOf(s)).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    expect(s.tbo.cpuArchitecture).toBe(ecs.CpuArchitecture.ARM64);
  });
});

describe('cpuArchitecture and Fargate Spot (which runs only X86_64 Linux tasks)', () => {
  const ARM64_SPOT = /\[TestStack\/Tbo\] TboFargateService: cpuArchitecture: received "ARM64"; the service's capacity provider strategy \(service's CapacityProviderStrategy\) uses FARGATE_SPOT, which runs only X86_64 Linux tasks: use ecs\.CpuArchitecture\.X86_64 with Fargate Spot, or the FARGATE capacity provider alone with ecs\.CpuArchitecture\.ARM64/;

  it('fails the synth when the service of an ARM64 deployment is given a FARGATE_SPOT strategy', () => {
    expect(() => synthTbo(dirs, { image: registryImage(), cpuArchitecture: ecs.CpuArchitecture.ARM64 }, {}, (tbo) => useCapacityProviders(tbo, ['FARGATE', 'FARGATE_SPOT']))).toThrow(ARM64_SPOT);
  });

  it('allows FARGATE_SPOT with X86_64, and the FARGATE capacity provider with ARM64', () => {
    const spot = synthTbo(dirs, { image: registryImage() }, {}, (tbo) => useCapacityProviders(tbo, ['FARGATE_SPOT']));
    expect(onlyResource(spot.json, 'AWS::ECS::Service').props.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    const arm = synthTbo(dirs, { image: registryImage(), cpuArchitecture: ecs.CpuArchitecture.ARM64 }, {}, (tbo) => useCapacityProviders(tbo, ['FARGATE']));
    expect(onlyResource(arm.json, 'AWS::ECS::Service').props.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE', Weight: 1 }]);
  });
});
