import { Stack, Token } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { PropValidator } from '../core';
import { AWS_DEFAULTS } from './defaults';

/** The CPU architectures Fargate runs Linux tasks on, by their `RuntimePlatform` name. */
export type TboCpuArchitectureName = 'X86_64' | 'ARM64';

interface ArchitectureFacts {
  /** The `ecs.CpuArchitecture` constant, as users write it. */
  readonly constant: ecs.CpuArchitecture;
  readonly source: string;
  /** The platform the bundled image is built for (`docker build --platform`). */
  readonly assetPlatform: Platform;
  /** Whether Fargate Spot runs tasks of this architecture. */
  readonly fargateSpot: boolean;
}

/**
 * What each architecture means for the deployment. Fargate Spot runs only X86_64 Linux tasks:
 * "Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity provider"
 * (Amazon ECS Developer Guide, Fargate capacity providers).
 */
const ARCHITECTURES: Readonly<Record<TboCpuArchitectureName, ArchitectureFacts>> = {
  X86_64: { constant: ecs.CpuArchitecture.X86_64, source: 'ecs.CpuArchitecture.X86_64', assetPlatform: Platform.LINUX_AMD64, fargateSpot: true },
  ARM64: { constant: ecs.CpuArchitecture.ARM64, source: 'ecs.CpuArchitecture.ARM64', assetPlatform: Platform.LINUX_ARM64, fargateSpot: false },
};

const isName = (name: string): name is TboCpuArchitectureName => Object.prototype.hasOwnProperty.call(ARCHITECTURES, name);

/** The architecture's `RuntimePlatform` name, however it was given (an `ecs.CpuArchitecture`, or a string from JavaScript). */
function nameOf(arch: ecs.CpuArchitecture | string): string {
  return typeof arch === 'string' ? arch : String(arch._cpuArchitecture);
}

/**
 * Validates `cpuArchitecture` (X86_64 or ARM64, known at synth: it picks the image's build
 * platform) and returns its name, the default when not given or invalid.
 */
export function resolveCpuArchitecture(arch: ecs.CpuArchitecture | undefined, v: PropValidator): TboCpuArchitectureName {
  if (arch === undefined || (arch as unknown) === null) return AWS_DEFAULTS.cpuArchitecture;
  const name = nameOf(arch);
  const ok = typeof arch !== 'string' && !Token.isUnresolved(name) && isName(name);
  v.check(
    ok,
    'cpuArchitecture',
    name,
    `accepted values: ${Object.values(ARCHITECTURES).map((a) => a.source).join(', ')} (Linux on Fargate; known at synth, as it also picks the platform the bundled image is built for)`,
  );
  return ok && isName(name) ? name : AWS_DEFAULTS.cpuArchitecture;
}

/** The `ecs.CpuArchitecture` constant of an architecture. */
export function cpuArchitectureOf(name: TboCpuArchitectureName): ecs.CpuArchitecture {
  return ARCHITECTURES[name].constant;
}

/** The Docker platform the bundled service image is built for, to run on that architecture. */
export function assetPlatformOf(name: TboCpuArchitectureName): Platform {
  return ARCHITECTURES[name].assetPlatform;
}

/**
 * A problem when the service's capacity provider strategy (set through the `service`'s L1
 * `capacityProviderStrategy`: the construct itself always uses the FARGATE launch type) names
 * FARGATE_SPOT for an architecture Fargate Spot does not run; undefined otherwise.
 */
export function fargateSpotProblem(service: ecs.FargateService, name: TboCpuArchitectureName): string | undefined {
  if (ARCHITECTURES[name].fargateSpot) return undefined;
  const cfn = service.node.defaultChild as ecs.CfnService;
  const strategy: unknown = Stack.of(service).resolve(cfn.capacityProviderStrategy);
  if (!JSON.stringify(strategy ?? []).includes('"FARGATE_SPOT"')) return undefined;
  return (
    `cpuArchitecture: received "${name}"; the service's capacity provider strategy (service's CapacityProviderStrategy) uses FARGATE_SPOT, ` +
    `which runs only X86_64 Linux tasks: use ${ARCHITECTURES.X86_64.source} with Fargate Spot, or the FARGATE capacity provider alone with ${ARCHITECTURES[name].source}`
  );
}
