import type { z } from 'zod';
import { SETTINGS, type SettingName } from './settings';

/**
 * Turns zod issues over the config schema into lines that name the setting (as the caller knows
 * it), the value received (never for secrets) and the values accepted.
 */
export function describeConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  input: Readonly<Record<string, unknown>>,
  nameOf: (key: SettingName) => string,
): string[] {
  return issues.map((issue) => {
    const key = String(issue.path[0] ?? '') as SettingName;
    const spec = SETTINGS[key] as (typeof SETTINGS)[SettingName] | undefined;
    if (!spec) return `${issue.path.join('.') || '(config)'}: ${issue.message}`;
    // URLs may carry credentials (redis://user:password@host): never echo them.
    const received = 'secret' in spec ? '(secret, not shown)' : String(JSON.stringify(input[key])).replace(/\/\/[^/@\s"]*@/g, '//[credentials hidden]@');
    const accepted = issue.code === 'invalid_value' ? `; accepted values: ${issue.values.join(', ')}` : '';
    return `${nameOf(key)}: ${issue.message} (received ${received})${accepted}`;
  });
}
