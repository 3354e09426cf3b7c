/**
 * The workload identity path on ECS, for real: the AWS SDK's standard credential chain in TBO
 * fetches the task role's credentials from a fake container-credentials endpoint
 * (AWS_CONTAINER_CREDENTIALS_FULL_URI) and refreshes them as they expire, with no restart; the
 * fake Bedrock accepts only the credentials the endpoint currently issues.
 */
import Anthropic from '@anthropic-ai/sdk';
import { SDK_REFRESH_WINDOW_MS, startFakeAwsCredentials, useOnlyContainerCredentials, type FakeAwsCredentials } from '../support/fake-aws-credentials';
import { signedInvoke, startFakeBedrock, type FakeBedrock } from '../support/fake-bedrock';
import { waitFor } from '../support/ports';
import { startTbo, type RunningTbo } from '../support/tbo';

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const TOKEN = 'eks-pod-identity-token';
/** Well inside the SDK's 5-minute refresh window, so the first credentials are re-fetched as they are used and dropped once expired. */
const SHORT_LIFETIME_MS = 1500;

function env(bedrockUrl: string): Record<string, string> {
  return {
    TBO_HOST: '127.0.0.1', TBO_PORT: '0', TBO_ADMIN_PORT: '0', TBO_LOG_LEVEL: 'silent', TBO_CONFIG_FILE: '', TBO_MAX_RETRIES: '0',
    TBO_BEDROCK_ENDPOINT: bedrockUrl, TBO_BEDROCK_REGION: 'us-east-1',
    TBO_MODELS_FAST: 'bedrock:claude-haiku-4-5', TBO_MODELS_BALANCED: 'bedrock:claude-sonnet-4-5', TBO_MODELS_STRONGEST: 'bedrock:claude-opus-4-1',
  };
}

const ask = (content: string) => ({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user' as const, content }] });

let creds: FakeAwsCredentials;
let bedrock: FakeBedrock;
let restoreEnv: () => void;

beforeAll(async () => {
  expect(SHORT_LIFETIME_MS).toBeLessThan(SDK_REFRESH_WINDOW_MS);
  creds = await startFakeAwsCredentials({ lifetimeMs: SHORT_LIFETIME_MS, authorizationToken: TOKEN });
  restoreEnv = useOnlyContainerCredentials(creds, TOKEN);
  bedrock = await startFakeBedrock({ credentials: (id) => creds.status(id) });
});
afterAll(async () => {
  await bedrock?.close();
  await creds?.close();
  restoreEnv?.();
});

describe('task-role credentials from the container endpoint', () => {
  let tbo: RunningTbo;
  let client: Anthropic;
  beforeAll(async () => {
    tbo = await startTbo(env(bedrock.url));
    client = new Anthropic({ apiKey: 'client-key', baseURL: tbo.url, maxRetries: 0, logLevel: 'error' });
  });
  afterAll(() => tbo.close());

  it('keeps answering across a rotation: the old key is refused, the SDK fetches the new one', async () => {
    const first = await client.messages.create(ask('before rotation')).withResponse();
    expect(first.response.status).toBe(200);
    const old = creds.current;
    expect(bedrock.requests[0].accessKeyId).toBe(old.accessKeyId);
    const fetchesBefore = creds.fetches;

    const rotated = creds.rotate();
    // From now on Bedrock refuses the old key, as AWS refuses revoked or expired session credentials.
    const refused = await signedInvoke(bedrock, HAIKU, { accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey, sessionToken: old.sessionToken });
    expect(refused).toMatchObject({ status: 403, code: 'ExpiredTokenException' });
    const rejectedBefore = bedrock.rejections.length;

    // Once the old credentials have expired the SDK does not sign with them again: it fetches anew.
    await waitFor(() => Date.now() > old.expiration, { what: 'the first credentials to expire', timeoutMs: SHORT_LIFETIME_MS + 2000 });
    for (const n of [1, 2, 3]) {
      const { response } = await client.messages.create(ask(`after rotation ${n}`)).withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get('x-tbo-backend')).toBe('bedrock');
    }
    expect(creds.fetches).toBeGreaterThan(fetchesBefore);
    expect(bedrock.requests.slice(1).map((r) => r.accessKeyId)).toEqual([rotated.accessKeyId, rotated.accessKeyId, rotated.accessKeyId]);
    expect(bedrock.rejections.length).toBe(rejectedBefore); // no call of TBO's was refused
    expect(creds.refused).toBe(0); // every fetch carried AWS_CONTAINER_AUTHORIZATION_TOKEN
  });
});

describe('without usable credentials', () => {
  it('answers 503 naming the credential chain, never calling Bedrock unsigned', async () => {
    const tbo = await startTbo(env(bedrock.url));
    const client = new Anthropic({ apiKey: 'client-key', baseURL: tbo.url, maxRetries: 0, logLevel: 'error' });
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'wrong-token';
    const requestsBefore = bedrock.requests.length + bedrock.rejections.length;
    try {
      const err = await client.messages.create(ask('no credentials')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
      expect((err as Error).message).toMatch(/no AWS credentials to sign with .*task role/);
      expect((err as Error).message).not.toContain('wrong-token');
      expect(creds.refused).toBeGreaterThan(0);
      expect(bedrock.requests.length + bedrock.rejections.length).toBe(requestsBefore);
    } finally {
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = TOKEN;
      await tbo.close();
    }
  });
});
