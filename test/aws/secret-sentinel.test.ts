import { readdirSync } from 'node:fs';
import { App, SecretValue, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SECRET_ENV } from '../../lib/core';
import { TboFargateService } from '../../lib/aws';
import { createTboAwsApp } from '../../bin/tbo-aws-stack';
import { cfnLint } from './support/cfn-lint';
import { allFiles, filesContaining } from './support/files';
import { registryImage, TempDirs } from './support/synth';

/** A recognisable fake key: if any path carried a secret value into the cloud assembly, it would show up. */
const SENTINEL = 'sk-ant-api03-TBO-SENTINEL-0f3a9c5e';
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('secret values never reach the cloud assembly', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('through the synth environment, context, every bring-your-own secret prop and the bundled image', async () => {
    // A user who has their keys exported in the shell they synth from (the CLI path is covered in app.test.ts).
    for (const name of Object.values(SECRET_ENV)) process.env[name] = `${SENTINEL}-${name}`;
    process.env.REDIS_URL = `rediss://:${SENTINEL}@redis.example.com:6379`;
    const outdir = dirs.make();
    // the example app (default construct, bundled service folder as a Docker asset), with the key also passed as context
    const app = createTboAwsApp({ outdir, context: { anthropicApiKey: SENTINEL, [SECRET_ENV.anthropicApiKey]: SENTINEL } });
    // and a stack that brings every secret: they arrive by ARN or as a secret of the user's own, never by value
    const byoOutdir = dirs.make();
    const byoApp = new App({ outdir: byoOutdir, context: { anthropicApiKey: SENTINEL } });
    const stack = new Stack(byoApp, 'ByoSecrets');
    const byArn = (id: string) => secretsmanager.Secret.fromSecretCompleteArn(stack, id, `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${id}-AbCdEf`);
    new TboFargateService(stack, 'Tbo', {
      image: registryImage(),
      existingAnthropicApiKeySecret: new secretsmanager.Secret(stack, 'Mine', { description: 'filled later with put-secret-value' }),
      existingOpenAiApiKeySecret: byArn('openai'),
      existingJwtSecret: byArn('jwt'),
      existingApiKeysSecret: byArn('client-keys'),
      existingAdminKeysSecret: byArn('admin-keys'),
      existingCacheSigningKeySecret: byArn('cache-signing'),
      existingRedis: {
        endpoint: { host: 'redis.example.com', tls: true },
        authSecret: byArn('redis-auth'),
        securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'RedisSg', 'sg-0123456789abcdef0'),
      },
    });
    app.synth();
    byoApp.synth();
    expect(allFiles(outdir).length).toBeGreaterThan(10); // templates, manifests, and the staged service folder
    for (const dir of [outdir, byoOutdir]) {
      expect(filesContaining(dir, SENTINEL)).toEqual([]);
      expect(filesContaining(dir, 'sk-ant-')).toEqual([]);
    }
    const templates = [outdir, byoOutdir].flatMap((dir) => allFiles(dir).filter((f) => f.endsWith('.template.json')));
    expect(templates).toHaveLength(2);
    const lint = await cfnLint(templates);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([]);
  }, 240_000);

  it('is refused, before anything is written, as a plain-text secret or as config', () => {
    const outdir = dirs.make();
    const app = new App({ outdir });
    const stack = new Stack(app, 'Leaky');
    const plaintext = new secretsmanager.Secret(stack, 'Plain', { secretStringValue: SecretValue.unsafePlainText(SENTINEL) });
    const attempts = [
      () => new TboFargateService(stack, 'A', { image: registryImage(), existingAnthropicApiKeySecret: plaintext }),
      () => new TboFargateService(stack, 'B', { image: registryImage(), existingRedis: { endpoint: { host: 'r' }, authSecret: plaintext } }),
      () => new TboFargateService(stack, 'E', { image: registryImage(), existingCacheSigningKeySecret: plaintext }),
      () => new TboFargateService(stack, 'F', { image: registryImage(), existingAdminKeysSecret: plaintext }),
      () => new TboFargateService(stack, 'C', { image: registryImage(), config: { anthropicApiKey: SENTINEL } as never }),
      () => new TboFargateService(stack, 'D', { image: registryImage(), config: { jwtSecretKey: SENTINEL, apiKeys: `t:${SENTINEL}` } as never }),
    ];
    for (const attempt of attempts) {
      let message = '';
      try {
        attempt();
      } catch (err) {
        message = String(err);
      }
      expect(message).toMatch(/TBO configuration/);
      expect(message).not.toContain(SENTINEL);
    }
    expect(readdirSync(outdir)).toEqual([]);
  });
});
