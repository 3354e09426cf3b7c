import 'cdktf/lib/testing/adapters/jest';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { RANDOM_PROVIDER_ID, TboCloudRunService } from '../../lib/gcp';
import { BASE, parse, resourcesOf } from './support';

Testing.setupJest();

/** A stack built by `build`, synthesized with cdktf's validations (as `cdktf synth` runs them). */
function synthValidated(build: (stack: TerraformStack) => void): { json: string; stack: TerraformStack } {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new GoogleProvider(stack, 'google', { project: 'my-project', region: 'europe-west1' });
  build(stack);
  return { json: Testing.synth(stack, true), stack };
}

describe('the random provider behind the generated cache-signing key', () => {
  test('a stack without one gets exactly one, shared by every TBO construct in it', () => {
    const { json, stack } = synthValidated((s) => {
      new TboCloudRunService(s, 'eu', { ...BASE, serviceName: 'tbo-eu' });
      new TboCloudRunService(s, 'us', { ...BASE, serviceName: 'tbo-us' });
    });
    expect(parse(json).provider?.random).toEqual([{}]);
    expect(stack.node.tryFindChild(RANDOM_PROVIDER_ID)).toBeInstanceOf(RandomProvider);
    expect(resourcesOf(json, 'random_password')).toHaveLength(2);
    // No resource names a provider: both use the stack's default configuration.
    for (const [, password] of resourcesOf(json, 'random_password')) expect(password.provider).toBeUndefined();
  });

  test('a default random provider the user declared first is used, not duplicated', () => {
    const { json, stack } = synthValidated((s) => {
      new RandomProvider(s, 'random', {});
      new TboCloudRunService(s, 'tbo', BASE);
    });
    expect(parse(json).provider?.random).toEqual([{}]);
    expect(stack.node.tryFindChild(RANDOM_PROVIDER_ID)).toBeUndefined();
  });

  test('an aliased provider alone does not count: the default one is still added', () => {
    const { json } = synthValidated((s) => {
      new RandomProvider(s, 'aliased', { alias: 'other' });
      new TboCloudRunService(s, 'tbo', BASE);
    });
    expect(parse(json).provider?.random).toEqual(expect.arrayContaining([{}, { alias: 'other' }]));
    expect(parse(json).provider?.random).toHaveLength(2);
  });

  test('a default provider declared after the construct fails synth with what to do (Terraform would reject two)', () => {
    expect(() =>
      synthValidated((s) => {
        new TboCloudRunService(s, 'tbo', BASE);
        new RandomProvider(s, 'random', {});
      }),
    ).toThrow(/declare your own RandomProvider before the TBO construct \(default random providers found: stack\/TboRandomProvider, stack\/random; Terraform accepts one\)/);
  });

  test('no provider and no password with existingCacheSigningKeySecret', () => {
    const { json } = synthValidated((s) => {
      new TboCloudRunService(s, 'tbo', { ...BASE, existingCacheSigningKeySecret: 'tbo-signing' });
    });
    expect(parse(json).provider?.random).toBeUndefined();
    expect(resourcesOf(json, 'random_password')).toEqual([]);
  });
});
