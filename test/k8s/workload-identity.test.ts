/**
 * TboKubernetesService with a cloud identity instead of API keys: the ServiceAccount annotations of
 * EKS IRSA and GKE Workload Identity, the egress each mechanism needs (and only that), the Bedrock and
 * Vertex AI settings in the environment, the Anthropic key required only for `anthropic:` routes,
 * and every manifest still valid for the Kubernetes schema and the restricted Pod Security Standard.
 */
import 'cdktf/lib/testing/adapters/jest';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { Testing, TerraformStack } from 'cdktf';
import { SECRET_ENV, type TboServiceConfig } from '../../lib/core';
import { EKS_POD_IDENTITY_AGENT, GKE_METADATA_SERVER, GKE_SERVICE_ACCOUNT_ANNOTATION, IRSA_ROLE_ANNOTATION, TboKubernetesService, type TboKubernetesServiceProps } from '../../lib/k8s';
import { loadConfig } from '../../service/src/config/load';
import { manifestsFromSynth } from './support/manifest';
import { podTemplateSpec, restrictedViolations } from './support/pod-security';
import { blockOf, IMAGE, N, synthProblems, synthService } from './support/synth';
import { validateManifest } from './support/validate-manifest';

Testing.setupJest();

const ROLE_ARN = 'arn:aws:iam::111122223333:role/tbo-gateway';
const GSA = 'tbo-gateway@models-prod.iam.gserviceaccount.com';
const ALL_BEDROCK: TboServiceConfig = {
  modelsFast: 'bedrock:claude-haiku-4-5',
  modelsBalanced: 'bedrock:claude-sonnet-4-5',
  modelsStrongest: 'bedrock:claude-opus-4-1',
};
const ALL_VERTEX: TboServiceConfig = {
  modelsFast: 'vertex:claude-haiku-4-5,vertex-openai:gemini-2.5-flash',
  modelsBalanced: 'vertex:claude-sonnet-4-5',
  modelsStrongest: 'vertex:claude-opus-4-1',
};

const IRSA: Partial<TboKubernetesServiceProps> = { config: ALL_BEDROCK, bedrock: { region: 'us-east-1' }, workloadIdentity: { awsRoleArn: ROLE_ARN } };
const POD_IDENTITY: Partial<TboKubernetesServiceProps> = { config: ALL_BEDROCK, bedrock: { region: 'eu-central-1' }, workloadIdentity: { eksPodIdentity: true } };
const GKE: Partial<TboKubernetesServiceProps> = { config: ALL_VERTEX, vertex: { region: 'us-east5', project: 'models-prod' }, workloadIdentity: { gcpServiceAccount: GSA } };

type Rule = { to?: { ip_block?: { cidr: string } }[]; ports?: { port: string; protocol: string }[] };
type Env = { name: string; value?: string; value_from?: { secret_key_ref: { key: string; optional: boolean } } };

const serviceAccount = (json: string) => blockOf(json, 'kubernetes_service_account_v1') as { metadata: { annotations?: Record<string, string> }; automount_service_account_token: boolean };
const podSpec = (json: string) => (blockOf(json, 'kubernetes_deployment_v1') as { spec: { template: { spec: { automount_service_account_token: boolean; container: { env: Env[] }[] } } } }).spec.template.spec;
const egress = (json: string) => (blockOf(json, 'kubernetes_network_policy_v1', 'GatewayPolicy') as { spec: { egress: Rule[] } }).spec.egress;
/** The egress rules to single addresses (ipBlocks), as `cidr port/protocol`. */
const addressRules = (json: string) => egress(json).filter((r) => r.to?.some((t) => t.ip_block)).flatMap((r) => r.to!.flatMap((t) => r.ports!.map((p) => `${t.ip_block!.cidr} ${p.port}/${p.protocol}`)));
/** The ports open to anywhere (the model APIs' rule). */
const anywherePorts = (json: string) => egress(json).filter((r) => r.to === undefined).flatMap((r) => r.ports!.map((p) => p.port));
const env = (json: string) => Object.fromEntries(podSpec(json).container[0].env.map((e) => [e.name, e]));

const problems = synthProblems;

function warnings(props: Partial<TboKubernetesServiceProps>): string[] {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const tbo = new TboKubernetesService(stack, 'Tbo', { image: IMAGE, ...props });
  Testing.synth(stack);
  return tbo.node.metadata.map((m) => String(m.data));
}

describe('EKS IRSA', () => {
  const json = synthService(IRSA);

  it('annotates the ServiceAccount with the role ARN', () => {
    expect(json).toHaveResourceWithProperties(ServiceAccountV1, { metadata: expect.objectContaining({ name: N.service, annotations: { [IRSA_ROLE_ANNOTATION]: ROLE_ARN } }) });
  });

  it('mounts no Kubernetes API token: the webhook adds its own projected token volume', () => {
    expect(serviceAccount(json).automount_service_account_token).toBe(false);
    expect(podSpec(json).automount_service_account_token).toBe(false);
  });

  it('opens nothing beyond HTTPS, which reaches STS and Bedrock Runtime', () => {
    expect(addressRules(json)).toEqual([]);
    expect(anywherePorts(json)).toEqual(['443']);
  });

  it('sets the Bedrock Region, and the Anthropic key is optional without anthropic: routes', () => {
    expect(env(json).TBO_BEDROCK_REGION.value).toBe('us-east-1');
    expect(env(json).TBO_MODELS_BALANCED.value).toBe('bedrock:claude-sonnet-4-5');
    expect(env(json)[SECRET_ENV.anthropicApiKey].value_from?.secret_key_ref.optional).toBe(true);
    expect(env(json)[SECRET_ENV.jwtSecretKey].value_from?.secret_key_ref.optional).toBe(false);
  });

  it('keeps HTTPS open for STS when the public APIs are behind a plain-HTTP proxy', () => {
    const proxied = synthService({ ...IRSA, config: { ...ALL_BEDROCK, bedrockEndpoint: 'http://bedrock-proxy.internal:8080', anthropicBaseUrl: 'http://llm-proxy.internal:8080', openaiBaseUrl: 'http://llm-proxy.internal:8080/v1' } });
    expect(anywherePorts(proxied)).toEqual(['443', '8080']);
  });

  it('the service accepts the rendered environment (a Bedrock route needs a Region to start)', () => {
    const plain = Object.fromEntries(podSpec(json).container[0].env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    expect(loadConfig({ ...plain, TBO_CONFIG_FILE: '' })).toMatchObject({ bedrockRegion: 'us-east-1', modelsFast: 'bedrock:claude-haiku-4-5' });
  });
});

describe('EKS Pod Identity', () => {
  const json = synthService(POD_IDENTITY);

  it('puts nothing on the ServiceAccount (the association lives in EKS)', () => {
    expect(serviceAccount(json).metadata.annotations).toBeUndefined();
    expect(serviceAccount(json).automount_service_account_token).toBe(false);
  });

  it('opens the Pod Identity Agent, both address families, port 80 only', () => {
    expect(addressRules(json)).toEqual([`${EKS_POD_IDENTITY_AGENT.ipv4}/32 80/TCP`, `${EKS_POD_IDENTITY_AGENT.ipv6}/128 80/TCP`]);
    expect(addressRules(json)).toEqual(['169.254.170.23/32 80/TCP', 'fd00:ec2::23/128 80/TCP']);
  });

  it('a custom Bedrock endpoint opens its own port instead of 443', () => {
    const custom = synthService({ ...POD_IDENTITY, config: { ...ALL_BEDROCK, bedrockEndpoint: 'https://bedrock.internal.example.com:8443' } });
    expect(anywherePorts(custom)).toEqual(['443', '8443']); // 443: the public APIs' default base URLs
  });
});

describe('GKE Workload Identity', () => {
  const json = synthService(GKE);

  it('annotates the ServiceAccount with the Google service account', () => {
    expect(serviceAccount(json).metadata.annotations).toEqual({ [GKE_SERVICE_ACCOUNT_ANNOTATION]: GSA });
    expect(serviceAccount(json).automount_service_account_token).toBe(false);
  });

  it('opens the GKE metadata server: where pods dial it, and where the node\'s server listens', () => {
    expect(addressRules(json)).toEqual([`${GKE_METADATA_SERVER.ip}/32 80/TCP`, `${GKE_METADATA_SERVER.nodeIp}/32 988/TCP`]);
    expect(addressRules(json)).toEqual(['169.254.169.254/32 80/TCP', '169.254.169.252/32 988/TCP']);
  });

  it('sets the Vertex AI location and project', () => {
    expect(env(json).TBO_VERTEX_REGION.value).toBe('us-east5');
    expect(env(json).TBO_VERTEX_PROJECT.value).toBe('models-prod');
    expect(env(json)[SECRET_ENV.anthropicApiKey].value_from?.secret_key_ref.optional).toBe(true);
  });

  it('direct principal access (no Google service account): the metadata server, no annotation', () => {
    const direct = synthService({ config: ALL_VERTEX, workloadIdentity: { gkeWorkloadIdentity: true } });
    expect(serviceAccount(direct).metadata.annotations).toBeUndefined();
    expect(addressRules(direct)).toEqual(['169.254.169.254/32 80/TCP', '169.254.169.252/32 988/TCP']);
    expect(env(direct).TBO_VERTEX_PROJECT).toBeUndefined(); // the service asks the metadata server
    expect(env(direct).TBO_VERTEX_REGION.value).toBe('global');
  });

  it('without NetworkPolicies: the annotation, and no policy', () => {
    const open = synthService({ ...GKE, networkPolicy: false });
    expect(serviceAccount(open).metadata.annotations).toEqual({ [GKE_SERVICE_ACCOUNT_ANNOTATION]: GSA });
    expect(open).not.toContain('kubernetes_network_policy_v1');
  });
});

describe('defaults: no identity', () => {
  const json = synthService();

  it('no annotations, no address rules, HTTPS only, and the Anthropic key required (the default routes use it)', () => {
    expect(serviceAccount(json).metadata.annotations).toBeUndefined();
    expect(addressRules(json)).toEqual([]);
    expect(anywherePorts(json)).toEqual(['443']);
    expect(env(json)[SECRET_ENV.anthropicApiKey].value_from?.secret_key_ref.optional).toBe(false);
    expect(env(json).TBO_BEDROCK_REGION).toBeUndefined();
  });

  it('a mixed deployment (Bedrock first, the public API as fallback) still requires the key', () => {
    const mixed = synthService({ ...IRSA, config: { modelsBalanced: 'bedrock:claude-sonnet-4-5,anthropic:claude-sonnet-4-5' } });
    expect(env(mixed)[SECRET_ENV.anthropicApiKey].value_from?.secret_key_ref.optional).toBe(false);
  });
});

describe('validation', () => {
  it.each<[string, Partial<TboKubernetesServiceProps>, RegExp]>([
    ['a role ARN that is not one', { workloadIdentity: { awsRoleArn: 'arn:aws:iam::1111:user/me' } }, /workloadIdentity\.awsRoleArn: received "arn:aws:iam::1111:user\/me"; must be an IAM role ARN such as arn:aws:iam::111122223333:role\/tbo-gateway/],
    ['IRSA and Pod Identity together', { workloadIdentity: { awsRoleArn: ROLE_ARN, eksPodIdentity: true } }, /workloadIdentity\.eksPodIdentity: received true; give awsRoleArn \(IRSA\) or eksPodIdentity \(EKS Pod Identity\), not both/],
    ['a Google service account that is not one', { workloadIdentity: { gcpServiceAccount: 'tbo@gmail.com' } }, /workloadIdentity\.gcpServiceAccount: received "tbo@gmail\.com"; must be a Google service account email, NAME@PROJECT\.iam\.gserviceaccount\.com/],
    ['a Google service account without the metadata server', { workloadIdentity: { gcpServiceAccount: GSA, gkeWorkloadIdentity: false } }, /workloadIdentity\.gkeWorkloadIdentity: received false; must be true \(or unset\) with gcpServiceAccount/],
    ['Bedrock routes without a Region', { config: ALL_BEDROCK }, /bedrock\.region: received undefined; required: routes bedrock:claude-haiku-4-5, bedrock:claude-sonnet-4-5, bedrock:claude-opus-4-1 call Bedrock Runtime/],
    ['a Region that is not one', { config: ALL_BEDROCK, bedrock: { region: 'US East' } }, /bedrock\.region: received "US East"; must be an AWS Region such as us-east-1 or eu-central-1 \(it sets TBO_BEDROCK_REGION\)/],
    ['a Region given twice, differently', { config: { ...ALL_BEDROCK, bedrockRegion: 'us-west-2' }, bedrock: { region: 'us-east-1' } }, /bedrock\.region: received "us-east-1"; differs from config\.bedrockRegion \("us-west-2"\); give one of the two/],
    ['a geographic profile where none exists', { config: ALL_BEDROCK, bedrock: { region: 'sa-east-1' } }, /config\.bedrockCrossRegion: received "geo"; bedrock:claude-haiku-4-5 in sa-east-1: TBO_BEDROCK_CROSS_REGION: "geo" has no inference-profile geography/],
    ['a Vertex location that is not one', { config: ALL_VERTEX, vertex: { region: 'Iowa' } }, /vertex\.region: received "Iowa"; must be 'global', the multi-regions 'us' or 'eu', or a Vertex AI region such as us-east5/],
    ['a Vertex project that is not one', { config: ALL_VERTEX, vertex: { project: 'x' } }, /vertex\.project: received "x"; must be a Google Cloud project id/],
  ])('%s', (_, props, expected) => {
    expect(problems(props)).toMatch(expected);
  });

  it('accepts roles with paths and in other partitions, and a Region from config alone', () => {
    expect(problems({ workloadIdentity: { awsRoleArn: 'arn:aws-us-gov:iam::111122223333:role/platform/tbo-gateway' } })).toBe('');
    expect(problems({ config: { ...ALL_BEDROCK, bedrockRegion: 'us-west-2' }, workloadIdentity: { eksPodIdentity: true } })).toBe('');
    expect(problems({ config: { ...ALL_BEDROCK, bedrockCrossRegion: 'none' }, bedrock: { region: 'sa-east-1' }, workloadIdentity: { eksPodIdentity: true } })).toBe('');
  });
});

describe('warnings', () => {
  it('none with a matching identity', () => {
    expect(warnings(IRSA)).toEqual([]);
    expect(warnings(POD_IDENTITY)).toEqual([]);
    expect(warnings(GKE)).toEqual([]);
  });

  it('cloud routes with no credentials the NetworkPolicy lets the pods fetch', () => {
    expect(warnings({ config: ALL_BEDROCK, bedrock: { region: 'us-east-1' } })).toEqual([expect.stringMatching(/bedrock: routes need AWS credentials, .*set workloadIdentity\.awsRoleArn \(IRSA\) or workloadIdentity\.eksPodIdentity/)]);
    expect(warnings({ config: ALL_VERTEX })).toEqual([expect.stringMatching(/vertex: routes need Google credentials from the GKE metadata server, .*workloadIdentity\.gcpServiceAccount/)]);
    expect(warnings({ config: ALL_VERTEX, workloadIdentity: { awsRoleArn: ROLE_ARN } })).toEqual([expect.stringMatching(/vertex: routes need Google credentials/)]);
  });

  it('bedrock or vertex set while no route uses them', () => {
    expect(warnings({ bedrock: { region: 'us-east-1' } })).toEqual([expect.stringMatching(/bedrock: no route uses bedrock:/)]);
    expect(warnings({ vertex: { region: 'us-east5' } })).toEqual([expect.stringMatching(/vertex: no route uses vertex: or vertex-openai:/)]);
  });
});

describe.each([
  ['IRSA', IRSA],
  ['EKS Pod Identity', POD_IDENTITY],
  ['GKE Workload Identity', GKE],
])('%s: every manifest is still valid', (_, props) => {
  const mapped = manifestsFromSynth(synthService(props));

  it('for kubernetes-models (the ServiceAccount\'s annotations and the policy\'s ipBlocks included)', () => {
    const invalid = mapped.flatMap(({ address, manifest }) => {
      try {
        validateManifest(manifest);
        return [];
      } catch (err) {
        return [`${address}: ${(err as Error).message}`];
      }
    });
    expect(invalid).toEqual([]);
    expect(mapped.map((m) => m.manifest.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'NetworkPolicy', 'Deployment']));
  });

  it('for the restricted Pod Security Standard', () => {
    for (const { address, manifest } of mapped.filter((m) => podTemplateSpec(m.manifest))) {
      expect([address, restrictedViolations(podTemplateSpec(manifest)!)]).toEqual([address, []]);
    }
  });
});
