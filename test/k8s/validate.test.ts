import 'cdktf/lib/testing/adapters/jest';
import { TboConfigValidationError } from '../../lib/core';
import { Testing, TerraformVariable } from 'cdktf';
import { TboKubernetesService, type TboKubernetesServiceProps } from '../../lib/k8s';
import { synthService } from './support/synth';

/** The problems synth reports for these props (each line names the prop, the value and what is accepted). */
function problems(props: Partial<TboKubernetesServiceProps>): string[] {
  try {
    synthService(props);
  } catch (err) {
    if (err instanceof TboConfigValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

const JWT = 'x'.repeat(32);

describe('synth-time validation', () => {
  it('accepts the defaults', () => {
    expect(problems({})).toEqual([]);
  });

  it('names the construct, the prop, the value received and what is accepted, all problems at once', () => {
    expect(problems({ name: 'Bad_Name', replicas: 0 })).toEqual([
      'TboKubernetesService stack/Tbo: name: received "Bad_Name"; must be a DNS label of at most 40 characters (lower case letters, digits and "-", starting with a letter)',
      'TboKubernetesService stack/Tbo: replicas: received 0; must be an integer from 1 to 1000',
      'TboKubernetesService stack/Tbo: replicas: received 0; must be within autoscaling.minReplicas (2) and autoscaling.maxReplicas (20)',
    ]);
  });

  it.each<[string, Partial<TboKubernetesServiceProps>, RegExp]>([
    ['image', { image: ' ' }, /image: received " "; must be a container image reference/],
    ['name too long', { name: 'a'.repeat(41) }, /name: received "a{41}"; must be a DNS label of at most 40/],
    ['namespace', { namespace: 'TBO' }, /namespace: received "TBO"; must be a DNS label/],
    ['imagePullPolicy', { imagePullPolicy: 'Sometimes' as never }, /imagePullPolicy: received "Sometimes"; accepted values: Always, IfNotPresent, Never/],
    ['preStopSleepSeconds', { preStopSleepSeconds: 1.5 }, /preStopSleepSeconds: received 1.5; must be an integer from 0 to 300/],
    ['maxStreamDuration zero', { maxStreamDuration: 0 }, /maxStreamDuration: received 0; must be an integer from 1 to 3600/],
    ['maxStreamDuration fraction', { maxStreamDuration: 90.5 }, /maxStreamDuration: received 90\.5; must be an integer from 1 to 3600/],
    ['maxStreamDuration above the drain limit', { maxStreamDuration: 3601 }, /maxStreamDuration: received 3601; must be an integer from 1 to 3600/],
    ['drain shorter than the longest stream', { config: { drainTimeout: 25 } }, /config\.drainTimeout: received 25; must be at least maxStreamDuration \(600\): streams still running at SIGTERM get the drain timeout to finish/],
    ['drain shorter than a given maxStreamDuration', { maxStreamDuration: 120, config: { drainTimeout: 60 } }, /config\.drainTimeout: received 60; must be at least maxStreamDuration \(120\)/],
    ['runAsUser root', { runAsUser: 0 }, /runAsUser: received 0; must be an integer from 1/],
    ['resource quantity', { resources: { limits: { memory: '1 GB' } } }, /resources\.limits\.memory: received "1 GB"; must be a Kubernetes quantity/],
    ['requests above limits', { resources: { requests: { cpu: '1' } } }, /resources\.requests\.cpu: received "1"; must not exceed resources\.limits\.cpu \(500m\)/],
    ['memory for cache and bodies', { config: { cacheMaxBytes: 700 * 1024 * 1024 } }, /resources\.limits\.memory: received "1Gi"; must be at least 1.03Gi \(config\.cacheMaxBytes \+ 3 × config\.maxBodyBytes \+ 256Mi for the runtime; the rest becomes the request-body budget\)/],
    ['memory for bodies', { config: { maxBodyBytes: 64 * 1024 * 1024 }, resources: { requests: { memory: '256Mi' }, limits: { memory: '500Mi' } } }, /resources\.limits\.memory: received "500Mi"; must be at least 512Mi/],
    ['autoscaling min > max', { autoscaling: { minReplicas: 5, maxReplicas: 3 }, replicas: 4 }, /autoscaling\.maxReplicas: received 3; must be ≥ autoscaling\.minReplicas \(5\)/],
    ['autoscaling target', { autoscaling: { targetCpuUtilization: 0 } }, /autoscaling\.targetCpuUtilization: received 0; must be an integer from 1 to 100/],
    ['replicas outside autoscaling', { replicas: 30 }, /replicas: received 30; must be within autoscaling\.minReplicas \(2\) and autoscaling\.maxReplicas \(20\)/],
    ['pdb both', { disruptionBudget: { maxUnavailable: 1, minAvailable: 1 } }, /disruptionBudget: received .*; give maxUnavailable or minAvailable, not both/],
    ['pdb format', { disruptionBudget: { maxUnavailable: 'half' } }, /disruptionBudget\.maxUnavailable: received "half"; must be a whole number or a percentage/],
    ['pdb zero', { disruptionBudget: { maxUnavailable: 0 } }, /disruptionBudget\.maxUnavailable: received 0; must be at least 1, or node drains block forever/],
    ['pdb blocks drains', { disruptionBudget: { minAvailable: 2 } }, /disruptionBudget\.minAvailable: received 2; must be below the fewest pods \(2\)/],
    ['redis with existingRedisUrl', { existingRedisUrl: 'redis://cache:6379', redis: { storage: '2Gi' } }, /redis: received .*; must be left unset with existingRedisUrl/],
    ['existingRedisUrl scheme', { existingRedisUrl: 'http://cache:6379' }, /existingRedisUrl: received "http:\/\/cache:6379"; must be a URL starting with redis:\/\/ or rediss:\/\//],
    ['existingRedisUrl password', { existingRedisUrl: 'redis://:hunter2@cache:6379' }, /existingRedisUrl: received "redis:\/\/:\*\*\*@cache:6379"; must not contain a password/],
    ['redis storage', { redis: { storage: 'big' } }, /redis\.storage: received "big"; must be a positive Kubernetes quantity/],
    ['redis resources', { redis: { resources: { limits: { memory: '512MB' } } } }, /redis\.resources\.limits\.memory: received "512MB"/],
    ['secretName', { secrets: { secretName: 'API_SECRETS' } }, /secrets\.secretName: received "API_SECRETS"; must be a DNS subdomain name/],
    ['secret key', { secrets: { keys: { anthropicApiKey: 'anthropic key' } } }, /secrets\.keys\.anthropicApiKey: received "anthropic key"; must be a Secret key/],
    ['unknown credential', { secrets: { keys: { githubToken: 'gh' } as never } }, /secrets\.keys\.githubToken: received "gh"; accepted credentials: anthropicApiKey, openaiApiKey, apiKeys, jwtSecretKey, redisPassword/],
    ['required credential', { secrets: { required: ['awsKey' as never] } }, /secrets\.required: received "awsKey"; accepted credentials/],
    ['secret value schema', { secrets: { values: { jwtSecretKey: 'short', redisPassword: 'p' } } }, /secrets\.values\.jwtSecretKey: received "\(hidden\)"; must be at least 32 characters/],
    ['required without value', { secrets: { values: { anthropicApiKey: 'k', redisPassword: 'p' }, required: ['jwtSecretKey'] } }, /secrets\.required: received "jwtSecretKey"; with secrets\.values, every required credential needs a value/],
    ['redis password value', { secrets: { values: { anthropicApiKey: 'k', jwtSecretKey: JWT } } }, /secrets\.values\.redisPassword: received undefined; required with the in-cluster Redis/],
    ['ingress host', { ingress: { host: 'https://tbo.example.com' } }, /ingress\.host: received "https:\/\/tbo\.example\.com"; must be a DNS host name/],
    ['ingress tls secret', { ingress: { host: 'tbo.example.com', tlsSecretName: 'TLS' } }, /ingress\.tlsSecretName: received "TLS"; must be a Secret name/],
    ['ingress profile', { ingress: { host: 'tbo.example.com', profile: 'traefik' as never } }, /ingress\.profile: received "traefik"; accepted values: nginx, none, custom/],
    ['rateLimit without nginx', { ingress: { host: 'tbo.example.com', profile: 'none', rateLimit: { connections: 5 } } }, /ingress\.rateLimit: received .*; only the nginx profile enforces it/],
    ['custom without annotations', { ingress: { host: 'tbo.example.com', profile: 'custom' } }, /ingress\.annotations: received undefined; the custom profile needs at least one annotation/],
    ['rateLimit value', { ingress: { host: 'tbo.example.com', rateLimit: { burstMultiplier: 0 } } }, /ingress\.rateLimit\.burstMultiplier: received 0; must be an integer from 1 to 1000/],
    ['open gateway behind an ingress', { ingress: { host: 'tbo.example.com' }, config: { auth: 'none' } }, /config\.auth: received "none"; an Ingress exposes the gateway/],
    ['empty namespace selector', { networkPolicy: { ingressControllerNamespaceLabels: {} } }, /networkPolicy\.ingressControllerNamespaceLabels: received \{\}; must name at least one label/],
    ['empty monitoring pod selector', { networkPolicy: { monitoringPodLabels: {} } }, /networkPolicy\.monitoringPodLabels: received \{\}; must name at least one label, or be left unset/],
    ['redis key prefix', { redisKeyPrefix: 'tbo:{prod}' }, /redisKeyPrefix: received "tbo:\{prod\}"; must be 1-64 characters of A-Z a-z 0-9 \. _ - known at synth/],
    ['redis key prefix too long', { redisKeyPrefix: 'p'.repeat(65) }, /redisKeyPrefix: received "p{65}"; must be 1-64 characters/],
    ['cache signing key too short', { secrets: { values: { anthropicApiKey: 'k', redisPassword: 'p', cacheSigningKey: 'short' } } }, /secrets\.values\.cacheSigningKey: received "\(hidden\)"; must be at least 32 characters/],
    ['empty client selector', { networkPolicy: { clientNamespaceLabels: [{}] } }, /networkPolicy\.clientNamespaceLabels\[0\]: received \{\}; must name at least one label/],
    ['quota value', { resourceQuota: { 'limits.cpu': 'lots' } }, /resourceQuota\.limits\.cpu: received "lots"; must be a Kubernetes quantity or count/],
    ['quota too small', { resourceQuota: { 'limits.memory': '16Gi' } }, /resourceQuota\.limits\.memory: received "16Gi"; must hold the 25 gateway pods \(most replicas plus the rolling-update surge\), Redis and its backup Job this construct creates: at least 25\.75Gi/],
    ['quota pods', { resourceQuota: { pods: '10' } }, /resourceQuota\.pods: received "10"; must allow the pods this construct creates \(most replicas plus the surge, Redis, its backup Job\): at least 27/],
    ['limit range max', { limitRange: { max: { cpu: '250m' } } }, /resources\.limits\.cpu: received "500m"; must not exceed limitRange\.max\.cpu \(250m\)[\s\S]*redis\.resources\.limits\.cpu: received "500m"; must not exceed limitRange\.max\.cpu/],
    ['limit range quantity', { limitRange: { default: { memory: 'x' } } }, /limitRange\.default\.memory: received "x"; must be a Kubernetes quantity/],
  ])('%s', (_, props, expected) => {
    expect(problems(props).join('\n')).toMatch(expected);
  });

  it('validates config with the service\'s own schema, naming config.<setting>', () => {
    expect(() => synthService({ config: { optimizationLevel: 'turbo' as never } })).toThrow(/config\.optimizationLevel/);
    expect(() => synthService({ config: { redisUrl: 'redis://x' } as never })).toThrow(/config\.redisUrl: not a tunable setting/);
  });

  it('never prints a secret value', () => {
    expect(problems({ secrets: { values: { jwtSecretKey: 'SENTINEL-too-short', redisPassword: 'p' } } }).join('\n')).not.toContain('SENTINEL');
    expect(problems({ existingRedisUrl: 'redis://user:SENTINEL@cache' }).join('\n')).not.toContain('SENTINEL');
  });

  it('refuses a deploy-time token as redisKeyPrefix (the prefix is rendered at synth)', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const prefix = new TerraformVariable(scope, 'prefix', { type: 'string' }).stringValue;
        new TboKubernetesService(scope, 'Tbo', { image: 'i', redisKeyPrefix: prefix });
      }),
    ).toThrow(/redisKeyPrefix: received .*; must be 1-64 characters of A-Z a-z 0-9 \. _ - known at synth/);
  });

  it('skips values that are deploy-time tokens', () => {
    const json = Testing.synthScope((scope) => {
      const image = new TerraformVariable(scope, 'image', { type: 'string' }).stringValue;
      const url = new TerraformVariable(scope, 'redis_url', { type: 'string' }).stringValue;
      new TboKubernetesService(scope, 'Tbo', { image, existingRedisUrl: url });
    });
    expect(json).toContain('${var.redis_url}');
    expect(json).toContain('${var.image}');
  });
});
