import { Testing } from 'cdktf';
import { TboCloudRunService, type TboCloudRunServiceProps } from '../../lib/gcp';

export const IMAGE = 'europe-west1-docker.pkg.dev/my-project/tbo/tbo-service:1.0.0';
export const BASE: TboCloudRunServiceProps = { image: IMAGE, project: 'my-project', region: 'europe-west1' };

/** The `serviceName` the construct `tbo` of {@link synthTbo} derives (every physical name starts with it). */
export const NAME: string = (() => {
  let name = '';
  Testing.synthScope((scope) => {
    name = new TboCloudRunService(scope, 'tbo', BASE).resolvedProps.serviceName;
  });
  return name;
})();

/** A synthesized stack (`cdk.tf.json`), parsed. */
export interface Synthesized {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown; description?: string }>;
  readonly provider?: Record<string, Record<string, unknown>[]>;
}

/** Synthesizes one {@link TboCloudRunService} (`id` "tbo") with `BASE` and the given props; returns the JSON. */
export function synthTbo(props: Partial<TboCloudRunServiceProps> = {}): string {
  return Testing.synthScope((scope) => {
    new TboCloudRunService(scope, 'tbo', { ...BASE, ...props });
  });
}

export function parse(json: string): Synthesized {
  return JSON.parse(json) as Synthesized;
}

/** Every resource of a type, as [logical id, body] pairs. */
export function resourcesOf(json: string, type: string): [string, Record<string, unknown>][] {
  return Object.entries(parse(json).resource?.[type] ?? {});
}

/** The only resource of a type (fails the test when there are none or several). */
export function onlyResource(json: string, type: string): Record<string, unknown> {
  const all = resourcesOf(json, type);
  expect(all).toHaveLength(1);
  return all[0][1];
}

/** An env var of the TBO container: `{ name, value }` or `{ name, value_source }`. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly value_source?: { secret_key_ref: { secret: string; version: string } };
}

/** The TBO container of the single Cloud Run service. */
export function container(json: string): Record<string, unknown> & { env: EnvVar[] } {
  const service = onlyResource(json, 'google_cloud_run_v2_service') as { template: { containers: (Record<string, unknown> & { env: EnvVar[] })[] } };
  expect(service.template.containers).toHaveLength(1);
  return service.template.containers[0];
}

/** The env of the TBO container as a name → entry map. */
export function envByName(json: string): Record<string, EnvVar> {
  return Object.fromEntries(container(json).env.map((e) => [e.name, e]));
}

/** The construct's validation error message for the given props. */
export function validationError(props: Partial<TboCloudRunServiceProps>): string {
  try {
    synthTbo(props);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a validation error, but synthesis succeeded');
}
