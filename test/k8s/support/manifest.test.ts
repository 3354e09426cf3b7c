import 'cdktf/lib/testing/adapters/jest';
import { fieldFor, ManifestMappingError, manifestsFromSynth, resolveReference, toManifest } from './manifest';
import { kindSchema, type FieldType } from './k8s-schema';
import { podTemplateSpec, restrictedViolations } from './pod-security';
import { validateManifest } from './validate-manifest';

const fields = (schema: FieldType) => (schema.kind === 'object' ? schema.fields() : new Map<string, FieldType>());

describe('k8s-schema', () => {
  it('reads kinds from kubernetes-models: objects, lists, maps, int-or-string, quantities', () => {
    const deployment = fields(kindSchema('Deployment'));
    const spec = fields(deployment.get('spec')!);
    expect(spec.get('replicas')).toEqual({ kind: 'number' });
    const pod = fields(fields(spec.get('template')!).get('spec')!);
    expect(pod.get('containers')!.kind).toBe('array');
    const container = pod.get('containers')!;
    const containerFields = container.kind === 'array' ? fields(container.items) : new Map();
    expect(fields(containerFields.get('livenessProbe')!).get('httpGet')).toMatchObject({ kind: 'object' });
    const resources = fields(containerFields.get('resources')!);
    expect(resources.get('limits')).toEqual({ kind: 'map', value: { kind: 'quantity' } });
    expect(fields(deployment.get('metadata')!).get('labels')).toEqual({ kind: 'map', value: { kind: 'string' } });
    expect(fields(fields(spec.get('strategy')!).get('rollingUpdate')!).get('maxSurge')).toEqual({ kind: 'int-or-string' });
  });
});

describe('fieldFor', () => {
  const pod = fields(fields(fields(fields(kindSchema('Deployment')).get('spec')!).get('template')!).get('spec')!);
  const service = fields(fields(kindSchema('Service')).get('spec')!);
  const schemas = { pod, service };
  it.each([
    ['termination_grace_period_seconds', 'pod', 'terminationGracePeriodSeconds'],
    ['container', 'pod', 'containers'],
    ['volume', 'pod', 'volumes'],
    ['topology_spread_constraint', 'pod', 'topologySpreadConstraints'],
    ['image_pull_secrets', 'pod', 'imagePullSecrets'],
    ['host_ipc', 'pod', 'hostIPC'],
    ['cluster_ip', 'service', 'clusterIP'],
    ['external_ips', 'service', 'externalIPs'],
    ['port', 'service', 'ports'],
  ] as const)('%s (%s spec) → %s', (key, schema, expected) => {
    expect(fieldFor(key, schemas[schema])).toBe(expected);
  });
  it('pluralizes -y as -ies (HPA scaling policy → policies)', () => {
    const hpa = fields(fields(kindSchema('HorizontalPodAutoscaler')).get('spec')!);
    const down = fields(fields(hpa.get('behavior')!).get('scaleDown')!);
    expect(fieldFor('policy', down)).toBe('policies');
  });
  it('finds nothing for a key the kind does not have', () => {
    expect(fieldFor('wait_for_rollout', pod)).toBeUndefined();
  });
});

describe('resolveReference', () => {
  const resources = { kubernetes_namespace_v1: { ns: { metadata: { name: 'tbo-system' } } } };
  it('follows type.name.path, where [0] addresses a block synthesized as an object', () => {
    expect(resolveReference('kubernetes_namespace_v1.ns.metadata[0].name', resources)).toBe('tbo-system');
  });
  it('refuses unknown resources and attributes only known after apply', () => {
    expect(() => resolveReference('kubernetes_namespace_v1.other.metadata[0].name', resources)).toThrow(ManifestMappingError);
    expect(() => resolveReference('kubernetes_namespace_v1.ns.metadata[0].uid', resources)).toThrow(/uid is not configured/);
  });
});

describe('toManifest', () => {
  const resources = { kubernetes_namespace_v1: { ns: { metadata: { name: 'tbo-system' } } } };
  const deployment = {
    depends_on: ['${kubernetes_namespace_v1.ns}'],
    lifecycle: { ignore_changes: ['spec[0].replicas'] },
    wait_for_rollout: true,
    timeouts: { create: '5m' },
    metadata: { name: 'web', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}', labels: { snake_case_label: 'kept', 'app.kubernetes.io/name': 'web' } },
    spec: {
      replicas: '3',
      selector: { match_labels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rolling_update: { max_surge: '25%', max_unavailable: '0' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { 'prometheus.io/port': '8000' } },
        spec: {
          security_context: { run_as_user: '1000', fs_group: '1000' },
          container: [
            {
              name: 'web',
              image: 'nginx',
              port: [{ container_port: 8000 }],
              env: [{ name: 'COUNT', value: '25' }],
              resources: { limits: { memory: '1Gi' } },
              liveness_probe: { http_get: { path: '/health', port: '8000' } },
              lifecycle: { pre_stop: [{ exec: { command: ['sleep', '5'] } }] },
              volume_mount: [{ name: 'config', mount_path: '/app/config' }],
            },
          ],
          volume: [{ name: 'config', config_map: { name: 'cfg', default_mode: '0644' } }],
        },
      },
    },
  };

  it('maps a deployment block to the manifest the API expects', () => {
    const m = toManifest('kubernetes_deployment_v1', deployment, resources);
    expect(m).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'tbo-system', labels: { snake_case_label: 'kept', 'app.kubernetes.io/name': 'web' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: 'web' }, annotations: { 'prometheus.io/port': '8000' } },
          spec: {
            securityContext: { runAsUser: 1000, fsGroup: 1000 },
            containers: [
              {
                name: 'web',
                image: 'nginx',
                ports: [{ containerPort: 8000 }],
                env: [{ name: 'COUNT', value: '25' }],
                resources: { limits: { memory: '1Gi' } },
                livenessProbe: { httpGet: { path: '/health', port: 8000 } },
                lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
                volumeMounts: [{ name: 'config', mountPath: '/app/config' }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'cfg', defaultMode: 420 } }],
          },
        },
      },
    });
    expect(() => validateManifest(m)).not.toThrow();
  });

  it('maps a Service selector as a map and cluster_ip to clusterIP', () => {
    const m = toManifest('kubernetes_service_v1', {
      metadata: { name: 's' },
      spec: { cluster_ip: 'None', selector: { some_label: 'x' }, port: [{ port: 80, target_port: '8000' }] },
    });
    expect(m.spec).toEqual({ clusterIP: 'None', selector: { some_label: 'x' }, ports: [{ port: 80, targetPort: 8000 }] });
  });

  it('base64-encodes a Secret\'s data, as the provider does', () => {
    const m = toManifest('kubernetes_secret_v1', { metadata: { name: 's' }, data: { key: 'value' } });
    expect(m.data).toEqual({ key: Buffer.from('value').toString('base64') });
    expect(() => validateManifest(m)).not.toThrow();
  });

  it('names every field it cannot place instead of dropping it', () => {
    expect(() => toManifest('kubernetes_config_map_v1', { metadata: { name: 'c', colour: 'red' }, dta: { a: 'b' } })).toThrow(
      /metadata\.colour: no field[\s\S]*ConfigMap\.dta: no field/,
    );
  });

  it('refuses resource types it has no kind for', () => {
    expect(() => toManifest('kubernetes_daemon_set_v1', {})).toThrow(/no Kubernetes kind/);
    expect(() => toManifest('kubernetes_manifest', { manifest: { apiVersion: 'example.com/v1', kind: 'Widget' } })).toThrow(/kubernetes_manifest: no Kubernetes kind is known for example\.com\/v1 Widget/);
  });

  it('takes a kubernetes_manifest\'s manifest as it is, resolving references and checking its fields', () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}', labels: { a: 'b' } },
      spec: { parentRefs: [{ name: 'gw', sectionName: 'https' }], rules: [{ backendRefs: [{ name: 's', port: 80 }], timeouts: { request: '630s' } }] },
    };
    const m = toManifest('kubernetes_manifest', { manifest: route, field_manager: { name: 'x' } } as never, resources);
    expect(m).toEqual({ ...route, metadata: { ...route.metadata, namespace: 'tbo-system' } });
    expect(() => validateManifest(m)).not.toThrow();
    const typo = { ...route, spec: { ...route.spec, rules: [{ backendRef: [{ name: 's', port: 80 }] }] } };
    expect(() => toManifest('kubernetes_manifest', { manifest: typo } as never, resources)).toThrow(/HTTPRoute\.spec\.rules\[0\]\.backendRef: no field/);
  });

  it('validates Gateway API kinds with @kubernetes-models/gateway-api (durations, required fields)', () => {
    const bad = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ timeouts: { request: '10 minutes' } }] } };
    expect(() => validateManifest(bad as never)).toThrow(/timeouts\/request must match pattern/);
  });

  it('leaves schema errors to kubernetes-models, which reports them', () => {
    const m = toManifest('kubernetes_deployment_v1', { metadata: { name: 'x' }, spec: { replicas: 'many', template: { spec: { container: [{ name: 'c' }] } } } });
    expect(() => validateManifest(m)).toThrow(/selector|replicas/);
  });

  it('maps every kubernetes_* resource of a synthesized stack', () => {
    const json = JSON.stringify({ resource: { ...resources, kubernetes_config_map_v1: { c: { metadata: { name: 'c', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}' }, data: { a: 'b' } } }, null_resource: { n: {} } } });
    expect(manifestsFromSynth(json).map((r) => [r.address, r.manifest.kind, r.manifest.metadata.namespace])).toEqual([
      ['kubernetes_namespace_v1.ns', 'Namespace', undefined],
      ['kubernetes_config_map_v1.c', 'ConfigMap', 'tbo-system'],
    ]);
  });
});

describe('restrictedViolations', () => {
  const compliant = {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
  it('accepts a pod that meets the restricted standard', () => {
    expect(restrictedViolations(compliant)).toEqual([]);
  });
  it('names each shortfall', () => {
    const pod = {
      hostNetwork: true,
      securityContext: {},
      containers: [{ name: 'c', ports: [{ hostPort: 80 }], securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN'] } } }],
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
    };
    expect(restrictedViolations(pod)).toEqual([
      'pod: hostNetwork is true',
      'volume h: type hostPath is not allowed',
      'container c: privileged',
      'container c: allowPrivilegeEscalation is not false',
      'container c: runAsNonRoot is not true',
      'container c: seccompProfile is undefined',
      'container c: capabilities do not drop ALL',
      'container c: adds capability NET_ADMIN',
      'container c: hostPort 80',
      'container c: readOnlyRootFilesystem is not true',
    ]);
  });
  it('finds the pod template of a workload', () => {
    expect(podTemplateSpec({ spec: { template: { spec: compliant } } })).toBe(compliant);
    expect(podTemplateSpec({ spec: {} })).toBeUndefined();
  });
});
