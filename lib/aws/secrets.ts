import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SECRET_ENV } from '../core';
import { AWS_DEFAULTS } from './defaults';
import { acknowledge } from './nag';
import type { TboFargateServiceProps } from './props';
import type { ResolvedProps } from './resolve-props';

/** A secret the construct created empty-for-now, for the user to fill. */
export interface SecretToFill {
  /** The service's env var the secret becomes. */
  readonly envName: string;
  /** The construct id of the secret (also names its stack output). */
  readonly id: string;
  readonly secret: secretsmanager.ISecret;
}

/** The service's credentials, each a Secrets Manager secret injected by reference (never by value). */
export interface TboSecrets {
  /** The Anthropic API key; none when no route uses `anthropic:` and none is given. */
  readonly anthropicApiKey?: secretsmanager.ISecret;
  readonly openAiApiKey?: secretsmanager.ISecret;
  readonly jwtSecret: secretsmanager.ISecret;
  readonly apiKeys?: secretsmanager.ISecret;
  /** Admin credentials for the all-tenant view, when the user gives them. */
  readonly adminKeys?: secretsmanager.ISecret;
  /** The HMAC key of cache entries in Redis; none without Redis. */
  readonly cacheSigningKey?: secretsmanager.ISecret;
  /** The Sentry DSN, when the user gives one. */
  readonly sentryDsn?: secretsmanager.ISecret;
  /** The provider key secrets this construct created, which the user fills. */
  readonly toFill: readonly SecretToFill[];
}

const THIRD_PARTY_KEY =
  'A third-party model API key is issued in the provider console (Anthropic, OpenAI); no Secrets Manager rotation function can mint one. ' +
  'It is rotated by hand: put-secret-value, then a new ECS deployment (tasks read secrets at start).';

function providerKeySecret(scope: Construct, id: string, envName: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: `${envName} of the TBO gateway. Created with a random placeholder so the first deployment starts; replace it with put-secret-value (see the stack outputs).`,
  });
  acknowledge(secret, 'AwsSolutions-SMG4', THIRD_PARTY_KEY);
  return secret;
}

/** A secret of `generatedSecretLength` random letters and digits, never in the template. */
function generatedSecret(scope: Construct, id: string, description: string, rotationReason: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description,
    generateSecretString: { passwordLength: AWS_DEFAULTS.generatedSecretLength, excludePunctuation: true },
  });
  acknowledge(secret, 'AwsSolutions-SMG4', rotationReason);
  return secret;
}

/**
 * Uses the secrets the user brings, and creates the others: empty-for-now provider keys (the
 * Anthropic one when a route uses `anthropic:`, the OpenAI one when `openAi`), a generated JWT key
 * and, when there is a Redis, a generated cache signing key.
 */
export function createSecrets(scope: Construct, props: TboFargateServiceProps, r: Pick<ResolvedProps, 'anthropic' | 'openAi' | 'redisMode'>): TboSecrets {
  const toFill: SecretToFill[] = [];
  const fill = (id: string, envName: string) => {
    const secret = providerKeySecret(scope, id, envName);
    toFill.push({ envName, id, secret });
    return secret;
  };
  const anthropicApiKey = props.existingAnthropicApiKeySecret ?? (r.anthropic ? fill('AnthropicApiKey', SECRET_ENV.anthropicApiKey) : undefined);
  const openAiApiKey = props.existingOpenAiApiKeySecret ?? (r.openAi ? fill('OpenAiApiKey', SECRET_ENV.openaiApiKey) : undefined);

  const jwtSecret =
    props.existingJwtSecret ??
    generatedSecret(
      scope,
      'JwtSecret',
      `${SECRET_ENV.jwtSecretKey} of the TBO gateway: the HS256 key that signs client JWTs (generated).`,
      'Rotating the JWT signing key invalidates every client token at once, and tasks read it only at start; it is rotated deliberately ' +
        '(put-secret-value, reissue client tokens, new ECS deployment), not on a schedule.',
    );
  let cacheSigningKey = props.existingCacheSigningKeySecret;
  if (!cacheSigningKey && r.redisMode !== 'none') {
    cacheSigningKey = generatedSecret(
      scope,
      'CacheSigningKey',
      `${SECRET_ENV.cacheSigningKey} of the TBO gateway: the HMAC key that authenticates cache entries in Redis (generated).`,
      'Rotating the cache signing key only turns the entries signed with the old key into cache misses (they fail verification and are ' +
        'deleted), and tasks read it only at start; it is rotated as a planned change (put-secret-value, then a new ECS deployment).',
    );
  }
  return {
    anthropicApiKey,
    openAiApiKey,
    jwtSecret,
    apiKeys: props.existingApiKeysSecret,
    adminKeys: props.existingAdminKeysSecret,
    cacheSigningKey,
    sentryDsn: props.existingSentryDsnSecret,
    toFill,
  };
}
