import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { TboFargateService, type TboFargateServiceProps } from '../../../lib/aws';

/** A registry image, for stacks that need no Docker asset. */
export const REGISTRY_IMAGE = 'ghcr.io/example/tbo:1.0.0';
export const registryImage = (): ecs.ContainerImage => ecs.ContainerImage.fromRegistry(REGISTRY_IMAGE);

/** One synthesized stack holding a TboFargateService with id `Tbo`. */
export interface Synthesized {
  readonly app: App;
  readonly stack: Stack;
  readonly tbo: TboFargateService;
  readonly template: Template;
  /** The template as JSON. */
  readonly json: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>; Outputs?: Record<string, { Value: unknown }> } & Record<string, unknown>;
  /** Where the template file is (the app's output directory). */
  readonly templateFile: string;
  /** Synth-time warnings, as `path: message` lines. */
  readonly warnings: string[];
}

/** A temporary directory for cloud assemblies, removed by `cleanup()`. */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix = 'tbo-aws-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Synthesizes a stack with a TboFargateService into a temp directory. `props` may be a function of
 * the stack, for bring-your-own resources defined next to the construct; `after` runs on the
 * construct before the synth, for what users do with it once it exists.
 */
export function synthTbo(
  dirs: TempDirs,
  props: TboFargateServiceProps | ((stack: Stack) => TboFargateServiceProps) = {},
  stackProps: StackProps = {},
  after?: (tbo: TboFargateService, stack: Stack) => void,
): Synthesized {
  const outdir = dirs.make();
  const app = new App({ outdir });
  const stack = new Stack(app, 'TestStack', stackProps);
  const tbo = new TboFargateService(stack, 'Tbo', typeof props === 'function' ? props(stack) : props);
  after?.(tbo, stack);
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = Template.fromJSON(artifact.template as Record<string, unknown>);
  const warnings = artifact.messages.filter((m) => m.level === 'warning').map((m) => `${m.id}: ${String(m.entry.data)}`);
  return { app, stack, tbo, template, json: artifact.template as Synthesized['json'], templateFile: join(outdir, artifact.templateFile), warnings };
}

/** Writes a template to a file in a temp dir (for cfn-lint), returning its path. */
export function writeTemplate(dirs: TempDirs, name: string, template: unknown): string {
  const file = join(dirs.make('tbo-cfn-'), `${name}.template.json`);
  writeFileSync(file, JSON.stringify(template, null, 1));
  return file;
}

/** Resources of one type in a template JSON, by logical id. */
export function resourcesOfType(json: Synthesized['json'], type: string): Record<string, { Properties?: Record<string, unknown> }> {
  return Object.fromEntries(Object.entries(json.Resources).filter(([, r]) => r.Type === type));
}

/** The single resource of a type (fails when there is not exactly one). */
export function onlyResource(json: Synthesized['json'], type: string): { id: string; props: Record<string, unknown> } {
  const found = Object.entries(resourcesOfType(json, type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return { id: found[0][0], props: found[0][1].Properties ?? {} };
}

/** The container definition of the task (one container). */
export function containerOf(json: Synthesized['json']): Record<string, unknown> & {
  Environment: { Name: string; Value: unknown }[];
  Secrets: { Name: string; ValueFrom: unknown }[];
} {
  const { props } = onlyResource(json, 'AWS::ECS::TaskDefinition');
  const defs = props.ContainerDefinitions as Record<string, unknown>[];
  if (defs.length !== 1) throw new Error(`expected one container, found ${defs.length}`);
  return defs[0] as ReturnType<typeof containerOf>;
}

/** The container environment as a name → value map. */
export function envOf(json: Synthesized['json']): Record<string, unknown> {
  return Object.fromEntries(containerOf(json).Environment.map((e) => [e.Name, e.Value]));
}

/** The container secrets as a name → valueFrom map. */
export function secretsOf(json: Synthesized['json']): Record<string, unknown> {
  return Object.fromEntries((containerOf(json).Secrets ?? []).map((s) => [s.Name, s.ValueFrom]));
}

/** Every container definition of the task, by container name (the gateway is `tbo`). */
export function containersOf(json: Synthesized['json']): Record<string, Record<string, unknown> & { Environment?: { Name: string; Value: unknown }[]; Secrets?: { Name: string; ValueFrom: unknown }[] }> {
  const { props } = onlyResource(json, 'AWS::ECS::TaskDefinition');
  return Object.fromEntries((props.ContainerDefinitions as Record<string, unknown>[]).map((c) => [String(c.Name), c]));
}

/** A container's environment as a name → value map. */
export function envOfContainer(container: { Environment?: { Name: string; Value: unknown }[] }): Record<string, unknown> {
  return Object.fromEntries((container.Environment ?? []).map((e) => [e.Name, e.Value]));
}

/** The construct's stack outputs by their id in the construct (the `Tbo` prefix and hash suffix removed). */
export function outputsOf(json: Synthesized['json']): Record<string, { Value: unknown; Description?: string }> {
  return Object.fromEntries(Object.entries(json.Outputs ?? {}).map(([k, o]) => [k.replace(/^Tbo|[0-9A-F]{8}$/g, ''), o as { Value: unknown; Description?: string }]));
}
