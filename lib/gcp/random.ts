import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TerraformProvider, TerraformStack } from 'cdktf';
import type { Construct, IConstruct } from 'constructs';

/** Construct id of the random provider this package adds to a stack that has none. */
export const RANDOM_PROVIDER_ID = 'TboRandomProvider';

/** Length of a generated cache-signing key: 64 letters and digits (≈ 380 bits; the service needs ≥ 32 characters). */
export const CACHE_SIGNING_KEY_LENGTH = 64;

const isDefaultRandomProvider = (c: IConstruct): boolean =>
  TerraformProvider.isTerraformProvider(c) && c.terraformResourceType === 'random' && c.alias === undefined;

/**
 * The stack's default (un-aliased) `random` provider: the one the user declared before this call,
 * else one this package adds to the stack once (`TboRandomProvider`), shared by every construct in
 * it. cdktf refuses to synthesize a `random_*` resource without a provider construct in its stack.
 *
 * A default provider the user declares *after* a construct that added one would make two default
 * configurations, which Terraform rejects: the added provider reports that at synth.
 */
export function defaultRandomProvider(scope: Construct): TerraformProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.findAll().find(isDefaultRandomProvider);
  if (existing) return existing as TerraformProvider;
  const provider = new RandomProvider(stack, RANDOM_PROVIDER_ID, {});
  provider.node.addValidation({
    validate: () => {
      const defaults = stack.node.findAll().filter(isDefaultRandomProvider);
      return defaults.length > 1
        ? [`tbo-deploy added this random provider because the stack had none when the TBO construct was created; declare your own RandomProvider before the TBO construct (default random providers found: ${defaults.map((d) => d.node.path).join(', ')}; Terraform accepts one)`]
        : [];
    },
  });
  return provider;
}

/**
 * A random cache-signing key (`random_password`, letters and digits): its `result` is a Terraform
 * reference for a Secret Manager secret version. Terraform state holds the value. It never
 * changes unless replaced (`terraform apply -replace=…`), which makes every cached entry a miss.
 */
export function cacheSigningKeyPassword(scope: Construct, id: string): Password {
  defaultRandomProvider(scope);
  return new Password(scope, id, { length: CACHE_SIGNING_KEY_LENGTH, special: false });
}
