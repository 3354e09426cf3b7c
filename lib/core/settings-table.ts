import { SETTINGS, type SettingName } from '../../service/src/config/settings';

function defaultOf(key: SettingName): string {
  const spec = SETTINGS[key];
  if ('secret' in spec) return '(secret: env only)';
  const parsed = spec.schema.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return '—';
  const value = String(parsed.data);
  return value.length > 40 ? `see settings.ts` : `\`${value}\``;
}

/** The service's settings as a Markdown table (env var, config.yaml path, default, meaning). */
export function renderSettingsTable(): string {
  const rows = (Object.keys(SETTINGS) as SettingName[]).map((key) => {
    const spec = SETTINGS[key];
    const yaml = 'yaml' in spec ? `\`${spec.yaml}\`` : '—';
    return `| \`${spec.env}\` | ${yaml} | ${defaultOf(key)} | ${spec.description} |`;
  });
  return ['| env | config.yaml | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
