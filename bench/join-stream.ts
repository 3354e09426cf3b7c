/**
 * First-byte latency of a streaming client that arrives while a non-streamed call for the same
 * request is running (issue 11). TBO does not coalesce a stream onto a non-streamed call (that call
 * has nothing to relay before the whole answer is done): the stream starts a streamed call of its
 * own. Measured against a fake upstream timed like a generating model (time to first byte, frames
 * some ms apart, a JSON answer only once the whole generation is done), next to a stream alone, a
 * stream joining a running stream and a JSON request joining a running JSON call. For each joiner,
 * "JSON call left" is how long the non-streamed call still ran after the joiner arrived: the first
 * byte it would have waited for had it joined that call.
 */
import { join } from 'node:path';
import { summarize, type LatencySummary } from './load';
import { spawnBenchServer, spawnTbo, stopPid, type BenchServer } from './processes';
import { fmt, renderTable } from './table';

const KEY = 'bench-join-key-0123456789';
const PROVIDERS = ['openai', 'anthropic'] as const;
type Provider = (typeof PROVIDERS)[number];
const CASES = ['stream alone', 'stream joins a running JSON call', 'stream joins a running stream', 'JSON joins a running JSON call'] as const;
type Case = (typeof CASES)[number];

export interface JoinCase {
  readonly provider: Provider;
  readonly case: Case;
  readonly runs: number;
  /** x-tbo-cache of the measured request, counted. */
  readonly cache: Readonly<Record<string, number>>;
  /** From the measured request's start to the first byte of its body. */
  readonly firstByte: LatencySummary;
  /** From the measured request's start to its last byte. */
  readonly total: LatencySummary;
  /** For joiners of a JSON call: how long that call still ran after the joiner started. */
  readonly jsonCallLeft?: LatencySummary;
}

export interface JoinStreamResults {
  readonly upstream: { readonly firstByteMs: number; readonly frameGapMs: number; readonly jsonExtraMs: number; readonly answerChars: number };
  readonly cases: readonly JoinCase[];
  readonly problems: readonly string[];
  readonly method: string;
}

interface Timed {
  readonly cache: string | null;
  readonly status: number;
  readonly firstByteMs: number;
  readonly totalMs: number;
  readonly endedAt: number;
}

async function timedPost(url: string, body: unknown, firstByte?: () => void): Promise<Timed> {
  const began = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let first: number | undefined;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    if (first === undefined) {
      first = performance.now();
      firstByte?.();
    }
  }
  const endedAt = performance.now();
  return { cache: res.headers.get('x-tbo-cache'), status: res.status, firstByteMs: (first ?? endedAt) - began, totalMs: endedAt - began, endedAt };
}

const REQUEST: Record<Provider, { readonly path: string; body(prompt: string, stream: boolean): Record<string, unknown> }> = {
  // temperature 0: a deterministic request, shared under every TBO_CACHE_SAMPLED policy.
  openai: { path: '/v1/chat/completions', body: (p, stream) => ({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: p }], ...(stream ? { stream } : {}) }) },
  anthropic: { path: '/v1/messages', body: (p, stream) => ({ model: 'claude-haiku-4-5', max_tokens: 512, temperature: 0, messages: [{ role: 'user', content: p }], ...(stream ? { stream } : {}) }) },
};

async function upstreamCalls(upstream: BenchServer): Promise<number> {
  return (await upstream.stats()).counters.calls ?? 0;
}

/** Polls the upstream's call count until it passed `n` (the leader's call reached the upstream). */
async function untilCalls(upstream: BenchServer, n: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  while ((await upstreamCalls(upstream)) < n) {
    if (performance.now() > deadline) throw new Error(`join-stream: the upstream never saw call ${n}`);
  }
}

export interface JoinStreamOptions {
  /** Runs per case. @default 8 */
  readonly runs?: number;
  /** Another build's `dist/main.js` (e.g. one from before this step existed). @default this checkout's */
  readonly main?: string;
  readonly log?: (line: string) => void;
}

export async function runJoinStreamBench(logDir: string, opts: JoinStreamOptions = {}): Promise<JoinStreamResults> {
  const runs = opts.runs ?? 8;
  const firstByteMs = 150;
  const frameGapMs = 30;
  const filler = 'a streamed answer long enough to take a while, '.repeat(4);
  const answerChars = `echo: ${filler}`.length + 40;
  // The fake sends an answer in pieces of at most 8 characters: a JSON answer waits for all of them.
  const jsonExtraMs = Math.ceil(answerChars / 8) * frameGapMs;
  const upstream = await spawnBenchServer('upstream-generation', 'generation-upstream-server.ts', {
    BENCH_UPSTREAM_LATENCY_MS: String(firstByteMs),
    BENCH_STREAM_CHUNK_MS: String(frameGapMs),
    BENCH_JSON_LATENCY_MS: String(jsonExtraMs),
  });
  const env = {
    OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `${upstream.url}/v1`, ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: upstream.url,
    TBO_API_KEYS: `bench:${KEY}`, API_RATE_LIMIT: '100000000', TBO_CONFIG_FILE: '', TBO_LOG_LEVEL: 'warn',
  };
  const tbo = await spawnTbo('tbo-join-stream', env, join(logDir, 'tbo-join-stream.log'), opts.main ? { main: opts.main } : {});
  const problems: string[] = [];
  const cases: JoinCase[] = [];
  let n = 0;
  try {
    for (const provider of PROVIDERS) {
      const { path, body } = REQUEST[provider];
      const url = `${tbo.url}${path}`;
      for (const name of CASES) {
        const measured: Timed[] = [];
        const left: number[] = [];
        for (let i = 0; i < runs; i++) {
          const prompt = `join ${++n} (${provider}, ${name}): ${filler}`.slice(0, answerChars - 6);
          const calls = await upstreamCalls(upstream);
          if (name === 'stream alone') {
            measured.push(await timedPost(url, body(prompt, true)));
            continue;
          }
          const leaderStreams = name === 'stream joins a running stream';
          let leaderFirstByte!: () => void;
          const leaderStarted = new Promise<void>((resolve) => (leaderFirstByte = resolve));
          const leader = timedPost(url, body(prompt, leaderStreams), leaderFirstByte);
          // The joiner arrives once the leader's call is running: mid-stream for a streaming leader.
          await (leaderStreams ? leaderStarted : untilCalls(upstream, calls + 1));
          const joinedAt = performance.now();
          const joiner = await timedPost(url, body(prompt, name !== 'JSON joins a running JSON call'));
          const led = await leader;
          measured.push(joiner);
          if (!leaderStreams) left.push(led.endedAt - joinedAt);
          if (led.status !== 200 || joiner.status !== 200) problems.push(`${provider}, ${name}: HTTP ${led.status} / ${joiner.status}`);
        }
        const cache: Record<string, number> = {};
        for (const m of measured) cache[String(m.cache)] = (cache[String(m.cache)] ?? 0) + 1;
        const expected = name === 'stream alone' || name === 'stream joins a running JSON call' ? 'miss' : 'coalesced';
        if (cache[expected] !== runs) problems.push(`${provider}, ${name}: expected ${runs} × ${expected}, got ${JSON.stringify(cache)}`);
        cases.push({
          provider,
          case: name,
          runs,
          cache,
          firstByte: summarize(measured.map((m) => m.firstByteMs)),
          total: summarize(measured.map((m) => m.totalMs)),
          ...(left.length ? { jsonCallLeft: summarize(left) } : {}),
        });
        opts.log?.(`join-stream: ${provider}, ${name}: first byte p50 ${fmt(cases.at(-1)?.firstByte.p50Ms, 1)} ms`);
      }
    }
  } finally {
    await stopPid(tbo.pid);
    await stopPid(upstream.pid);
  }
  return {
    upstream: { firstByteMs, frameGapMs, jsonExtraMs, answerChars },
    cases,
    problems,
    method: `TBO (node service/dist/main.js, TBO_LOG_LEVEL=warn) against the fake upstream in its own process: ${firstByteMs} ms to first byte, stream frames ${frameGapMs} ms apart, a JSON answer ${jsonExtraMs} ms after that (the whole generation of a ~${answerChars}-character answer); ${runs} runs per case, one request at a time, distinct prompts per run, temperature 0; a joiner starts once the leader's call reached the upstream (JSON leader, polled through the upstream's call count) or once the leader got its first byte (streaming leader); first byte = first body chunk read by fetch`,
  };
}

export function joinStreamTable(r: JoinStreamResults): string {
  return renderTable(
    ['provider', 'case', 'runs', 'x-tbo-cache', 'first byte p50 ms', 'p90 ms', 'max ms', 'total p50 ms', 'JSON call left p50 ms'],
    r.cases.map((c) => [
      c.provider, c.case, String(c.runs), Object.entries(c.cache).map(([k, v]) => `${k} ${v}`).join(', '),
      fmt(c.firstByte.p50Ms, 1), fmt(c.firstByte.p90Ms, 1), fmt(c.firstByte.maxMs, 1), fmt(c.total.p50Ms, 1), fmt(c.jsonCallLeft?.p50Ms, 1),
    ]),
    ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r'],
  );
}
