/**
 * A fake ECS container-credentials endpoint on 127.0.0.1: what the AWS SDK's credential chain calls
 * on Fargate (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` against 169.254.170.2), reached here through
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/creds` (the SDK accepts loopback
 * URLs), optionally requiring `Authorization: <AWS_CONTAINER_AUTHORIZATION_TOKEN>` as EKS Pod
 * Identity does. It answers `{AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn}` like the
 * ECS agent, serves new credentials once the current ones expired (the agent always serves valid
 * ones), and `rotate()` replaces them at once.
 *
 * How the SDK refreshes (@aws-sdk/credential-provider-node, `memoizeChain`): credentials expiring
 * within 5 minutes are re-fetched in the background on each use while the old ones keep signing;
 * credentials already expired are dropped and the next signature waits for new ones. So
 * credentials issued with a lifetime under 5 minutes are re-fetched on every use, and once they
 * have expired no request is signed with them again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackServer } from './loopback-server';

/** The SDK's refresh window: credentials expiring sooner than this are refreshed in the background. */
export const SDK_REFRESH_WINDOW_MS = 5 * 60_000;

/** One set of credentials the endpoint issued. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds. */
  readonly expiration: number;
}

/** What a signature's access key id is worth now. */
export type CredentialStatus =
  | { readonly valid: true; readonly credentials: IssuedCredentials }
  | { readonly valid: false; readonly reason: 'expired' | 'unknown' };

export interface FakeAwsCredentialsOptions {
  /** Lifetime of the first credentials. @default {@link DEFAULT_LIFETIME_MS} */
  readonly lifetimeMs?: number;
  /** When set, requests must send exactly this `Authorization` header (else 401, as the agent answers). */
  readonly authorizationToken?: string;
  /** @default arn:aws:iam::123456789012:role/tbo-task-role */
  readonly roleArn?: string;
}

export interface FakeAwsCredentials {
  /** The value for `AWS_CONTAINER_CREDENTIALS_FULL_URI`. */
  readonly fullUri: string;
  /** Credential requests answered with credentials. */
  readonly fetches: number;
  /** Requests refused for a missing or wrong authorization token. */
  readonly refused: number;
  /** The credentials the endpoint serves now. */
  readonly current: IssuedCredentials;
  /**
   * Issues new credentials (lifetime `lifetimeMs`, default {@link DEFAULT_LIFETIME_MS}) and revokes
   * the current ones: from now on `status()` says they expired.
   */
  rotate(lifetimeMs?: number): IssuedCredentials;
  /** Whether a signature made with this access key id is accepted now (for the fake Bedrock). */
  status(accessKeyId: string): CredentialStatus;
  close(): Promise<void>;
}

/** Six hours, as the ECS agent's task-role credentials live. */
export const DEFAULT_LIFETIME_MS = 6 * 60 * 60_000;

export async function startFakeAwsCredentials(opts: FakeAwsCredentialsOptions = {}): Promise<FakeAwsCredentials> {
  const fake = new FakeCredentialsEndpoint(opts);
  await fake.listen();
  return fake;
}

class FakeCredentialsEndpoint implements FakeAwsCredentials {
  fetches = 0;
  refused = 0;
  current: IssuedCredentials;
  private readonly retired = new Set<string>();
  private readonly server = new LoopbackServer((req, res) => this.handle(req, res));

  constructor(private readonly opts: FakeAwsCredentialsOptions) {
    this.current = issue(opts.lifetimeMs ?? DEFAULT_LIFETIME_MS);
  }

  get fullUri(): string {
    return `${this.server.url}/creds`;
  }

  listen(): Promise<void> {
    return this.server.listen();
  }

  rotate(lifetimeMs = DEFAULT_LIFETIME_MS): IssuedCredentials {
    this.retired.add(this.current.accessKeyId);
    this.current = issue(lifetimeMs);
    return this.current;
  }

  status(accessKeyId: string): CredentialStatus {
    if (accessKeyId === this.current.accessKeyId) {
      return Date.now() < this.current.expiration ? { valid: true, credentials: this.current } : { valid: false, reason: 'expired' };
    }
    return { valid: false, reason: this.retired.has(accessKeyId) ? 'expired' : 'unknown' };
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'GET' || req.url !== '/creds') {
      send(res, 404, { Code: 'NotFound', Message: `no route ${req.method} ${req.url}` });
      return;
    }
    if (this.opts.authorizationToken !== undefined && req.headers.authorization !== this.opts.authorizationToken) {
      this.refused++;
      send(res, 401, { Code: 'AccessDeniedException', Message: 'Authorization token is missing or invalid' });
      return;
    }
    if (Date.now() >= this.current.expiration) this.rotate();
    this.fetches++;
    const c = this.current;
    send(res, 200, {
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: new Date(c.expiration).toISOString(),
      RoleArn: this.opts.roleArn ?? 'arn:aws:iam::123456789012:role/tbo-task-role',
    });
  }
}

function issue(lifetimeMs: number): IssuedCredentials {
  return {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(48).toString('base64')}`,
    expiration: Date.now() + lifetimeMs,
  };
}

function send(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}

/** Env vars through which the AWS SDK's chain could find credentials other than the fake endpoint. */
const OTHER_SOURCES = [
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_REGION', 'AWS_DEFAULT_REGION',
] as const;

/**
 * Makes this process's AWS credential chain find the fake endpoint and nothing else: sets
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` (and `AWS_CONTAINER_AUTHORIZATION_TOKEN` when given), unsets
 * static keys, profiles, web identity and region, points `AWS_CONFIG_FILE` and
 * `AWS_SHARED_CREDENTIALS_FILE` at empty files (not ~/.aws) and turns the instance metadata service
 * off. Returns a function that restores the environment and removes the files.
 */
export function useOnlyContainerCredentials(creds: FakeAwsCredentials, authorizationToken?: string): () => void {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'tbo-aws-'));
  writeFileSync(join(dir, 'config'), '');
  writeFileSync(join(dir, 'credentials'), '');
  for (const name of OTHER_SOURCES) delete process.env[name];
  Object.assign(process.env, {
    AWS_CONTAINER_CREDENTIALS_FULL_URI: creds.fullUri,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  if (authorizationToken !== undefined) process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = authorizationToken;
  else delete process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  return () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  };
}
