import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeConfigIssues } from './issues';
import { backendProblems } from './model-ids';
import { configSchema, DEFAULT_CONFIG_FILE, SETTING_NAMES, SETTINGS, type ServiceConfig } from './settings';

/** A configuration that cannot be used; its message names every offending setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid TBO configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function at(tree: unknown, dotted: string): unknown {
  let node = tree;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new ConfigError([`TBO_CONFIG_FILE (${file}): cannot be read as YAML: ${(err as Error).message}`]);
  }
}

/**
 * Loads the configuration: environment variables (the guide's names) override the optional YAML
 * file named by `TBO_CONFIG_FILE` (default `/app/config/config.yaml`, when it exists).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const file = env.TBO_CONFIG_FILE || (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const yaml = file ? readYaml(file) : {};
  const input: Record<string, unknown> = {};
  for (const key of SETTING_NAMES) {
    const spec = SETTINGS[key];
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') input[key] = fromEnv;
    else if ('yaml' in spec) {
      const fromYaml = at(yaml, spec.yaml);
      if (fromYaml !== undefined && fromYaml !== null) input[key] = fromYaml;
    }
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      describeConfigIssues(parsed.error.issues, input, (key) => {
        const spec = SETTINGS[key];
        return 'yaml' in spec ? `${spec.env} (${spec.yaml})` : spec.env;
      }),
    );
  }
  const problems = backendProblems(parsed.data, env);
  if (problems.length) throw new ConfigError(problems);
  return parsed.data;
}
