import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'tbo1.';
const MAC_HEX = 64;
const HEADER = VERSION.length + MAC_HEX + 1;
const MAC_SHAPE = /^[0-9a-f]{64}$/;

/** Why a stored entry was refused. */
export type RejectReason = 'decode' | 'signature';

/**
 * Authenticates cache entries kept in shared storage: `tbo1.<HMAC-SHA256 hex>\n<value>`, the MAC
 * over the cache key and the value, so an entry can be neither forged, altered, nor moved to
 * another key by anyone without the signing key (another deployment sharing the Redis included).
 */
export class EntrySigner {
  constructor(private readonly key: Buffer) {}

  private mac(cacheKey: string, value: string): Buffer {
    return createHmac('sha256', this.key).update(cacheKey).update('\n').update(value).digest();
  }

  seal(cacheKey: string, value: string): string {
    return `${VERSION}${this.mac(cacheKey, value).toString('hex')}\n${value}`;
  }

  /** The value of an authentic entry, or why it is refused. */
  open(cacheKey: string, stored: string): { readonly value: string } | { readonly rejected: RejectReason } {
    const mac = stored.slice(VERSION.length, VERSION.length + MAC_HEX);
    if (!stored.startsWith(VERSION) || stored.charAt(HEADER - 1) !== '\n' || !MAC_SHAPE.test(mac)) return { rejected: 'decode' };
    const value = stored.slice(HEADER);
    return timingSafeEqual(Buffer.from(mac, 'hex'), this.mac(cacheKey, value)) ? { value } : { rejected: 'signature' };
  }
}

/**
 * The signing key: `TBO_CACHE_SIGNING_KEY`, or one derived from the deployment's other secrets and
 * its key prefix, so every instance of a deployment agrees on it and two deployments with different
 * credentials do not.
 */
export function signingKey(explicit: string | undefined, otherSecrets: readonly (string | undefined)[], keyPrefix: string): Buffer {
  if (explicit) return Buffer.from(explicit, 'utf8');
  const hmac = createHmac('sha256', 'tbo-cache-signing-key-v1').update(keyPrefix);
  for (const secret of otherSecrets) hmac.update('\0').update(secret ?? '');
  return hmac.digest();
}
