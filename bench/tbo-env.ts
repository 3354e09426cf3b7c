/** How the bench runs TBO for its CPU-per-request scenarios (`run.ts` and `compare.ts` alike), and its first checks. */
import type { TboProcess } from './processes';
import { CHAT_PATH, chatBody, smallPrompt, type Tags } from './requests';

/** Client credential of the bench tenant (TBO_API_KEYS), and the service's own upstream keys. */
export const TBO_KEY = 'tbo-bench-client-key-0123456789';
export const OPENAI_KEY = 'sk-openai-bench-0123456789';
export const ANTHROPIC_KEY = 'sk-ant-bench-0123456789';

export function tboEnv(upstreamUrl: string, configFile: string, logLevel?: 'warn'): Record<string, string> {
  return {
    TBO_CONFIG_FILE: configFile, // an empty file: defaults, whatever /app/config holds
    ...(logLevel ? { TBO_LOG_LEVEL: logLevel } : {}), // unset = the default, info
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: `${upstreamUrl}/v1`,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: upstreamUrl,
    TBO_API_KEYS: `bench:${TBO_KEY}`,
    // The default (10 000/min per tenant) would answer 429 within seconds at benchmark rates; a
    // huge limit keeps the limiter on the request path without ever rejecting.
    API_RATE_LIMIT: '100000000',
    // The bench's requests sample (temperature 0.2); the hit path it measures is the replay of a
    // stored answer, which the default policy (bypass) never does for sampled requests.
    TBO_CACHE_SAMPLED: 'cache',
  };
}

export async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; cache: string | null; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, cache: res.headers.get('x-tbo-cache'), text: await res.text() };
}

/** A miss, then a hit, for the fixed body; a miss for a distinct one. Throws if TBO disagrees. */
export async function primeAndCheck(tbo: TboProcess, headers: Record<string, string>, hitBody: string, tags: Tags): Promise<void> {
  const expect = async (body: string, cache: string) => {
    const r = await post(`${tbo.url}${CHAT_PATH}`, headers, body);
    if (r.status !== 200 || r.cache !== cache) throw new Error(`${tbo.name}: expected 200 ${cache}, got ${r.status} ${r.cache}: ${r.text.slice(0, 300)}`);
  };
  await expect(hitBody, 'miss');
  await expect(hitBody, 'hit');
  await expect(chatBody(smallPrompt(tags.next())), 'miss');
}
