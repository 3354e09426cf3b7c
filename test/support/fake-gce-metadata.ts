/**
 * A fake GCE metadata server on 127.0.0.1 (node:http only): what Cloud Run, GKE Workload Identity
 * and Compute Engine give a workload, and what google-auth-library's Application Default
 * Credentials read when `GCE_METADATA_HOST` points here. It checks what the real one checks (the
 * `Metadata-Flavor: Google` request header, no `X-Forwarded-For`) and answers with the
 * `Metadata-Flavor: Google` response header gcp-metadata insists on. Access tokens are new on every
 * issue and short-lived, so refreshes happen within a test; `isValid` tells a fake Vertex whether a
 * bearer token is one this server issued and has not expired.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { LoopbackServer } from './loopback-server';

export interface FakeMetadataOptions {
  /** @default 'tbo-metadata-project' */
  readonly project?: string;
  /** @default 'tbo-gateway@tbo-metadata-project.iam.gserviceaccount.com' */
  readonly serviceAccount?: string;
  /**
   * Lifetime of issued tokens, seconds (`expires_in`). google-auth-library refreshes a cached token
   * once less than 5 minutes are left, so 301 is cached for about a second and 1 is refreshed on
   * every call. @default 301
   */
  readonly tokenLifetimeSeconds?: number;
}

/** One token request as received. */
export interface TokenRequest {
  readonly path: string;
  /** The `scopes` query parameter (comma-separated), if any. */
  readonly scopes: string | undefined;
}

export interface FakeMetadata {
  readonly url: string;
  /** `host:port`, the form `GCE_METADATA_HOST` takes. */
  readonly host: string;
  readonly project: string;
  readonly serviceAccount: string;
  /** Tokens issued so far (each request for one issues a new one). */
  readonly tokensIssued: number;
  readonly tokenRequests: readonly TokenRequest[];
  /** Every request path seen, in order. */
  readonly paths: readonly string[];
  /** Requests refused for a missing `Metadata-Flavor: Google` header. */
  readonly refused: number;
  /** True when `token` was issued here and has not expired (nor been revoked). */
  isValid(token: string): boolean;
  /** When an issued token expires (ms since the epoch), or undefined for a token never issued. */
  expiryOf(token: string): number | undefined;
  /** Makes every token issued so far invalid (as a revoked or rotated key would). */
  revokeAll(): void;
  setTokenLifetime(seconds: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeMetadata(opts: FakeMetadataOptions = {}): Promise<FakeMetadata> {
  const fake = new FakeMetadataServer(opts);
  await fake.listen();
  return fake;
}

const BASE = '/computeMetadata/v1';

class FakeMetadataServer implements FakeMetadata {
  readonly project: string;
  readonly serviceAccount: string;
  readonly tokenRequests: TokenRequest[] = [];
  readonly paths: string[] = [];
  tokensIssued = 0;
  refused = 0;
  private lifetimeSeconds: number;
  private readonly tokens = new Map<string, number>();
  private readonly server = new LoopbackServer((req, res) => this.handle(req, res));

  constructor(opts: FakeMetadataOptions) {
    this.project = opts.project ?? 'tbo-metadata-project';
    this.serviceAccount = opts.serviceAccount ?? `tbo-gateway@${this.project}.iam.gserviceaccount.com`;
    this.lifetimeSeconds = opts.tokenLifetimeSeconds ?? 301;
  }

  get port(): number {
    return this.server.port;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return this.server.url;
  }

  listen(): Promise<void> {
    return this.server.listen();
  }

  isValid(token: string): boolean {
    const expiry = this.tokens.get(token);
    return expiry !== undefined && Date.now() < expiry;
  }

  expiryOf(token: string): number | undefined {
    return this.tokens.get(token);
  }

  revokeAll(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  setTokenLifetime(seconds: number): void {
    this.lifetimeSeconds = seconds;
  }

  reset(): void {
    this.tokens.clear();
    this.tokenRequests.length = 0;
    this.paths.length = 0;
    this.tokensIssued = 0;
    this.refused = 0;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    this.paths.push(url.pathname);
    const send = (status: number, body: string, type = 'application/text') => {
      res.writeHead(status, { 'Metadata-Flavor': 'Google', 'content-type': type, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    };
    // The real server refuses requests without the header, and proxied ones (an SSRF guard).
    if (req.headers['metadata-flavor'] !== 'Google' || req.headers['x-forwarded-for'] !== undefined) {
      this.refused++;
      send(403, 'Missing required header: "Metadata-Flavor"');
      return;
    }
    if (req.method !== 'GET') {
      send(405, 'Method not allowed');
      return;
    }
    const path = url.pathname.replace(/\/+$/, '');
    const account = /^\/computeMetadata\/v1\/instance\/service-accounts\/(default|[^/]+@[^/]+)(\/.*)?$/.exec(path);
    if (path === `${BASE}/instance`) {
      send(200, 'attributes/\nhostname\nid\nservice-accounts/\nzone\n');
    } else if (path === `${BASE}/project/project-id`) {
      send(200, this.project);
    } else if (path === `${BASE}/universe/universe-domain`) {
      send(200, 'googleapis.com');
    } else if (path === `${BASE}/instance/service-accounts`) {
      send(200, `default/\n${this.serviceAccount}/\n`);
    } else if (account && (account[1] === 'default' || account[1] === this.serviceAccount)) {
      this.serviceAccountPath(account[2] ?? '', url, send);
    } else {
      send(404, 'Not Found', 'text/html');
    }
  }

  private serviceAccountPath(rest: string, url: URL, send: (status: number, body: string, type?: string) => void): void {
    switch (rest) {
      case '/email':
        send(200, this.serviceAccount);
        return;
      case '/scopes':
        send(200, 'https://www.googleapis.com/auth/cloud-platform\n');
        return;
      case '/token': {
        this.tokenRequests.push({ path: url.pathname, scopes: url.searchParams.get('scopes') ?? undefined });
        const token = `ya29.fake-${randomBytes(16).toString('hex')}`;
        this.tokens.set(token, Date.now() + this.lifetimeSeconds * 1000);
        this.tokensIssued++;
        send(200, JSON.stringify({ access_token: token, expires_in: this.lifetimeSeconds, token_type: 'Bearer' }), 'application/json');
        return;
      }
      default:
        send(404, 'Not Found', 'text/html');
    }
  }
}
