/**
 * Shared helpers of the multi-tenant safety suite: tenants and their credentials, tokens, the two
 * listeners (public and admin), Prometheus samples, `/v1/performance`, raw requests, and a clock
 * that runs in real time but can be moved forward past a cool-down.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createHmac } from 'node:crypto';
import { Server } from 'node:net';
import type { Clock } from '../../service/src/clock';
import type { ServiceDeps, TboService } from '../../service/src/service';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { redisCli, startRedis, stopAll, type RedisHandle } from '../support/redis';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

export const ALPHA_KEY = 'alpha-key-0123456789abcdef';
export const BETA_KEY = 'beta-key-0123456789abcdef';
export const GAMMA_KEY = 'gamma-key-0123456789abcdef';
export const ADMIN_KEY = 'admin-key-0123456789abcdef-XYZ';
export const JWT_SECRET = 'tbo-security-jwt-secret-0123456789-abcdefghijkl';
/** Two API-key tenants, alpha and beta. */
export const TWO_TENANTS = `alpha:${ALPHA_KEY},beta:${BETA_KEY}`;
export const THREE_TENANTS = `${TWO_TENANTS},gamma:${GAMMA_KEY}`;

/** Env of a service in front of the fake upstream, its admin listener on a free port. */
export function secEnv(upstreamUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return upstreamEnv(upstreamUrl, { TBO_ADMIN_PORT: '0', ...extra });
}

/** What every file of the suite starts: a fake upstream, the services under test, and (optionally) a redis-server. */
export interface SecurityFixtures {
  /** Reset before each test. */
  readonly fake: FakeUpstream;
  /** Flushed before each test; only with `{ redis: true }`. */
  readonly redis: RedisHandle;
  /** Services a test started: closed after it. */
  readonly running: SecuredTbo[];
}

/** Registers the suite's jest lifecycle (start, reset, close) and returns the fixtures it keeps. */
export function securityFixtures(opts: { readonly redis?: boolean } = {}): SecurityFixtures {
  let fake: FakeUpstream | undefined;
  let redis: RedisHandle | undefined;
  const running: SecuredTbo[] = [];
  beforeAll(async () => {
    fake = await startFakeUpstream();
    if (opts.redis) redis = await startRedis();
  });
  afterAll(async () => {
    if (opts.redis) await stopAll();
    await fake?.close();
  });
  beforeEach(async () => {
    fake?.reset();
    if (redis) await redisCli(redis.port, 'FLUSHALL');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((t) => t.close()));
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`securityFixtures: no ${what} (before beforeAll, or not asked for)`);
    return value;
  };
  return {
    get fake() {
      return started(fake, 'fake upstream');
    },
    get redis() {
      return started(redis, 'redis-server');
    },
    running,
  };
}

export interface SecuredTbo {
  readonly url: string;
  /** The admin listener (`/metrics`, `/health/details`), when the service has one. */
  readonly adminUrl: string | undefined;
  readonly service: TboService;
  close(): Promise<void>;
}

/** `startTbo`, plus where the admin listener is (found on the service, so this works on any build). */
export async function startSecured(env: Record<string, string>, deps: ServiceDeps = {}): Promise<SecuredTbo> {
  const tbo: RunningTbo = await startTbo(env, deps);
  return { url: tbo.url, service: tbo.service, adminUrl: adminUrlOf(tbo.service), close: () => tbo.close() };
}

function portOf(address: unknown): number | undefined {
  return typeof address === 'object' && address !== null && typeof (address as { port?: unknown }).port === 'number'
    ? (address as { port: number }).port
    : undefined;
}

/**
 * The admin listener's URL: `service.adminAddress()` (method or property) as the spec names it,
 * else any other listening server the service holds; undefined when there is none (the old code).
 */
export function adminUrlOf(service: TboService): string | undefined {
  const s = service as unknown as { adminAddress?: unknown };
  const declared = typeof s.adminAddress === 'function' ? (s.adminAddress as () => unknown).call(service) : s.adminAddress;
  let port = portOf(declared);
  if (port === undefined) {
    for (const value of Object.values(service as unknown as Record<string, unknown>)) {
      if (value instanceof Server && value !== service.server && value.listening) port = portOf(value.address());
    }
  }
  return port === undefined ? undefined : `http://127.0.0.1:${port}`;
}

/**
 * `/metrics` text: from the admin listener; from the public port when there is no admin listener
 * (the old code), so a test fails there on what it measures rather than on where metrics live.
 */
export async function metricsText(tbo: SecuredTbo): Promise<string> {
  const res = await fetch(`${tbo.adminUrl ?? tbo.url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** Every sample of a Prometheus exposition, `name{labels}` → value. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Sum of the samples of one metric whose labels contain every `name="value"` given. */
export function sumOf(all: Map<string, number>, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of all) {
    const name = series.split('{')[0];
    if (name !== metric) continue;
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

export async function metric(tbo: SecuredTbo, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(samples(await metricsText(tbo)), name, labels);
}

/** `GET /v1/performance` with a credential (a tenant's key, a JWT or an admin key). */
export async function performanceAs(tbo: SecuredTbo, credential: string): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const res = await fetch(`${tbo.url}/v1/performance`, { headers: { authorization: `Bearer ${credential}` } });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

export interface RawReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

export async function post(baseUrl: string, path: string, headers: Record<string, string>, body: unknown, signal?: AbortSignal): Promise<RawReply> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a stream or not JSON: `text` has it
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** An Anthropic Messages body; `stream` adds `stream: true`. */
export const ask = (content: string, model = 'claude-test', stream = false) => ({
  model,
  max_tokens: 64,
  messages: [{ role: 'user' as const, content }],
  ...(stream ? { stream: true } : {}),
});
export const chat = (content: string, model = 'gpt-test') => ({ model, messages: [{ role: 'user' as const, content }] });

export const anthropicSdk = (baseURL: string, apiKey: string, defaultHeaders: Record<string, string> = {}) =>
  new Anthropic({ apiKey, baseURL, maxRetries: 0, defaultHeaders });
export const openaiSdk = (baseURL: string, apiKey: string, defaultHeaders: Record<string, string> = {}) =>
  new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0, defaultHeaders });

/** The text an Anthropic SSE stream carried (its text deltas, joined). */
export function streamedText(sse: string): string {
  let text = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    try {
      const ev = JSON.parse(line.slice(6)) as { type?: string; delta?: { type?: string; text?: string } };
      if (ev.type === 'content_block_delta' && ev.delta?.type === 'text_delta') text += ev.delta.text ?? '';
    } catch {
      // not JSON
    }
  }
  return text;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A compact HS256 JWS over exactly `payload` (nothing added). */
export function jwt(payload: Record<string, unknown>, secret = JWT_SECRET): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Claims of a well-formed token: issued now, valid for 5 minutes, plus `claims`. */
export const claims = (extra: Record<string, unknown>) => ({ iat: nowSeconds(), exp: nowSeconds() + 300, ...extra });

/** Polls `fn` until true or the deadline; resolves false instead of throwing (assert afterwards). */
export async function poll(fn: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  try {
    await waitFor(fn, { timeoutMs, intervalMs });
    return true;
  } catch {
    return false;
  }
}

/**
 * Real time (so times to first token are measured for real) that a test can move forward, e.g.
 * past a breaker's cool-down or a Retry-After, without waiting.
 */
export class ShiftedClock implements Clock {
  private offset = 0;

  now(): number {
    return performance.now() + this.offset;
  }

  wall(): number {
    return Date.now() + this.offset;
  }

  advance(ms: number): void {
    this.offset += ms;
  }
}
