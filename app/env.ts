import { Annotations } from 'cdktf';
import type { Construct } from 'constructs';

/**
 * A stack setting: the prop when given, else the environment variable, else a placeholder (with a
 * synth warning, so an undeployable value never goes unnoticed).
 */
export function settingFromEnv(value: string | undefined, env: string, placeholder: string, stack: Construct): string {
  if (value !== undefined) return value;
  const fromEnvironment = process.env[env]?.trim();
  if (fromEnvironment) return fromEnvironment;
  Annotations.of(stack).addWarning(`${env} is not set: synthesized with the placeholder "${placeholder}"`);
  return placeholder;
}
