/**
 * Field-level shape of Kubernetes kinds, read from kubernetes-models' own type declarations with
 * the TypeScript compiler. kubernetes-models' `.validate()` checks types, required fields and enums
 * but ignores unknown fields, so a mis-mapped name (`volume` for `volumes`) would pass unnoticed;
 * this schema lets the mapper place every field by name and report any it cannot place.
 */
import { dirname, join } from 'node:path';
import * as ts from 'typescript';

export type FieldType =
  | { readonly kind: 'object'; readonly name: string; readonly fields: () => ReadonlyMap<string, FieldType> }
  | { readonly kind: 'map'; readonly value: FieldType }
  | { readonly kind: 'array'; readonly items: FieldType }
  | { readonly kind: 'int-or-string' | 'quantity' | 'string' | 'number' | 'boolean' | 'unknown' };

/**
 * The kinds this project synthesizes: module and interface, under kubernetes-models unless the module
 * starts with `@` (a package of its own: the Gateway API kinds, which are ESM-only, so their types are
 * read here and their validation runs in a child process, see gateway-api.ts).
 */
export const KIND_MODULES = {
  Namespace: ['v1/Namespace', 'INamespace'],
  ConfigMap: ['v1/ConfigMap', 'IConfigMap'],
  Secret: ['v1/Secret', 'ISecret'],
  ServiceAccount: ['v1/ServiceAccount', 'IServiceAccount'],
  Service: ['v1/Service', 'IService'],
  ResourceQuota: ['v1/ResourceQuota', 'IResourceQuota'],
  LimitRange: ['v1/LimitRange', 'ILimitRange'],
  PersistentVolumeClaim: ['v1/PersistentVolumeClaim', 'IPersistentVolumeClaim'],
  Deployment: ['apps/v1/Deployment', 'IDeployment'],
  StatefulSet: ['apps/v1/StatefulSet', 'IStatefulSet'],
  CronJob: ['batch/v1/CronJob', 'ICronJob'],
  Ingress: ['networking.k8s.io/v1/Ingress', 'IIngress'],
  NetworkPolicy: ['networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
  PodDisruptionBudget: ['policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  HorizontalPodAutoscaler: ['autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
  HTTPRoute: ['@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute', 'IHTTPRoute'],
} as const;

/** The .d.ts file of a KIND_MODULES module. */
function declarationFile(module: string): string {
  const kubernetesModels = dirname(require.resolve('kubernetes-models/package.json'));
  // Packages without a CommonJS entry (or an exported package.json) are found next to kubernetes-models.
  return module.startsWith('@') ? join(kubernetesModels, '..', `${module}.d.ts`) : join(kubernetesModels, `${module}.d.ts`);
}
export type KnownKind = keyof typeof KIND_MODULES;

/** Just enough of the standard library for the declarations (a full lib costs ~1.5 s to load). */
const MINI_LIB_NAME = '/__k8s_schema_lib.d.ts';
const MINI_LIB = `interface Array<T> { length: number; [n: number]: T }
interface Boolean {} interface Function {} interface CallableFunction {} interface NewableFunction {}
interface IArguments {} interface Number {} interface Object {} interface RegExp {} interface String {}
type Record<K extends keyof any, T> = { [P in K]: T }; type Partial<T> = { [P in keyof T]?: T[P] };
type Pick<T, K extends keyof T> = { [P in K]: T[P] }; type Exclude<T, U> = T extends U ? never : T;
type Omit<T, K extends keyof any> = Pick<T, Exclude<keyof T, K>>;`;

let loaded: { checker: ts.TypeChecker; roots: Map<KnownKind, ts.Type> } | undefined;

function load() {
  if (loaded) return loaded;
  const files = new Map<KnownKind, string>(
    (Object.entries(KIND_MODULES) as [KnownKind, readonly [string, string]][]).map(([kind, [module]]) => [kind, declarationFile(module)]),
  );
  const options: ts.CompilerOptions = { noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2022, moduleResolution: ts.ModuleResolutionKind.Node10 };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.getDefaultLibFileName = () => MINI_LIB_NAME;
  host.fileExists = (f) => f === MINI_LIB_NAME || fileExists.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => (f === MINI_LIB_NAME ? ts.createSourceFile(f, MINI_LIB, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram({ rootNames: [...files.values()], options, host });
  const checker = program.getTypeChecker();
  const roots = new Map<KnownKind, ts.Type>();
  for (const [kind, file] of files) {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source)?.exports?.get(KIND_MODULES[kind][1] as ts.__String);
    if (!symbol) throw new Error(`k8s-schema: ${KIND_MODULES[kind][1]} not found in ${file}`);
    roots.set(kind, checker.getDeclaredTypeOfSymbol(symbol));
  }
  loaded = { checker, roots };
  return loaded;
}

function describe(checker: ts.TypeChecker, type: ts.Type): FieldType {
  const t = checker.getNonNullableType(type);
  const alias = t.aliasSymbol?.name ?? '';
  if (/IntOrString$/.test(alias)) return { kind: 'int-or-string' };
  if (/Quantity$/.test(alias)) return { kind: 'quantity' };
  if (t.isUnion()) {
    const flags = t.types.reduce((f, member) => f | member.flags, 0);
    if (flags & ts.TypeFlags.StringLike && flags & ts.TypeFlags.NumberLike) return { kind: 'int-or-string' };
    if (flags & ts.TypeFlags.BooleanLike) return { kind: 'boolean' };
    if (t.types.every((m) => m.flags & ts.TypeFlags.StringLike)) return { kind: 'string' };
    return { kind: 'unknown' };
  }
  if (t.flags & ts.TypeFlags.StringLike) return { kind: 'string' };
  if (t.flags & ts.TypeFlags.NumberLike) return { kind: 'number' };
  if (t.flags & ts.TypeFlags.BooleanLike) return { kind: 'boolean' };
  if (checker.isArrayType(t)) return { kind: 'array', items: describe(checker, checker.getTypeArguments(t as ts.TypeReference)[0]) };
  if (t.flags & ts.TypeFlags.Object) {
    const properties = checker.getPropertiesOfType(t);
    const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (index && properties.length === 0) return { kind: 'map', value: describe(checker, index.type) };
    let fields: Map<string, FieldType> | undefined;
    return {
      kind: 'object',
      name: checker.typeToString(t),
      fields: () => (fields ??= new Map(properties.map((p) => [p.name, describe(checker, checker.getTypeOfSymbol(p))]))),
    };
  }
  return { kind: 'unknown' };
}

/** The shape of a whole object of this kind (apiVersion, kind, metadata, spec, …). */
export function kindSchema(kind: KnownKind): FieldType {
  const { checker, roots } = load();
  return describe(checker, roots.get(kind)!);
}
