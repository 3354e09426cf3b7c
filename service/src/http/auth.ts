import { hash } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { ConfigError } from '../config/load';
import type { ServiceConfig } from '../config/settings';
import { TboError } from '../errors';

/** The tenant used when the service runs without authentication. */
export const OPEN_TENANT = 'anonymous';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const TENANT_SHAPE = /^[A-Za-z0-9._@-]{1,128}$/;

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
    if (at <= 0 || key.length < 16 || !TENANT_SHAPE.test(tenant)) {
      throw new ConfigError(['TBO_API_KEYS: must be comma-separated tenant:key pairs, tenant of [A-Za-z0-9._@-], key at least 16 characters']);
    }
    keys.set(digest(key), tenant);
  }
  return keys;
}

/**
 * Resolves the caller's tenant from the credential its SDK sends: `x-api-key` (Anthropic SDK) or
 * `Authorization: Bearer` (OpenAI SDK), as a TBO API key or an HS256 JWT with `exp`.
 */
export class Authenticator {
  private readonly keys: Map<string, string>;
  private readonly jwtKey: Uint8Array | undefined;
  readonly open: boolean;

  constructor(config: ServiceConfig) {
    this.keys = parseApiKeys(config.apiKeys);
    this.jwtKey = config.jwtSecretKey ? new TextEncoder().encode(config.jwtSecretKey) : undefined;
    this.open = this.keys.size === 0 && !this.jwtKey;
    if (this.open && config.auth !== 'none' && !isLoopback(config.host)) {
      throw new ConfigError([
        `TBO_AUTH: no client authentication is configured and TBO_HOST is ${config.host}, not loopback; set TBO_API_KEYS or JWT_SECRET_KEY, or set TBO_AUTH=none to run open deliberately`,
      ]);
    }
  }

  async tenantOf(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<string> {
    if (this.open) return OPEN_TENANT;
    const credential = this.credential(headers);
    if (!credential) throw new TboError('authentication', 'missing credential: send a TBO API key or JWT in x-api-key or Authorization: Bearer');
    const tenant = this.keys.get(digest(credential));
    if (tenant) return tenant;
    if (this.jwtKey && JWT_SHAPE.test(credential)) return this.verifyJwt(credential, this.jwtKey);
    throw new TboError('authentication', 'invalid credential');
  }

  private credential(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
    const auth = headers.authorization;
    if (typeof auth !== 'string') return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1];
  }

  private async verifyJwt(token: string, key: Uint8Array): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp'] });
      const tenant = typeof payload.tenant === 'string' ? payload.tenant : typeof payload.user_id === 'string' ? payload.user_id : undefined;
      if (!tenant || !TENANT_SHAPE.test(tenant)) throw new TboError('authentication', 'token has no usable tenant or user_id claim');
      return tenant;
    } catch (err) {
      if (err instanceof TboError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new TboError('authentication', 'token expired');
      throw new TboError('authentication', 'invalid token');
    }
  }
}
