/** Synthesis helpers for the k8s tests. */
import { Testing, TerraformStack } from 'cdktf';
import { TboConfigValidationError } from '../../../lib/core';
import { defaultInstanceName, TboKubernetesService, type TboKubernetesServiceProps } from '../../../lib/k8s';

export const IMAGE = 'registry.example.com/tbo-service:1.0.0';

/** The default `name` (and namespace) of the construct `Tbo` these helpers synthesize: path `stack/Tbo`. */
export const NAME = defaultInstanceName('stack/Tbo', 'Tbo');
/** The objects of that default instance. */
export const N = {
  namespace: NAME,
  service: `${NAME}-service`,
  config: `${NAME}-config`,
  redis: `${NAME}-redis`,
  secret: `${NAME}-secrets`,
  tls: `${NAME}-tls`,
  quota: `${NAME}-quota`,
  limits: `${NAME}-limits`,
  defaultDeny: `${NAME}-default-deny`,
  redisHost: `${NAME}-redis.${NAME}.svc`,
  backup: `${NAME}-backup`,
} as const;

/** Synthesizes one TboKubernetesService (plus any extra props) and returns the JSON text. */
export function synthService(props: Partial<TboKubernetesServiceProps> = {}): string {
  return Testing.synthScope((scope) => {
    new TboKubernetesService(scope, 'Tbo', { image: IMAGE, ...props });
  });
}

/** The synth-time problems `props` draw, one per line; empty when they synthesize. */
export function synthProblems(props: Partial<TboKubernetesServiceProps>): string {
  try {
    synthService(props);
  } catch (err) {
    if (err instanceof TboConfigValidationError) return err.problems.join('\n');
    throw err;
  }
  return '';
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
