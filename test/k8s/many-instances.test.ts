/** Many instances: names derive from `name`, whose default is unique per construct path, and instances never collide. */
import 'cdktf/lib/testing/adapters/jest';
import { App, Testing, TerraformStack } from 'cdktf';
import { TboConfigValidationError } from '../../lib/core';
import { defaultInstanceName, TboKubernetesService, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth, type MappedResource } from './support/manifest';
import { IMAGE, NAME } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kinds whose names must be DNS labels (the rest: DNS subdomains). */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

/** Two instances in one stack; returns them and their manifests. */
function synthTwo(a: Partial<TboKubernetesServiceProps> = {}, b: Partial<TboKubernetesServiceProps> = a, ids: [string, string] = ['TboA', 'TboB']) {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const first = new TboKubernetesService(stack, ids[0], { image: IMAGE, ...a });
  const second = new TboKubernetesService(stack, ids[1], { image: IMAGE, ...b });
  return { first, second, mapped: manifestsFromSynth(Testing.synth(stack)) };
}

const key = ({ manifest }: MappedResource) => `${manifest.kind} ${manifest.metadata.namespace ?? '(cluster)'}/${manifest.metadata.name}`;
const duplicates = (mapped: MappedResource[]) => mapped.map(key).filter((k, i, all) => all.indexOf(k) !== i);
type Selector = { matchLabels?: Record<string, string> };
const selects = (selector: Selector, labels: Record<string, string>) =>
  Object.keys(selector.matchLabels ?? {}).length > 0 && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
type PodTemplate = { template: { metadata: { labels: Record<string, string> } } };
/** Pod labels of every workload (a CronJob's through its job template), by its namespace/name. */
const podLabels = (mapped: MappedResource[]) =>
  mapped
    .filter(({ manifest }) => ['Deployment', 'StatefulSet', 'CronJob'].includes(manifest.kind))
    .map(({ manifest }) => {
      const spec = manifest.spec as PodTemplate & { jobTemplate?: { spec: PodTemplate } };
      return { owner: `${manifest.metadata.namespace}/${manifest.metadata.name}`, labels: (spec.jobTemplate?.spec ?? spec).template.metadata.labels };
    });

describe('default name', () => {
  it('is the construct id (with tbo- in front unless it starts so) and 8 hex digits of the path\'s hash: a DNS label of at most 40 characters', () => {
    expect(NAME).toMatch(/^tbo-[0-9a-f]{8}$/);
    expect(defaultInstanceName('app/stack/Gateway', 'Gateway')).toMatch(/^tbo-gateway-[0-9a-f]{8}$/);
    expect(defaultInstanceName('stack/TboA', 'TboA')).toMatch(/^tboa-[0-9a-f]{8}$/);
    expect(defaultInstanceName('stack/LLM_Gateway.Prod', 'LLM_Gateway.Prod')).toMatch(/^tbo-llm-gateway-prod-[0-9a-f]{8}$/);
    const long = defaultInstanceName('stack/x', 'A'.repeat(80));
    expect(long.length).toBeLessThanOrEqual(40);
    for (const name of [NAME, long, defaultInstanceName('s/--', '--'), defaultInstanceName('s/9lives', '9lives')]) expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('is what the construct uses, and the same on every synth', () => {
    const build = () => {
      const stack = new TerraformStack(new App(), 'stack');
      return new TboKubernetesService(stack, 'Tbo', { image: IMAGE }).name;
    };
    expect([build(), build()]).toEqual([NAME, NAME]);
  });

  it('differs per construct path: same id in another stack or scope', () => {
    expect(new Set([defaultInstanceName('stack/Tbo', 'Tbo'), defaultInstanceName('other/Tbo', 'Tbo'), defaultInstanceName('stack/Team/Tbo', 'Tbo')]).size).toBe(3);
  });

  it('the name prop overrides it', () => {
    const { first } = synthTwo({ name: 'gw' }, {});
    expect(first.name).toBe('gw');
    expect(first.namespaceName).toBe('gw');
  });
});

describe('two instances in one stack, with defaults', () => {
  const { first, second, mapped } = synthTwo();

  it('get different names and each its own namespace, created once', () => {
    expect(first.name).not.toBe(second.name);
    expect([first.namespaceName, second.namespaceName]).toEqual([first.name, second.name]);
    const namespaces = mapped.filter((m) => m.manifest.kind === 'Namespace').map((m) => m.manifest.metadata.name);
    expect(namespaces.sort()).toEqual([first.name, second.name].sort());
  });

  it('synthesize no two objects of the same kind, namespace and name', () => {
    expect(mapped.length).toBeGreaterThan(25);
    expect(duplicates(mapped)).toEqual([]);
  });

  it('name every object as Kubernetes requires (DNS labels or subdomains, at most 63 / 253 characters)', () => {
    for (const { manifest } of mapped) {
      const name = manifest.metadata.name;
      // A CronJob's Jobs append 11 characters to its name, which must stay a 63-character label.
      if (manifest.kind === 'CronJob') expect([manifest.kind, name, DNS_LABEL.test(name) && name.length <= 52]).toEqual([manifest.kind, name, true]);
      else if (LABEL_NAMED.has(manifest.kind)) expect([manifest.kind, name, DNS_LABEL.test(name) && name.length <= 63]).toEqual([manifest.kind, name, true]);
      else expect([manifest.kind, name, DNS_SUBDOMAIN.test(name) && name.length <= 253]).toEqual([manifest.kind, name, true]);
      for (const value of Object.values((manifest.metadata.labels ?? {}) as Record<string, string>)) expect(value.length).toBeLessThanOrEqual(63);
    }
  });

  it('are valid for kubernetes-models', () => {
    for (const { manifest } of mapped) expect(() => validateManifest(manifest)).not.toThrow();
  });

  it('select only their own pods: policies, disruption budgets, Services and autoscalers', () => {
    const pods = podLabels(mapped);
    // Per instance: the gateway Deployment, the Redis StatefulSet, the Redis backup CronJob.
    expect(pods).toHaveLength(6);
    for (const { manifest } of mapped) {
      const spec = manifest.spec as { podSelector?: Selector; selector?: Selector & Record<string, string>; scaleTargetRef?: { name: string } };
      const selector = manifest.kind === 'NetworkPolicy' ? spec.podSelector : manifest.kind === 'PodDisruptionBudget' ? spec.selector : manifest.kind === 'Service' ? { matchLabels: spec.selector } : undefined;
      if (!selector || Object.keys(selector.matchLabels ?? {}).length === 0) continue; // the namespace-wide default deny, in the instance's own namespace
      const owners = pods.filter((p) => selects(selector, p.labels)).map((p) => p.owner);
      expect([key({ address: '', manifest }), owners]).toEqual([key({ address: '', manifest }), [expect.stringMatching(new RegExp(`^${manifest.metadata.namespace}/`))]]);
    }
  });

  it('write Redis keys under different prefixes and log under different service names', () => {
    expect(first.redisKeyPrefix).not.toBe(second.redisKeyPrefix);
    expect([first.serviceConfig.serviceName, second.serviceConfig.serviceName]).toEqual([first.name, second.name]);
  });
});

describe('two instances in one existing namespace', () => {
  const shared = { createNamespace: false, namespace: 'apps' } as const;
  const { first, second, mapped } = synthTwo(shared);

  it('create no namespace and no two objects of the same name', () => {
    expect(mapped.filter((m) => m.manifest.kind === 'Namespace')).toEqual([]);
    expect(mapped.every((m) => m.manifest.metadata.namespace === 'apps')).toBe(true);
    expect(duplicates(mapped)).toEqual([]);
    expect(first.secretName).not.toBe(second.secretName);
  });

  it('create nothing namespace-wide: every policy and budget selects one instance\'s pods', () => {
    expect(mapped.map((m) => m.manifest.kind)).not.toEqual(expect.arrayContaining(['ResourceQuota']));
    expect(mapped.map((m) => m.manifest.kind)).not.toEqual(expect.arrayContaining(['LimitRange']));
    const pods = podLabels(mapped);
    for (const { manifest } of mapped.filter((m) => m.manifest.kind === 'NetworkPolicy' || m.manifest.kind === 'PodDisruptionBudget')) {
      const spec = manifest.spec as { podSelector?: Selector; selector?: Selector };
      const owners = pods.filter((p) => selects((spec.podSelector ?? spec.selector)!, p.labels));
      expect([manifest.metadata.name, owners.length]).toEqual([manifest.metadata.name, 1]);
    }
  });
});

describe('collisions are refused at synth, naming both instances', () => {
  function problems(a: Partial<TboKubernetesServiceProps>, b: Partial<TboKubernetesServiceProps>): string {
    try {
      synthTwo(a, b);
    } catch (err) {
      if (err instanceof TboConfigValidationError) return err.problems.join('\n');
      throw err;
    }
    return '';
  }

  it('the same namespace created twice', () => {
    expect(problems({ namespace: 'llm' }, { namespace: 'llm' })).toMatch(
      /TboKubernetesService stack\/TboB: namespace: received "llm"; TboKubernetesService stack\/TboA already creates namespace "llm": give each instance its own namespace, or set createNamespace: false on all but one/,
    );
    expect(problems({ namespace: 'llm' }, { namespace: 'llm', createNamespace: false })).toBe('');
  });

  it('the same name in the same namespace', () => {
    expect(problems({ name: 'gw', createNamespace: false, namespace: 'apps' }, { name: 'gw', createNamespace: false, namespace: 'apps' })).toMatch(
      /stack\/TboB: name: received "gw"; TboKubernetesService stack\/TboA already uses this name in namespace "apps" \(gw-service, gw-config, …\): give each instance its own name/,
    );
    expect(problems({ name: 'gw', namespace: 'a' }, { name: 'gw', namespace: 'b' })).toBe('');
  });

  it('the same created Secret in the same namespace', () => {
    const secrets = { secretName: 'llm-keys', values: { anthropicApiKey: 'k', redisPassword: 'p' }, required: [] };
    expect(problems({ createNamespace: false, namespace: 'apps', secrets }, { createNamespace: false, namespace: 'apps', secrets })).toMatch(
      /secrets\.secretName: received "llm-keys"; TboKubernetesService stack\/TboA already creates Secret "llm-keys" in namespace "apps"/,
    );
  });

  it('instances in different stacks (other clusters) may share names', () => {
    const app = Testing.app();
    for (const id of ['east', 'west']) new TboKubernetesService(new TerraformStack(app, id), 'Tbo', { image: IMAGE, name: 'tbo', namespace: 'tbo-system' });
    expect(app.node.findAll().filter((c) => c instanceof TboKubernetesService)).toHaveLength(2);
  });
});
