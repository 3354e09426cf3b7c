/** Synthesis helpers for the k8s tests. */
import { Testing, TerraformStack } from 'cdktf';
import { TboKubernetesService, type TboKubernetesServiceProps } from '../../../lib/k8s';

export const IMAGE = 'registry.example.com/tbo-service:1.0.0';

/** Synthesizes one TboKubernetesService (plus any extra props) and returns the JSON text. */
export function synthService(props: Partial<TboKubernetesServiceProps> = {}): string {
  return Testing.synthScope((scope) => {
    new TboKubernetesService(scope, 'Tbo', { image: IMAGE, ...props });
  });
}

/** The construct and its synthesized JSON, for tests that read its fields. */
export function synthWithConstruct(props: Partial<TboKubernetesServiceProps> = {}): { tbo: TboKubernetesService; json: string } {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const tbo = new TboKubernetesService(stack, 'Tbo', { image: IMAGE, ...props });
  return { tbo, json: Testing.synth(stack) };
}

type Blocks = Record<string, Record<string, unknown>>;

/** The synthesized blocks of one resource type, by name. */
export function blocksOf(json: string, type: string): Record<string, Record<string, unknown>> {
  return ((JSON.parse(json) as { resource?: Blocks }).resource?.[type] ?? {}) as Record<string, Record<string, unknown>>;
}

/** The only block of a resource type whose logical name contains `part` (throws otherwise). */
export function blockOf(json: string, type: string, part = ''): Record<string, unknown> {
  const matches = Object.entries(blocksOf(json, type)).filter(([name]) => name.includes(part));
  if (matches.length !== 1) throw new Error(`${type} matching "${part}": ${matches.length} blocks (${matches.map(([n]) => n).join(', ')})`);
  return matches[0][1];
}
