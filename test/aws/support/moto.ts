import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from '../../support/ports';

/** moto's defaults for a deploy: dummy credentials, its default account, one region. */
export const MOTO_REGION = 'us-east-1';
export const MOTO_ACCOUNT = '123456789012';

/** A moto server on 127.0.0.1 that this test started, stopped by its pid. */
export class MotoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<MotoServer> {
    const port = await freePort();
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = `${stderr}${d.toString()}`.slice(-4000)));
    const server = new MotoServer(child, port);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr}`);
          return (await fetch(`${server.endpoint}/moto-api/data.json`)).ok;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'moto server' },
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Forgets every resource (between deploys). */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset: ${res.status}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    process.kill(this.child.pid, 'SIGTERM');
    await exited;
  }

  /**
   * One AWS API call against moto, with the request shaped as the API documents it: the AWS CLI
   * (`--cli-input-json`) when it is installed, else boto3 (moto's own dependency).
   */
  call<T = Record<string, unknown>>(service: string, operation: string, params: Record<string, unknown> = {}): T {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_DEFAULT_REGION: MOTO_REGION,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_PAGER: '',
    };
    delete env.AWS_PROFILE;
    delete env.AWS_SESSION_TOKEN;
    const run = hasAwsCli()
      ? spawnSync('aws', [service, kebab(operation), '--cli-input-json', JSON.stringify(params), '--endpoint-url', this.endpoint, '--region', MOTO_REGION, '--output', 'json'], { env, encoding: 'utf8' })
      : spawnSync('python3', ['-c', BOTO3_CALL, service, snake(operation), JSON.stringify(params), this.endpoint, MOTO_REGION], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${service} ${operation} failed (${run.status}): ${run.stderr}`);
    return (run.stdout.trim() ? JSON.parse(run.stdout) : {}) as T;
  }
}

const BOTO3_CALL = `
import boto3, json, sys
service, op, params, endpoint, region = sys.argv[1:6]
client = boto3.client(service, endpoint_url=endpoint, region_name=region)
result = getattr(client, op)(**json.loads(params))
result.pop('ResponseMetadata', None)
print(json.dumps(result, default=str))
`;

let awsCli: boolean | undefined;
function hasAwsCli(): boolean {
  awsCli ??= spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;
  return awsCli;
}
const kebab = (op: string) => op.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
const snake = (op: string) => op.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** What moto's CloudFormation does with each resource type, asked of moto itself. */
export interface MotoSupport {
  /** Types moto lists as CREATE_COMPLETE while creating nothing. */
  readonly unmodeled: string[];
  /** Modeled types the template reads attributes of (Fn::GetAtt) that moto cannot resolve (it fails the whole stack). */
  readonly noGetAtt: string[];
}

/** Asks moto which of the template's resource types it models, and which of those it can resolve Fn::GetAtt on. */
export function motoSupport(template: CfnTemplate): MotoSupport {
  const types = Object.values(template.Resources).map((r) => r.Type);
  const getAttTypes = [...JSON.stringify(template).matchAll(/"Fn::GetAtt":\["([^"]+)"/g)].map((m) => template.Resources[m[1]]?.Type).filter(Boolean);
  const script = `
import json, sys
from moto.cloudformation.parsing import get_model_map
models = get_model_map()
types, get_att_types = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
  'unmodeled': sorted(t for t in types if t not in models),
  'noGetAtt': sorted(t for t in get_att_types if t in models and not hasattr(models[t], 'get_cfn_attribute')),
}))
`;
  const run = spawnSync('python3', ['-c', script, JSON.stringify([...new Set(types)]), JSON.stringify([...new Set(getAttTypes)])], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`moto support query failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as MotoSupport;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface CfnTemplate {
  Resources: Record<string, { Type: string; DependsOn?: string | string[]; Properties?: Json } & Record<string, Json | undefined>>;
  [section: string]: Json | undefined | CfnTemplate['Resources'];
}

/** A value standing in for a dropped resource's Ref or attribute: the shape IAM, ECS and ELB expect. */
function placeholder(type: string, id: string, attribute?: string): string {
  if (attribute?.endsWith('Port')) return '6379';
  const service = type.split('::')[1]?.toLowerCase();
  if (type === 'AWS::SecretsManager::Secret' && !attribute) return `arn:aws:secretsmanager:${MOTO_REGION}:${MOTO_ACCOUNT}:secret:${id}-AbCdEf`;
  if (attribute === 'Arn') return `arn:aws:${service}:${MOTO_REGION}:${MOTO_ACCOUNT}:${id}`;
  if (attribute === 'TargetGroupFullName') return `targetgroup/${id.slice(0, 32)}/0123456789abcdef`;
  return attribute ? `${id.toLowerCase()}.${attribute.toLowerCase()}.dropped.invalid` : `dropped-${id}`;
}

/**
 * The template moto can deploy: resources of `drop` types removed, and every Ref / Fn::GetAtt to
 * them, and every Fn::GetAtt on `opaque` types, replaced by a placeholder of the right shape.
 */
export function forMoto(template: CfnTemplate, drop: readonly string[], opaque: readonly string[]): { template: CfnTemplate; dropped: { id: string; type: string }[] } {
  const copy = JSON.parse(JSON.stringify(template)) as CfnTemplate;
  const dropped = Object.entries(copy.Resources).filter(([, r]) => drop.includes(r.Type)).map(([id, r]) => ({ id, type: r.Type }));
  const droppedIds = new Set(dropped.map((d) => d.id));
  const typeOf = (id: string) => template.Resources[id]?.Type ?? '';
  for (const { id } of dropped) delete copy.Resources[id];
  const rewrite = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof node.Ref === 'string' && droppedIds.has(node.Ref)) return placeholder(typeOf(node.Ref), node.Ref);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt' && Array.isArray(node['Fn::GetAtt'])) {
      const [id, attribute] = node['Fn::GetAtt'] as string[];
      if (droppedIds.has(id) || opaque.includes(typeOf(id))) return placeholder(typeOf(id), id, attribute);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, rewrite(v)]));
  };
  for (const [section, value] of Object.entries(copy)) {
    if (section !== 'Resources') copy[section] = rewrite(value as Json);
  }
  for (const resource of Object.values(copy.Resources)) {
    for (const [k, v] of Object.entries(resource)) if (k !== 'DependsOn' && k !== 'Type') resource[k] = rewrite(v as Json);
    if (resource.DependsOn !== undefined) {
      const kept = [resource.DependsOn].flat().filter((d) => !droppedIds.has(d));
      if (kept.length) resource.DependsOn = kept;
      else delete resource.DependsOn;
    }
  }
  return { template: copy, dropped };
}
