import 'cdktf/lib/testing/adapters/jest';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { Testing, TerraformStack } from 'cdktf';
import { ADMIN_PORT, redisKeyPrefixFor } from '../../lib/core';
import { TboKubernetesService, type TboKubernetesServiceProps } from '../../lib/k8s';
import { blockOf, blocksOf, IMAGE, N, NAME, synthService, synthWithConstruct } from './support/synth';

Testing.setupJest();

const NS_REF = expect.stringMatching(/^\$\{kubernetes_namespace_v1\.Tbo_Namespace_[0-9A-F]+\.metadata\[0\]\.name\}$/);

describe('TboKubernetesService defaults', () => {
  const json = synthService();

  it('creates its own namespace, named after the instance, enforcing the restricted Pod Security Standard', () => {
    expect(json).toHaveResourceWithProperties(NamespaceV1, {
      metadata: {
        name: N.namespace,
        labels: expect.objectContaining({
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        }),
      },
    });
  });

  it('puts every namespaced resource in that namespace by reference (so Terraform creates it first)', () => {
    const resources = JSON.parse(json).resource as Record<string, Record<string, { metadata: { namespace?: string } }>>;
    const namespaced = Object.entries(resources)
      .filter(([type]) => type !== 'kubernetes_namespace_v1')
      .flatMap(([, blocks]) => Object.values(blocks));
    expect(namespaced.length).toBeGreaterThan(10);
    for (const block of namespaced) expect(block.metadata.namespace).toEqual(NS_REF);
  });

  it('has a ConfigMap <name>-config with config.yaml', () => {
    expect(json).toHaveResourceWithProperties(ConfigMapV1, { metadata: expect.objectContaining({ name: N.config }), data: { 'config.yaml': expect.any(String) } });
  });

  it('references Secret <name>-secrets and creates none', () => {
    expect(json).not.toHaveResource(SecretV1);
  });

  it('has its own ServiceAccount without a token', () => {
    expect(json).toHaveResourceWithProperties(ServiceAccountV1, { metadata: expect.objectContaining({ name: N.service }), automount_service_account_token: false });
  });

  it('runs 5 replicas of the image', () => {
    expect(json).toHaveResourceWithProperties(DeploymentV1, {
      metadata: expect.objectContaining({ name: N.service }),
      spec: expect.objectContaining({
        replicas: '5',
        template: expect.objectContaining({ spec: expect.objectContaining({ container: [expect.objectContaining({ image: IMAGE })] }) }),
      }),
    });
  });

  it('has a ClusterIP Service 80 → 8000', () => {
    expect(json).toHaveResourceWithProperties(ServiceV1, {
      metadata: expect.objectContaining({ name: N.service }),
      spec: expect.objectContaining({ type: 'ClusterIP', port: [{ name: 'http', port: 80, target_port: '8000', protocol: 'TCP' }] }),
    });
  });

  it('never exposes the admin port through the Service', () => {
    const ports = (blockOf(json, 'kubernetes_service_v1', 'Tbo_Service').spec as { port: Record<string, unknown>[] }).port;
    const exposed = ports.flatMap((p) => [p.port, p.target_port, p.name]).map(String);
    expect(exposed).not.toContain(String(ADMIN_PORT));
    expect(exposed).not.toContain('admin');
  });

  it('has no Ingress unless one is configured', () => {
    expect(json).not.toHaveResource(IngressV1);
  });

  it('has default-deny, gateway, Redis and Redis backup NetworkPolicies', () => {
    expect(Object.values(blocksOf(json, 'kubernetes_network_policy_v1')).map((b) => (b.metadata as { name: string }).name).sort()).toEqual([
      N.backup,
      N.defaultDeny,
      N.redis,
      N.service,
    ]);
  });

  it('has the ResourceQuota, LimitRange, autoscaler, disruption budget and Redis', () => {
    expect(json).toHaveResourceWithProperties(ResourceQuotaV1, { metadata: expect.objectContaining({ name: N.quota }) });
    expect(json).toHaveResourceWithProperties(LimitRangeV1, { metadata: expect.objectContaining({ name: N.limits }) });
    expect(json).toHaveResourceWithProperties(HorizontalPodAutoscalerV2, { metadata: expect.objectContaining({ name: N.service }) });
    expect(json).toHaveResourceWithProperties(PodDisruptionBudgetV1, { metadata: expect.objectContaining({ name: N.service }) });
    expect(json).toHaveResourceWithProperties(StatefulSetV1, { metadata: expect.objectContaining({ name: N.redis }) });
    expect(json).toHaveResourceWithProperties(ServiceV1, { metadata: expect.objectContaining({ name: N.redis }) });
  });

  it('labels everything with the recommended labels', () => {
    expect(json).toHaveResourceWithProperties(DeploymentV1, {
      metadata: expect.objectContaining({
        labels: {
          'app.kubernetes.io/name': 'tbo',
          'app.kubernetes.io/instance': N.service,
          'app.kubernetes.io/component': 'gateway',
          'app.kubernetes.io/part-of': 'tbo',
          'app.kubernetes.io/managed-by': 'cdktf',
        },
      }),
    });
  });

  it('keeps its logical ids (renaming one replaces the resource in the cluster)', () => {
    const names = Object.values(JSON.parse(json).resource as Record<string, Record<string, unknown>>).flatMap((blocks) => Object.keys(blocks).map((n) => n.replace(/_[0-9A-F]{8}$/, '')));
    expect(names.sort()).toEqual(
      [
        'Tbo_Autoscaler', 'Tbo_ConfigMap', 'Tbo_DefaultDenyPolicy', 'Tbo_Deployment', 'Tbo_DisruptionBudget', 'Tbo_DrRunbook_ConfigMap', 'Tbo_GatewayPolicy', 'Tbo_LimitRange',
        'Tbo_Namespace', 'Tbo_Redis_Backup_Claim', 'Tbo_Redis_Backup_CronJob', 'Tbo_Redis_Backup_NetworkPolicy', 'Tbo_Redis_NetworkPolicy', 'Tbo_Redis_Service', 'Tbo_Redis_StatefulSet', 'Tbo_ResourceQuota', 'Tbo_Service', 'Tbo_ServiceAccount',
      ].sort(),
    );
  });
});

describe('TboKubernetesService fields', () => {
  it('exposes every resource as a typed field', () => {
    const { tbo } = synthWithConstruct({ ingress: { host: 'tbo.example.com' }, secrets: { values: { anthropicApiKey: 'k', redisPassword: 'p' }, required: [] } });
    expect(tbo.namespace).toBeInstanceOf(NamespaceV1);
    expect(tbo.configMap).toBeInstanceOf(ConfigMapV1);
    expect(tbo.secret).toBeInstanceOf(SecretV1);
    expect(tbo.serviceAccount).toBeInstanceOf(ServiceAccountV1);
    expect(tbo.deployment).toBeInstanceOf(DeploymentV1);
    expect(tbo.service).toBeInstanceOf(ServiceV1);
    expect(tbo.ingress).toBeInstanceOf(IngressV1);
    expect(tbo.defaultDenyPolicy).toBeInstanceOf(NetworkPolicyV1);
    expect(tbo.gatewayPolicy).toBeInstanceOf(NetworkPolicyV1);
    expect(tbo.resourceQuota).toBeInstanceOf(ResourceQuotaV1);
    expect(tbo.limitRange).toBeInstanceOf(LimitRangeV1);
    expect(tbo.autoscaler).toBeInstanceOf(HorizontalPodAutoscalerV2);
    expect(tbo.disruptionBudget).toBeInstanceOf(PodDisruptionBudgetV1);
    expect(tbo.redis?.statefulSet).toBeInstanceOf(StatefulSetV1);
    expect(tbo.redis?.service).toBeInstanceOf(ServiceV1);
    expect(tbo.redis?.networkPolicy).toBeInstanceOf(NetworkPolicyV1);
    expect(tbo.name).toBe(NAME);
    expect(tbo.namespaceName).toBe(NAME);
    expect(tbo.internalUrl).toBe(`http://${N.service}.${NAME}.svc:80`);
    expect(tbo.serviceConfig.optimizationLevel).toBe('balanced');
  });

  it('leaves optional fields undefined when their resource is off', () => {
    const { tbo } = synthWithConstruct({ createNamespace: false, redis: false, networkPolicy: false, autoscaling: false, disruptionBudget: false, resourceQuota: false, limitRange: false });
    for (const field of ['namespace', 'secret', 'ingress', 'defaultDenyPolicy', 'gatewayPolicy', 'resourceQuota', 'limitRange', 'autoscaler', 'disruptionBudget', 'redis'] as const) {
      expect([field, tbo[field]]).toEqual([field, undefined]);
    }
    expect(tbo.secretName).toBe(N.secret);
  });
});

describe('Redis key prefix', () => {
  type Env = { name: string; value?: string };
  const prefixEnv = (json: string, part: string) => {
    const block = blockOf(json, 'kubernetes_deployment_v1', part) as { spec: { template: { spec: { container: { env: Env[] }[] } } } };
    return block.spec.template.spec.container[0].env.find((e) => e.name === 'TBO_REDIS_KEY_PREFIX')?.value;
  };
  function synthTwo(): { a: TboKubernetesService; b: TboKubernetesService; json: string } {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const a = new TboKubernetesService(stack, 'TboA', { image: IMAGE, name: 'tbo-a', namespace: 'tbo-a', existingRedisUrl: 'redis://shared-redis.cache.svc:6379' });
    const b = new TboKubernetesService(stack, 'TboB', { image: IMAGE, name: 'tbo-b', namespace: 'tbo-b', existingRedisUrl: 'redis://shared-redis.cache.svc:6379' });
    return { a, b, json: Testing.synth(stack) };
  }

  it('is derived per instance: two instances sharing a Redis in one stack get different prefixes', () => {
    const { a, b, json } = synthTwo();
    expect(prefixEnv(json, 'TboA_')).toBe(redisKeyPrefixFor(a.node.addr));
    expect(prefixEnv(json, 'TboB_')).toBe(redisKeyPrefixFor(b.node.addr));
    expect(prefixEnv(json, 'TboA_')).not.toBe(prefixEnv(json, 'TboB_'));
    expect([a.redisKeyPrefix, b.redisKeyPrefix]).toEqual([prefixEnv(json, 'TboA_'), prefixEnv(json, 'TboB_')]);
  });

  it('is the same on every synth of the same instance', () => {
    const [first, second] = [synthTwo(), synthTwo()];
    expect([prefixEnv(second.json, 'TboA_'), prefixEnv(second.json, 'TboB_')]).toEqual([prefixEnv(first.json, 'TboA_'), prefixEnv(first.json, 'TboB_')]);
    expect(prefixEnv(synthService(), '')).toBe(prefixEnv(synthService(), ''));
    expect(prefixEnv(synthService(), '')).toMatch(/^tbo-[0-9a-f]{12}$/);
  });

  it('redisKeyPrefix overrides it', () => {
    const { tbo, json } = synthWithConstruct({ redisKeyPrefix: 'tbo-prod' });
    expect(prefixEnv(json, '')).toBe('tbo-prod');
    expect(tbo.redisKeyPrefix).toBe('tbo-prod');
  });
});

describe('TboKubernetesService warnings', () => {
  function messages(props: Partial<TboKubernetesServiceProps>): string[] {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const tbo = new TboKubernetesService(stack, 'Tbo', { image: IMAGE, ...props });
    Testing.synth(stack);
    return tbo.node.metadata.map((m) => `${m.type}: ${String(m.data)}`);
  }

  it('says nothing with the defaults', () => {
    expect(messages({})).toEqual([]);
  });

  it('says when a prop trades away a secure default', () => {
    expect(messages({ secrets: { values: { anthropicApiKey: 'k', redisPassword: 'p' }, required: [] } })).toEqual([expect.stringMatching(/warn: .*Terraform state holds the credentials/)]);
    expect(messages({ networkPolicy: false })).toEqual([expect.stringMatching(/warn: .*open to every pod/)]);
    expect(messages({ networkPolicy: { defaultDeny: false } })).toEqual([expect.stringMatching(/warn: .*defaultDeny/)]);
    expect(messages({ createNamespace: false })).toEqual([expect.stringMatching(/warn: .*pod-security\.kubernetes\.io\/enforce=restricted/)]);
    expect(messages({ ingress: { host: 'tbo.example.com' } })).toEqual([expect.stringMatching(/info: .*ingress-nginx, which is retired/)]);
  });
});

describe('the dr-runbook ConfigMap (drRunbook, default on)', () => {
  const SENTINEL = `SENTINEL-jwt-${'j'.repeat(32)}`;
  let tbo: TboKubernetesService;
  let json: string;
  beforeAll(() => {
    ({ tbo, json } = synthWithConstruct());
  });

  it('is <name>-dr-runbook in the instance\'s namespace, with recovery.md and rollback.md', () => {
    const block = blockOf(json, 'kubernetes_config_map_v1', 'DrRunbook') as { metadata: { name: string; namespace: string }; data: Record<string, string> };
    expect(block.metadata).toMatchObject({ name: `${NAME}-dr-runbook`, namespace: NS_REF });
    expect(Object.keys(block.data).sort()).toEqual(['recovery.md', 'rollback.md']);
    expect(tbo.drRunbook!.name).toBe(`${NAME}-dr-runbook`);
  });

  it('fills in this instance\'s names: Deployment, Secret and its create command, Redis, its data claim, the backup CronJob', () => {
    const text = Object.values(tbo.drRunbook!.documents).join('\n');
    for (const name of [`deployment/${N.service}`, `get secret ${N.secret}`, tbo.secretCreateCommand!, `get cronjob ${N.backup}`, `statefulset "${N.redis}"`, `data-${N.redis}-0`]) {
      expect([name, text.includes(name)]).toEqual([name, true]);
    }
  });

  it('holds no credential, also when the Secret is created from values', () => {
    const { tbo: fromValues } = synthWithConstruct({ secrets: { values: { jwtSecretKey: SENTINEL, redisPassword: 'SENTINEL-redis' } } });
    expect(Object.values(fromValues.drRunbook!.documents).join('\n')).not.toContain('SENTINEL');
  });

  it('drRunbook: false leaves it out', () => {
    const { tbo: without, json: synthesized } = synthWithConstruct({ drRunbook: false });
    expect(without.drRunbook).toBeUndefined();
    expect(Object.keys(blocksOf(synthesized, 'kubernetes_config_map_v1')).filter((n) => n.includes('DrRunbook'))).toEqual([]);
  });
});
