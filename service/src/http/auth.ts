import { hash, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { ConfigError } from '../config/load';
import type { ServiceConfig } from '../config/settings';
import { TboError } from '../errors';

/** The tenant used when the service runs without authentication. */
export const OPEN_TENANT = 'anonymous';
/** JWT tenants live in their own namespace: `jwt:<tenant claim>` (API-key tenants cannot contain ':'). */
export const JWT_TENANT_PREFIX = 'jwt:';
/** How far in the future a token's `iat` may be (clock skew between issuer and gateway). */
export const JWT_CLOCK_SKEW_SECONDS = 60;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const TENANT_SHAPE = /^[A-Za-z0-9._@-]{1,128}$/;
const USER_SHAPE = /^[\x21-\x7e]{1,128}$/;
const MIN_KEY_LENGTH = 16;

/** Who is calling: a tenant (API key or JWT), or an operator with an admin credential. */
export type Principal =
  | { readonly kind: 'tenant'; readonly tenant: string; readonly user?: string }
  | { readonly kind: 'admin' };

function digest(value: string): string {
  return hash('sha256', value, 'hex');
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function parseApiKeys(spec: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  if (!spec) return keys;
  for (const pair of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf(':');
    const tenant = pair.slice(0, at);
    const key = pair.slice(at + 1);
    if (at <= 0 || key.length < MIN_KEY_LENGTH || !TENANT_SHAPE.test(tenant)) {
      throw new ConfigError([`TBO_API_KEYS: must be comma-separated tenant:key pairs, tenant of [A-Za-z0-9._@-], key at least ${MIN_KEY_LENGTH} characters`]);
    }
    keys.set(digest(key), tenant);
  }
  return keys;
}

function parseAdminKeys(spec: string | undefined): Buffer[] {
  const keys = (spec ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (keys.some((k) => k.length < MIN_KEY_LENGTH)) throw new ConfigError([`TBO_ADMIN_KEYS: every admin key must be at least ${MIN_KEY_LENGTH} characters`]);
  return keys.map((k) => Buffer.from(digest(k), 'hex'));
}

/**
 * Resolves the caller from the credential its SDK sends: `x-api-key` (Anthropic SDK) or
 * `Authorization: Bearer` (OpenAI SDK), as a TBO API key, an admin key or an HS256 JWT.
 *
 * API-key tenants and JWT tenants never share a namespace: a JWT's tenant is `jwt:` + its `tenant`
 * claim, whatever it says; `user_id` is the end user within that tenant, never a tenant.
 */
export class Authenticator {
  private readonly keys: Map<string, string>;
  private readonly adminKeys: Buffer[];
  private readonly jwtKey: Uint8Array | undefined;
  private readonly jwtOptions: JWTVerifyOptions;
  private readonly jwtTenants: ReadonlySet<string> | undefined;
  private readonly maxLifetime: number;
  readonly open: boolean;
  /** True when every caller is one tenant (open mode, or a single API key and no JWT). */
  readonly singleTenant: boolean;

  constructor(config: ServiceConfig) {
    this.keys = parseApiKeys(config.apiKeys);
    this.adminKeys = parseAdminKeys(config.adminKeys);
    this.jwtKey = config.jwtSecretKey ? new TextEncoder().encode(config.jwtSecretKey) : undefined;
    this.jwtOptions = {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'iat', 'tenant', ...(config.jwtIssuer ? ['iss'] : []), ...(config.jwtAudience ? ['aud'] : [])],
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      clockTolerance: 0,
    };
    this.jwtTenants = config.jwtTenants ? new Set(config.jwtTenants.split(',').map((t) => t.trim())) : undefined;
    this.maxLifetime = config.jwtMaxLifetime;
    this.open = this.keys.size === 0 && !this.jwtKey;
    this.singleTenant = this.open || (new Set(this.keys.values()).size === 1 && !this.jwtKey);
    if (this.open && config.auth !== 'none' && !isLoopback(config.host)) {
      throw new ConfigError([
        `TBO_AUTH: no client authentication is configured and TBO_HOST is ${config.host}, not loopback; set TBO_API_KEYS or JWT_SECRET_KEY, or set TBO_AUTH=none to run open deliberately`,
      ]);
    }
  }

  async principalOf(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<Principal> {
    const credential = this.credential(headers);
    if (credential && this.adminKeys.length && this.isAdmin(credential)) return { kind: 'admin' };
    if (this.open) return { kind: 'tenant', tenant: OPEN_TENANT };
    if (!credential) throw new TboError('authentication', 'missing credential: send a TBO API key or JWT in x-api-key or Authorization: Bearer');
    const tenant = this.keys.get(digest(credential));
    if (tenant) return { kind: 'tenant', tenant };
    if (this.jwtKey && JWT_SHAPE.test(credential)) return this.verifyJwt(credential, this.jwtKey);
    throw new TboError('authentication', 'invalid credential');
  }

  private isAdmin(credential: string): boolean {
    const presented = Buffer.from(digest(credential), 'hex');
    return this.adminKeys.some((key) => timingSafeEqual(key, presented));
  }

  private credential(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
    const auth = headers.authorization;
    if (typeof auth !== 'string') return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1];
  }

  private async verifyJwt(token: string, key: Uint8Array): Promise<Principal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, this.jwtOptions));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TboError('authentication', 'token expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new TboError('authentication', `invalid token: ${err.claim} claim ${err.reason === 'missing' ? 'missing' : 'not accepted'}`);
      throw new TboError('authentication', 'invalid token');
    }
    const { exp, iat, tenant } = payload as { exp: number; iat: number; tenant: unknown };
    const now = Math.floor(Date.now() / 1000);
    if (iat > now + JWT_CLOCK_SKEW_SECONDS) throw new TboError('authentication', 'invalid token: iat is in the future');
    if (exp - iat > this.maxLifetime) throw new TboError('authentication', `invalid token: lifetime (exp − iat) exceeds ${this.maxLifetime} s`);
    if (typeof tenant !== 'string' || !TENANT_SHAPE.test(tenant)) throw new TboError('authentication', 'invalid token: tenant claim must be 1-128 characters of A-Z a-z 0-9 . _ @ -');
    if (this.jwtTenants && !this.jwtTenants.has(tenant)) throw new TboError('authentication', 'invalid token: tenant not accepted by this gateway');
    const user = typeof payload.user_id === 'string' && USER_SHAPE.test(payload.user_id) ? payload.user_id : undefined;
    return { kind: 'tenant', tenant: JWT_TENANT_PREFIX + tenant, ...(user ? { user } : {}) };
  }
}
