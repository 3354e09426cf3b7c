import 'cdktf/lib/testing/adapters/jest';
import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { Testing } from 'cdktf';
import { blockOf, N, synthService } from './support/synth';

Testing.setupJest();

const HOST = 'tbo.example.com';
const annotations = (json: string) => (blockOf(json, 'kubernetes_ingress_v1').metadata as { annotations?: Record<string, string> }).annotations;

describe('Ingress with the nginx profile (default when an ingress is given)', () => {
  const json = synthService({ ingress: { host: HOST } });

  it('routes the host, TLS only, to the Service on port 80 through IngressClass nginx', () => {
    expect(json).toHaveResourceWithProperties(IngressV1, {
      metadata: expect.objectContaining({ name: N.service }),
      spec: {
        ingress_class_name: 'nginx',
        tls: [{ hosts: [HOST], secret_name: N.tls }],
        rule: [
          {
            host: HOST,
            http: {
              path: [
                {
                  path: '/',
                  path_type: 'Prefix',
                  backend: { service: { name: expect.stringMatching(/^\$\{kubernetes_service_v1\.Tbo_Service_.*\.metadata\[0\]\.name\}$/), port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
  });

  it('routes only to the public port: the admin port (9464) appears nowhere in the Ingress', () => {
    const ingress = blockOf(json, 'kubernetes_ingress_v1');
    expect(JSON.stringify(ingress)).not.toMatch(/9464|admin/);
  });

  it('uses the annotations ingress-nginx reads: per-client limits, unbuffered streams, long timeouts, the body limit, HTTPS', () => {
    expect(annotations(json)).toEqual({
      'nginx.ingress.kubernetes.io/limit-rps': '167', // the service's 10000 per minute, per second
      'nginx.ingress.kubernetes.io/limit-burst-multiplier': '5',
      'nginx.ingress.kubernetes.io/limit-connections': '100',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '630', // the service's 600 s upstream timeout + 30
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '630',
      'nginx.ingress.kubernetes.io/proxy-body-size': '32m', // the service's 32 MiB body limit
      'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
      'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
    });
  });

  it('follows the service config: upstream timeout, body limit, rate limit', () => {
    const a = annotations(synthService({ ingress: { host: HOST }, config: { upstreamTimeout: 120.5, maxBodyBytes: 5 * 1024 * 1024 + 1, maxConcurrentRequests: 100, rateLimitPerMinute: 600 } }));
    expect(a).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '151',
      'nginx.ingress.kubernetes.io/proxy-body-size': '5121k',
      'nginx.ingress.kubernetes.io/limit-rps': '10',
    });
  });

  it('rateLimit sets the limits; 0 leaves one out', () => {
    const a = annotations(synthService({ ingress: { host: HOST, rateLimit: { requestsPerSecond: 0, connections: 20, burstMultiplier: 2 } } }));
    expect(a).toMatchObject({ 'nginx.ingress.kubernetes.io/limit-connections': '20' });
    expect(a).not.toHaveProperty(['nginx.ingress.kubernetes.io/limit-rps']);
    expect(a).not.toHaveProperty(['nginx.ingress.kubernetes.io/limit-burst-multiplier']);
    const b = annotations(synthService({ ingress: { host: HOST, rateLimit: { requestsPerSecond: 50, connections: 0 } } }));
    expect(b).toMatchObject({ 'nginx.ingress.kubernetes.io/limit-rps': '50' });
    expect(b).not.toHaveProperty(['nginx.ingress.kubernetes.io/limit-connections']);
  });

  it('annotations are added over the profile\'s', () => {
    const a = annotations(synthService({ ingress: { host: HOST, annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt', 'nginx.ingress.kubernetes.io/limit-rps': '5' } } }));
    expect(a).toMatchObject({ 'cert-manager.io/cluster-issuer': 'letsencrypt', 'nginx.ingress.kubernetes.io/limit-rps': '5', 'nginx.ingress.kubernetes.io/proxy-buffering': 'off' });
  });

  it('tlsSecretName and className', () => {
    const json2 = synthService({ ingress: { host: HOST, tlsSecretName: 'tbo-cert', className: 'internal-nginx' } });
    expect(json2).toHaveResourceWithProperties(IngressV1, { spec: expect.objectContaining({ ingress_class_name: 'internal-nginx', tls: [{ hosts: [HOST], secret_name: 'tbo-cert' }] }) });
  });
});

describe('Ingress with other profiles', () => {
  it('none: no annotations and the cluster\'s default IngressClass', () => {
    const json = synthService({ ingress: { host: HOST, profile: 'none' } });
    expect(annotations(json)).toEqual({});
    expect((blockOf(json, 'kubernetes_ingress_v1').spec as Record<string, unknown>).ingress_class_name).toBeUndefined();
  });

  it('custom: exactly the given annotations, for another controller', () => {
    const custom = { 'haproxy.org/rate-limit-requests': '100', 'haproxy.org/timeout-server': '630s' };
    const json = synthService({ ingress: { host: HOST, profile: 'custom', className: 'haproxy', annotations: custom } });
    expect(annotations(json)).toEqual(custom);
    expect(json).toHaveResourceWithProperties(IngressV1, { spec: expect.objectContaining({ ingress_class_name: 'haproxy' }) });
  });

  it('ingress: false is the same as none at all', () => {
    expect(synthService({ ingress: false })).not.toHaveResource(IngressV1);
  });
});
