import type { Request } from 'express';
import { TboError } from '../errors';
import { parseCachePolicy, type CachePolicy } from '../optimizer/cache-policy';
import type { CacheMode } from '../optimizer/gateway';

const SESSION_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Cache-Control request directives TBO honours. */
export function cacheModeOf(req: Request): CacheMode {
  const header = req.headers['cache-control'];
  if (typeof header !== 'string') return 'default';
  const directives = header.toLowerCase();
  if (directives.includes('no-store')) return 'no-store';
  if (directives.includes('no-cache')) return 'no-cache';
  return 'default';
}

/** The request's own cache policy for sampled answers (`x-tbo-cache-policy: cache|bypass|variants:N`), if it sets one. */
export function cachePolicyOf(req: Request): CachePolicy | undefined {
  const header = req.headers['x-tbo-cache-policy'];
  if (header === undefined) return undefined;
  const policy = typeof header === 'string' ? parseCachePolicy(header.trim().toLowerCase()) : undefined;
  if (!policy) throw new TboError('invalid_request', 'x-tbo-cache-policy: must be cache, bypass or variants:N with N from 2 to 20', { param: 'x-tbo-cache-policy' });
  return policy;
}

function intHeader(req: Request, name: string, min: number, max: number): number | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TboError('invalid_request', `${name}: must be an integer from ${min} to ${max}`, { param: name });
  }
  return value;
}

/**
 * The priority a request runs at: what it asked for, but never above its tenant's ceiling (a
 * request may lower its priority, not raise it). Without a request, the ceiling.
 */
export function effectivePriority(requested: number | undefined, ceiling: number): number {
  return Math.max(requested ?? ceiling, ceiling);
}

/** Optimizer hints the provider-compatible endpoints take from headers (priority as asked; see {@link effectivePriority}). */
export function optimizerHeaders(req: Request): { readonly sessionId: string | undefined; readonly priority: number | undefined; readonly complexity: number } {
  const session = req.headers['x-tbo-session-id'];
  if (session !== undefined && (typeof session !== 'string' || !SESSION_ID.test(session))) {
    throw new TboError('invalid_request', 'x-tbo-session-id: must be 1-128 characters of A-Z a-z 0-9 . _ : @ -', { param: 'x-tbo-session-id' });
  }
  return {
    sessionId: session,
    priority: intHeader(req, 'x-tbo-priority', 1, 10),
    complexity: intHeader(req, 'x-tbo-complexity', 1, 5) ?? 1,
  };
}

export { SESSION_ID };
