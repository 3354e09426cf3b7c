import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SECRET_ENV } from '../core';
import { AWS_DEFAULTS } from './defaults';
import { acknowledge } from './nag';
import type { TboFargateServiceProps } from './props';

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
  readonly anthropicApiKey: secretsmanager.ISecret;
  readonly openAiApiKey?: secretsmanager.ISecret;
  readonly jwtSecret: secretsmanager.ISecret;
  readonly apiKeys?: secretsmanager.ISecret;
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

/** Uses the secrets the user brings, and creates the others: empty-for-now provider keys and a generated JWT key. */
export function createSecrets(scope: Construct, props: TboFargateServiceProps, openAi: boolean): TboSecrets {
  const toFill: SecretToFill[] = [];
  const fill = (id: string, envName: string) => {
    const secret = providerKeySecret(scope, id, envName);
    toFill.push({ envName, id, secret });
    return secret;
  };
  const anthropicApiKey = props.existingAnthropicApiKeySecret ?? fill('AnthropicApiKey', SECRET_ENV.anthropicApiKey);
  const openAiApiKey = props.existingOpenAiApiKeySecret ?? (openAi ? fill('OpenAiApiKey', SECRET_ENV.openaiApiKey) : undefined);

  let jwtSecret = props.existingJwtSecret;
  if (!jwtSecret) {
    const generated = new secretsmanager.Secret(scope, 'JwtSecret', {
      description: `${SECRET_ENV.jwtSecretKey} of the TBO gateway: the HS256 key that signs client JWTs (generated).`,
      generateSecretString: { passwordLength: AWS_DEFAULTS.generatedSecretLength, excludePunctuation: true },
    });
    acknowledge(
      generated,
      'AwsSolutions-SMG4',
      'Rotating the JWT signing key invalidates every client token at once, and tasks read it only at start; it is rotated deliberately ' +
        '(put-secret-value, reissue client tokens, new ECS deployment), not on a schedule.',
    );
    jwtSecret = generated;
  }
  return { anthropicApiKey, openAiApiKey, jwtSecret, apiKeys: props.existingApiKeysSecret, toFill };
}
