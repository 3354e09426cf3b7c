/** createNamespace: false: nothing namespace-wide unless asked for; what the construct creates selects only its own pods. */
import 'cdktf/lib/testing/adapters/jest';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { Testing, TerraformStack } from 'cdktf';
import { TboConfigValidationError } from '../../lib/core';
import { TboKubernetesService, type TboKubernetesServiceProps } from '../../lib/k8s';
import { manifestsFromSynth } from './support/manifest';
import { blocksOf, IMAGE, N, synthService } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

const SHARED = { createNamespace: false, namespace: 'apps' } as const;
const shared = (props: Partial<TboKubernetesServiceProps> = {}) => synthService({ ...SHARED, ...props });
const policies = (json: string) => Object.values(blocksOf(json, 'kubernetes_network_policy_v1')) as { metadata: { name: string }; spec: { pod_selector: { match_labels?: Record<string, string> } } }[];

describe('in an existing namespace (createNamespace: false)', () => {
  const json = shared();

  it('creates no namespace, no default-deny policy, no ResourceQuota and no LimitRange', () => {
    expect(json).not.toHaveResource(NamespaceV1);
    expect(json).not.toHaveResource(ResourceQuotaV1);
    expect(json).not.toHaveResource(LimitRangeV1);
    expect(policies(json).map((p) => p.metadata.name).sort()).toEqual([N.backup, N.redis, N.service]);
  });

  it('every policy it creates selects only its own pods (never podSelector: {})', () => {
    const selectors = policies(json).map((p) => p.spec.pod_selector.match_labels);
    expect(selectors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ 'app.kubernetes.io/instance': N.service, 'app.kubernetes.io/component': 'gateway' }),
        expect.objectContaining({ 'app.kubernetes.io/instance': N.redis, 'app.kubernetes.io/component': 'cache' }),
      ]),
    );
    for (const labels of selectors) expect(Object.keys(labels ?? {}).length).toBeGreaterThan(0);
  });

  it('puts everything in that namespace, by name', () => {
    const mapped = manifestsFromSynth(json);
    expect(mapped.every((m) => m.manifest.metadata.namespace === 'apps')).toBe(true);
    for (const { manifest } of mapped) expect(() => validateManifest(manifest)).not.toThrow();
  });

  it('depends on no quota or limit range', () => {
    const deployment = Object.values(blocksOf(json, 'kubernetes_deployment_v1'))[0];
    expect(deployment.depends_on).toBeUndefined();
  });
});

describe('namespace-wide objects in an existing namespace, when asked for', () => {
  it('networkPolicy.defaultDeny: true adds the default deny', () => {
    expect(shared({ networkPolicy: { defaultDeny: true } })).toHaveResourceWithProperties(NetworkPolicyV1, {
      metadata: expect.objectContaining({ name: N.defaultDeny }),
      spec: { pod_selector: {}, policy_types: ['Ingress', 'Egress'] },
    });
  });

  it('resourceQuota: true sets the guide\'s quota; given values set exactly those limits', () => {
    expect(shared({ resourceQuota: true })).toHaveResourceWithProperties(ResourceQuotaV1, {
      spec: { hard: { 'requests.cpu': '10', 'requests.memory': '20Gi', 'limits.cpu': '20', 'limits.memory': '40Gi', pods: '50', persistentvolumeclaims: '10' } },
    });
    expect(shared({ resourceQuota: { pods: '200' } })).toHaveResourceWithProperties(ResourceQuotaV1, { spec: { hard: { pods: '200' } } });
  });

  it('limitRange: true or values adds the LimitRange', () => {
    expect(shared({ limitRange: true })).toHaveResource(LimitRangeV1);
    expect(shared({ limitRange: { max: { cpu: '4' } } })).toHaveResourceWithProperties(LimitRangeV1, {
      spec: { limit: [expect.objectContaining({ max: { cpu: '4', memory: '4Gi' } })] },
    });
  });

  it('in a namespace it creates, they stay on by default and off with false', () => {
    const own = synthService();
    expect(own).toHaveResource(ResourceQuotaV1);
    expect(own).toHaveResource(LimitRangeV1);
    expect(policies(own).map((p) => p.metadata.name)).toContain(N.defaultDeny);
    expect(synthService({ resourceQuota: false, limitRange: false })).not.toHaveResource(ResourceQuotaV1);
  });
});

describe('the quota check counts only what this construct creates', () => {
  function problems(props: Partial<TboKubernetesServiceProps>): string {
    try {
      shared(props);
    } catch (err) {
      if (err instanceof TboConfigValidationError) return err.problems.join('\n');
      throw err;
    }
    return '';
  }

  it('its peak pods (20 most + 5 surge) × 250m plus Redis\'s 100m and its backup Job\'s 50m', () => {
    expect(problems({ resourceQuota: { 'requests.cpu': '6.35' } })).toMatch(
      /resourceQuota\.requests\.cpu: received "6\.35"; must hold the 25 gateway pods \(most replicas plus the rolling-update surge\), Redis and its backup Job this construct creates: at least 6\.4/,
    );
    expect(problems({ resourceQuota: { 'requests.cpu': '6.4' } })).toBe('');
    expect(problems({ redis: { backup: false }, resourceQuota: { 'requests.cpu': '6.35' } })).toBe('');
  });

  it('its pods and claims: the gateway\'s, Redis and its data claim, the backup Job and its claim', () => {
    expect(problems({ resourceQuota: { pods: '26', persistentvolumeclaims: '1' } })).toMatch(
      /resourceQuota\.pods: received "26"; must allow the pods this construct creates \(most replicas plus the surge, Redis, its backup Job\): at least 27[\s\S]*resourceQuota\.persistentvolumeclaims: received "1"; must allow the claims this construct creates \(Redis's data and its backup claim\): at least 2/,
    );
    expect(problems({ resourceQuota: { pods: '27', persistentvolumeclaims: '2' } })).toBe('');
    // An existing backup claim is not created here.
    expect(problems({ redis: { backup: { existingClaim: 'redis-backups' } }, resourceQuota: { persistentvolumeclaims: '1' } })).toBe('');
  });

  it('its storage: Redis\'s data volume and the backup claim', () => {
    expect(problems({ resourceQuota: { 'requests.storage': '10Gi' } })).toMatch(/resourceQuota\.requests\.storage: received "10Gi"; must hold the storage this construct claims \(Redis's data and its backup claim\): at least 11Gi/);
    expect(problems({ redis: { storage: '2Gi', backup: { storage: '3Gi' } }, resourceQuota: { 'requests.storage': '5Gi' } })).toBe('');
  });

  it('without its Redis, only the gateway pods', () => {
    expect(problems({ redis: false, resourceQuota: { pods: '24' } })).toMatch(/resourceQuota\.pods: received "24"; must allow the pods this construct creates \(most replicas plus the surge\): at least 25/);
    expect(problems({ redis: false, resourceQuota: { pods: '25' } })).toBe('');
  });

  it('limits it was not given are not checked (they are not set)', () => {
    expect(problems({ resourceQuota: { 'limits.memory': '64Gi' } })).toBe('');
  });
});

describe('warnings in an existing namespace', () => {
  it('only the Pod Security labels to add yourself', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const tbo = new TboKubernetesService(stack, 'Tbo', { image: IMAGE, ...SHARED });
    Testing.synth(stack);
    expect(tbo.node.metadata.map((m) => String(m.data))).toEqual([expect.stringMatching(/createNamespace: false: label namespace "apps" pod-security\.kubernetes\.io\/enforce=restricted yourself/)]);
  });
});
