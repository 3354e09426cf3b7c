/**
 * Maps synthesized `kubernetes_*` resource blocks back to the Kubernetes manifests the provider
 * would send, so kubernetes-models can validate them. The mapping follows the kind's own schema
 * (see k8s-schema.ts) instead of a list of names:
 *   - keys are matched to schema fields ignoring `_` and case (`cluster_ip` → `clusterIP`), then as
 *     plurals when the field is a list (`container` → `containers`, `policy` → `policies`);
 *   - map fields (labels, annotations, matchLabels, limits, data, a Service's selector, …) keep
 *     their keys as they are;
 *   - one-element lists become objects where the schema has an object (`pre_stop`, `scale_down`);
 *   - numeric strings become numbers where the schema has a number or int-or-string (replicas,
 *     run_as_user, ports), octal for mode bits ("0644" → 420);
 *   - `${type.name.path}` references are resolved against the other synthesized blocks;
 *   - provider-only fields (wait_for_rollout, timeouts, lifecycle, depends_on, …) are dropped;
 *   - a Secret's `data` (plain text for the provider) is base64-encoded, as the API expects;
 *   - a `kubernetes_manifest` already holds the manifest: only its references are resolved, and its
 *     fields are checked against the kind's schema the same way.
 * Any key that fits no schema field is reported, never silently dropped.
 */
import { kindSchema, type FieldType, type KnownKind } from './k8s-schema';

/** Terraform resource type → the Kubernetes object it manages. */
export const RESOURCE_KINDS: Readonly<Record<string, { readonly apiVersion: string; readonly kind: KnownKind }>> = {
  kubernetes_namespace_v1: { apiVersion: 'v1', kind: 'Namespace' },
  kubernetes_config_map_v1: { apiVersion: 'v1', kind: 'ConfigMap' },
  kubernetes_secret_v1: { apiVersion: 'v1', kind: 'Secret' },
  kubernetes_service_account_v1: { apiVersion: 'v1', kind: 'ServiceAccount' },
  kubernetes_service_v1: { apiVersion: 'v1', kind: 'Service' },
  kubernetes_resource_quota_v1: { apiVersion: 'v1', kind: 'ResourceQuota' },
  kubernetes_limit_range_v1: { apiVersion: 'v1', kind: 'LimitRange' },
  kubernetes_persistent_volume_claim_v1: { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  kubernetes_deployment_v1: { apiVersion: 'apps/v1', kind: 'Deployment' },
  kubernetes_stateful_set_v1: { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  kubernetes_cron_job_v1: { apiVersion: 'batch/v1', kind: 'CronJob' },
  kubernetes_ingress_v1: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  kubernetes_network_policy_v1: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  kubernetes_pod_disruption_budget_v1: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  kubernetes_horizontal_pod_autoscaler_v2: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
};

/** Kinds a `kubernetes_manifest` may hold, by `apiVersion/kind`. */
export const MANIFEST_KINDS: Readonly<Record<string, KnownKind>> = {
  'gateway.networking.k8s.io/v1/HTTPRoute': 'HTTPRoute',
};

/** Resource arguments that configure the provider or Terraform, not the Kubernetes object. */
export const PROVIDER_ONLY_FIELDS = new Set([
  'count', 'depends_on', 'for_each', 'lifecycle', 'provider', 'provisioner', 'connection', 'timeouts', 'id',
  'wait_for_rollout', 'wait_for_load_balancer', 'wait_for_service_account_token', 'wait_until_bound',
  'data_wo', 'data_wo_revision', 'binary_data_wo', 'binary_data_wo_revision',
]);

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: KnownKind;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** One synthesized block and what it maps to. */
export interface MappedResource {
  /** `type.name` in the Terraform configuration. */
  readonly address: string;
  readonly manifest: Manifest;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Resources = Readonly<Record<string, Readonly<Record<string, Json>>>>;

export class ManifestMappingError extends Error {}

const REFERENCE = /\$\{([^}]+)\}/g;

/** Resolves `type.name.attr[0].attr` against the synthesized resources (only configured values). */
export function resolveReference(expression: string, resources: Resources): Json {
  const [type, name, ...path] = expression.split('.');
  let node: Json | undefined = resources[type]?.[name];
  if (node === undefined) throw new ManifestMappingError(`cannot resolve \${${expression}}: no resource ${type}.${name}`);
  for (const part of path.flatMap((p) => p.split(/[[\]]/).filter(Boolean))) {
    if (/^\d+$/.test(part)) {
      // Blocks with one element are synthesized as objects; `[0]` addresses the object itself.
      if (Array.isArray(node)) node = node[Number(part)];
      continue;
    }
    node = node !== null && typeof node === 'object' && !Array.isArray(node) ? node[part] : undefined;
    if (node === undefined) throw new ManifestMappingError(`cannot resolve \${${expression}}: ${part} is not configured (computed attributes have no value before apply)`);
  }
  return node;
}

function resolveString(text: string, resources: Resources): Json {
  const whole = /^\$\{([^}]+)\}$/.exec(text);
  if (whole) return resolveString(String(resolveReference(whole[1], resources)), resources);
  return text.replace(REFERENCE, (_, expression: string) => String(resolveReference(expression, resources)));
}

const normalize = (name: string) => name.replace(/_/g, '').toLowerCase();

/** The schema field a provider key stands for: same name ignoring `_` and case, or its plural. */
const normalized = new WeakMap<ReadonlyMap<string, FieldType>, Map<string, string>>();

export function fieldFor(key: string, fields: ReadonlyMap<string, FieldType>): string | undefined {
  let byNormal = normalized.get(fields);
  if (!byNormal) normalized.set(fields, (byNormal = new Map([...fields.keys()].map((f) => [normalize(f), f]))));
  const n = normalize(key);
  const exact = byNormal.get(n);
  if (exact) return exact;
  const plurals = [`${n}s`, `${n}es`, n.endsWith('y') ? `${n.slice(0, -1)}ies` : undefined].filter((p): p is string => !!p);
  return plurals.map((p) => byNormal.get(p)).find((f) => f !== undefined && fields.get(f)!.kind === 'array');
}

function numeric(value: string, octal: boolean): number | string {
  if (!/^-?\d+(\.\d+)?$/.test(value)) return value;
  return octal && /^0\d+$/.test(value) ? Number.parseInt(value, 8) : Number(value);
}

/**
 * Converts a value to its schema. `exact` (a `kubernetes_manifest`, already in the API's shape):
 * field names must match exactly and values stay as they are; only references are resolved.
 */
function convert(value: Json, schema: FieldType, path: string, resources: Resources, problems: string[], exact = false): Json | undefined {
  if (value === null) return undefined;
  if (typeof value === 'string') value = resolveString(value, resources);
  const recurse = (v: Json, s: FieldType, p: string) => convert(v, s, p, resources, problems, exact);
  switch (schema.kind) {
    case 'array': {
      const items = Array.isArray(value) || exact ? value : [value];
      if (!Array.isArray(items)) return items;
      return items.map((item, i) => recurse(item, schema.items, `${path}[${i}]`) ?? null);
    }
    case 'map': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recurse(v, schema.value, `${path}.${k}`) ?? null]));
    }
    case 'object': {
      if (Array.isArray(value) && !exact) {
        if (value.length !== 1) {
          problems.push(`${path}: ${value.length} blocks where the schema (${schema.name}) has one object`);
          return undefined;
        }
        value = value[0];
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const fields = schema.fields();
      const out: Record<string, Json> = {};
      for (const [key, v] of Object.entries(value)) {
        const field = exact ? (fields.has(key) ? key : undefined) : fieldFor(key, fields);
        if (!field) {
          problems.push(`${path}.${key}: no field of ${schema.name} matches`);
          continue;
        }
        const converted = recurse(v, fields.get(field)!, `${path}.${field}`);
        if (converted !== undefined) out[field] = converted;
      }
      return out;
    }
    case 'number':
      return typeof value === 'string' && !exact ? numeric(value, /mode$/i.test(path)) : value;
    case 'int-or-string':
      return typeof value === 'string' && !exact ? numeric(value, false) : value;
    case 'boolean':
      return exact ? value : value === 'true' ? true : value === 'false' ? false : value;
    default:
      return value;
  }
}

/** Maps one synthesized resource block to its manifest; throws naming every field it cannot place. */
export function toManifest(type: string, block: Readonly<Record<string, Json>>, resources: Resources = {}): Manifest {
  if (type === 'kubernetes_manifest') return fromManifestResource(block, resources);
  const target = RESOURCE_KINDS[type];
  if (!target) throw new ManifestMappingError(`${type}: no Kubernetes kind is known for this resource type`);
  const body: Record<string, Json> = {};
  for (const [key, value] of Object.entries(block)) if (!PROVIDER_ONLY_FIELDS.has(key) && key !== '//') body[key] = value;
  if (type === 'kubernetes_secret_v1' && body.data && typeof body.data === 'object' && !Array.isArray(body.data)) {
    const plain = body.data as Record<string, Json>;
    body.data = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, Buffer.from(String(resolveString(String(v), resources))).toString('base64')]));
  }
  const problems: string[] = [];
  const converted = convert({ ...body, apiVersion: target.apiVersion, kind: target.kind }, kindSchema(target.kind), target.kind, resources, problems);
  if (problems.length) throw new ManifestMappingError(`${type}: cannot map\n  - ${problems.join('\n  - ')}`);
  return converted as unknown as Manifest;
}

/** A `kubernetes_manifest` block's manifest, references resolved, checked field by field against its kind. */
function fromManifestResource(block: Readonly<Record<string, Json>>, resources: Resources): Manifest {
  const body = block.manifest;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ManifestMappingError('kubernetes_manifest: no manifest');
  const kind = MANIFEST_KINDS[`${String(body.apiVersion)}/${String(body.kind)}`];
  if (!kind) throw new ManifestMappingError(`kubernetes_manifest: no Kubernetes kind is known for ${String(body.apiVersion)} ${String(body.kind)}`);
  const problems: string[] = [];
  const converted = convert(body, kindSchema(kind), kind, resources, problems, true);
  if (problems.length) throw new ManifestMappingError(`kubernetes_manifest (${kind}): cannot map\n  - ${problems.join('\n  - ')}`);
  return converted as unknown as Manifest;
}

/** Every `kubernetes_*` resource of a synthesized stack (JSON text, as from Testing.synth*), mapped. */
export function manifestsFromSynth(synthesized: string): MappedResource[] {
  const resources = ((JSON.parse(synthesized) as { resource?: Resources }).resource ?? {}) as Resources;
  const mapped: MappedResource[] = [];
  for (const [type, blocks] of Object.entries(resources)) {
    if (!type.startsWith('kubernetes_')) continue;
    for (const [name, block] of Object.entries(blocks)) {
      mapped.push({ address: `${type}.${name}`, manifest: toManifest(type, block as Record<string, Json>, resources) });
    }
  }
  return mapped;
}
