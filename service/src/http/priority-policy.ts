import { DEFAULT_PRIORITY_CEILING } from '../config/settings';

/**
 * `TBO_TENANT_PRIORITIES` (`alpha=1,jwt:beta=3,*=5`, already validated by the config schema) as a
 * lookup: the highest priority (lowest number) each tenant may ask for; `*` for the rest, else
 * {@link DEFAULT_PRIORITY_CEILING}.
 */
export function priorityCeilings(spec: string): (tenant: string) => number {
  const ceilings = new Map<string, number>();
  for (const pair of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.lastIndexOf('=');
    ceilings.set(pair.slice(0, at), Number(pair.slice(at + 1)));
  }
  const fallback = ceilings.get('*') ?? DEFAULT_PRIORITY_CEILING;
  return (tenant) => ceilings.get(tenant) ?? fallback;
}
