import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import type { Construct } from 'constructs';
import type { TboKubernetesPlan } from './plan';
import type { TboSecretSetting } from './props';

/**
 * The credentials Secret, created only when values are given (Terraform state then holds them).
 * By default nothing is created: the pods reference an existing Secret by name and key.
 */
export function createSecret(scope: Construct, plan: TboKubernetesPlan, namespace: string): SecretV1 | undefined {
  if (!plan.secret.create) return undefined;
  const data: Record<string, string> = {};
  for (const ref of plan.secret.refs) data[ref.key] = plan.secret.values[ref.setting as TboSecretSetting]!;
  return new SecretV1(scope, 'Secret', {
    metadata: { name: plan.secret.name, namespace, labels: plan.labels },
    type: 'Opaque',
    data,
  });
}

/**
 * The `kubectl` command that creates the referenced Secret with every key the pods read, each value
 * from the shell variable named like the credential's environment variable (`"$JWT_SECRET_KEY"`), so
 * no value is ever written here. Unset variables become empty keys, which the service treats as unset
 * (only the required ones must be filled). Undefined when the Secret is created from `secrets.values`.
 */
export function secretCreateCommand(plan: TboKubernetesPlan): string | undefined {
  if (plan.secret.create) return undefined;
  const literals = plan.secret.refs.map((ref) => `--from-literal=${ref.key}="$${ref.env}"`);
  return ['kubectl', '-n', plan.namespaceName, 'create', 'secret', 'generic', plan.secret.name, ...literals].join(' ');
}
