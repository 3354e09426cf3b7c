import { Annotations } from 'cdktf';
import type { Construct } from 'constructs';

/**
 * A stack setting: the prop when given, else the environment variable, else a placeholder (with a
 * synth warning, so an undeployable value never goes unnoticed; `hint` says what to set).
 */
export function settingFromEnv(value: string | undefined, env: string, placeholder: string, stack: Construct, hint?: string): string {
  if (value !== undefined) return value;
  const fromEnvironment = optionalEnv(env);
  if (fromEnvironment !== undefined) return fromEnvironment;
  Annotations.of(stack).addWarning(`${env} is not set: synthesized with the placeholder "${placeholder}"${hint ? `; ${hint}` : ''}`);
  return placeholder;
}

/** An environment variable's value, trimmed; undefined when unset or blank. */
export function optionalEnv(env: string): string | undefined {
  return process.env[env]?.trim() || undefined;
}

/** An optional enumerated setting: the prop, else the environment variable; an unknown value is an error naming the variable and the accepted values. */
export function choiceFromEnv<T extends string>(value: T | undefined, env: string, accepted: readonly T[]): T | undefined {
  if (value !== undefined) return value;
  const fromEnvironment = optionalEnv(env);
  if (fromEnvironment === undefined) return undefined;
  if (!(accepted as readonly string[]).includes(fromEnvironment)) {
    throw new Error(`${env}: received ${JSON.stringify(fromEnvironment)}; accepted values: ${accepted.join(', ')}`);
  }
  return fromEnvironment as T;
}
