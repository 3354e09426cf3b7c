/**
 * Resident memory with large request bodies in flight (issue 11): 100 concurrent `/v1/messages`
 * requests, each with an ~8 MB base64 image block, against a fake upstream that answers after
 * ~3 s, so every body is held at once. The service's VmRSS is sampled every 50 ms
 * (/proc/<pid>/status). Two fresh TBOs: one with a body budget (`TBO_MAX_INFLIGHT_BODY_BYTES`)
 * large enough for all 100 (what they cost: peak − baseline ÷ their total size, the factor
 * lib/core/sizing.ts `BODY_MEMORY_FACTOR` assumes), one with the budget the constructs give a
 * 1 GiB instance (how many are turned away with 503, and the peak staying under 1 GiB).
 */
import { randomBytes } from 'node:crypto';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { inflightBodyBudgetBytes, resolveServiceConfig } from '../lib/core';
import { procStatusBytes } from './cpu';
import { spawnBenchServer, spawnTbo, stopPid, type BenchServer } from './processes';
import { fmt, renderTable } from './table';
import { TBO_KEY, tboEnv } from './tbo-env';

export const BIG_BODY_REQUESTS = 100;
/** Length of each body's base64 image data (6 000 000 random bytes). */
export const BIG_BODY_IMAGE_CHARS = 8_000_000;
export const BIG_BODY_UPSTREAM_LATENCY_MS = 3000;
export const BIG_BODY_SAMPLE_MS = 50;
/** Large enough for all 100 bodies at once. */
export const UNBOUNDED_BUDGET_BYTES = 2 * 1024 ** 3;
/** `TBO_MAX_BODY_BYTES` of the unbounded run (≥ 9 MiB: an 8 MB image plus its JSON). */
export const BIG_BODY_MAX_BODY_BYTES = 16 * 1024 ** 2;
const INSTANCE_MEMORY_BYTES = 1024 ** 3;

export interface BigBodyRun {
  readonly name: string;
  readonly maxBodyBytes: number;
  readonly inflightBudgetBytes: number;
  readonly requests: number;
  readonly bodyBytes: number;
  readonly totalBodyBytes: number;
  readonly rssBaselineBytes: number;
  readonly rssPeakBytes: number;
  /** VmHWM at the end (the kernel's own peak, between samples too). */
  readonly vmHwmBytes: number;
  /** (peak − baseline) ÷ total body bytes of the requests TBO accepted (all of them when none got 503). */
  readonly bytesPerBodyByte: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** 503 answers that carried Retry-After. */
  readonly retryAfter503: number;
  readonly wallMs: number;
  readonly samples: number;
}

export interface BigBodiesResult {
  readonly upstreamLatencyMs: number;
  readonly sampleMs: number;
  readonly unbounded: BigBodyRun;
  readonly instance1GiB: BigBodyRun;
  readonly problems: readonly string[];
}

/** The body, in three parts so 100 of them share one copy of the image in this process. */
function bodyParts(tag: string, image: Buffer): readonly Buffer[] {
  const head = `{"model":"claude-haiku-4-5","max_tokens":256,"temperature":0,"messages":[{"role":"user","content":[{"type":"text","text":"Ticket ${tag}: what does this screenshot show?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"`;
  return [Buffer.from(head), image, Buffer.from('"}}]}]}')];
}

function send(url: string, parts: readonly Buffer[], agent: Agent): Promise<{ status: number; retryAfter: boolean }> {
  const length = parts.reduce((a, p) => a + p.length, 0);
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(length), 'x-api-key': TBO_KEY, 'anthropic-version': '2023-06-01' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] !== undefined }));
        res.on('error', () => resolve({ status: -1, retryAfter: false }));
      },
    );
    // A 503 may come before the whole body was sent: the socket then closes under the writes.
    req.on('error', () => resolve({ status: -1, retryAfter: false }));
    for (const p of parts) req.write(p);
    req.end();
  });
}

async function runOnce(name: string, upstream: BenchServer, configFile: string, logPath: string, maxBodyBytes: number, budget: number, image: Buffer): Promise<BigBodyRun> {
  const tbo = await spawnTbo(name, { ...tboEnv(upstream.url, configFile), TBO_MAX_BODY_BYTES: String(maxBodyBytes), TBO_MAX_INFLIGHT_BODY_BYTES: String(budget) }, logPath);
  try {
    const url = `${tbo.url}/v1/messages`;
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    // One small request first, so the baseline includes what the first request loads anyway.
    const warm = await send(url, bodyParts('warm-up', Buffer.from(randomBytes(3000).toString('base64'))), agent);
    if (warm.status !== 200) throw new Error(`${name}: warm-up answered ${warm.status}`);
    const rssBaseline = procStatusBytes(tbo.pid, 'VmRSS');
    let peak = rssBaseline;
    let samples = 0;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, procStatusBytes(tbo.pid, 'VmRSS'));
        samples++;
      } catch {
        // the process is gone: the statuses will say so
      }
    }, BIG_BODY_SAMPLE_MS);
    const started = performance.now();
    const bodies = Array.from({ length: BIG_BODY_REQUESTS }, (_, i) => bodyParts(`${name}-${i}-${randomBytes(4).toString('hex')}`, image));
    const answers = await Promise.all(bodies.map((parts) => send(url, parts, agent)));
    const wallMs = performance.now() - started;
    clearInterval(timer);
    peak = Math.max(peak, procStatusBytes(tbo.pid, 'VmRSS'));
    const hwm = procStatusBytes(tbo.pid, 'VmHWM');
    agent.destroy();
    const statuses: Record<string, number> = {};
    for (const a of answers) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
    const bodyBytes = bodies[0].reduce((a, p) => a + p.length, 0);
    const accepted = answers.filter((a) => a.status === 200).length;
    return {
      name,
      maxBodyBytes,
      inflightBudgetBytes: budget,
      requests: BIG_BODY_REQUESTS,
      bodyBytes,
      totalBodyBytes: bodyBytes * BIG_BODY_REQUESTS,
      rssBaselineBytes: rssBaseline,
      rssPeakBytes: peak,
      vmHwmBytes: hwm,
      bytesPerBodyByte: (peak - rssBaseline) / (bodyBytes * Math.max(1, accepted)),
      statuses,
      retryAfter503: answers.filter((a) => a.status === 503 && a.retryAfter).length,
      wallMs,
      samples,
    };
  } finally {
    await stopPid(tbo.pid);
  }
}

/** Both runs, one fresh TBO each, against one slow fake upstream (stopped afterwards). */
export async function runBigBodiesBench(tmp: string, configFile: string, log: (line: string) => void): Promise<BigBodiesResult> {
  const upstream = await spawnBenchServer('upstream-slow', 'slow-upstream-server.ts', { BENCH_UPSTREAM_LATENCY_MS: String(BIG_BODY_UPSTREAM_LATENCY_MS) });
  try {
    const image = Buffer.from(randomBytes((BIG_BODY_IMAGE_CHARS / 4) * 3).toString('base64'));
    const problems: string[] = [];
    log(`big bodies: ${BIG_BODY_REQUESTS} concurrent ${fmt(BIG_BODY_IMAGE_CHARS / 1e6, 0)} MB image bodies, budget ${UNBOUNDED_BUDGET_BYTES} bytes`);
    const unbounded = await runOnce('tbo-big-bodies', upstream, configFile, join(tmp, 'tbo-big-bodies.log'), BIG_BODY_MAX_BODY_BYTES, UNBOUNDED_BUDGET_BYTES, image);
    if (unbounded.statuses['200'] !== BIG_BODY_REQUESTS) problems.push(`unbounded budget: expected ${BIG_BODY_REQUESTS} × 200, got ${JSON.stringify(unbounded.statuses)}`);
    const config = resolveServiceConfig();
    const budget = inflightBodyBudgetBytes(config, INSTANCE_MEMORY_BYTES);
    log(`big bodies: the same against a TBO with the 1 GiB instance's budget (${budget} bytes, TBO_MAX_BODY_BYTES ${config.maxBodyBytes})`);
    const instance1GiB = await runOnce('tbo-big-bodies-1gib', upstream, configFile, join(tmp, 'tbo-big-bodies-1gib.log'), config.maxBodyBytes, budget, image);
    const other = Object.keys(instance1GiB.statuses).filter((s) => s !== '200' && s !== '503');
    if (other.length) problems.push(`1 GiB budget: statuses other than 200/503: ${JSON.stringify(instance1GiB.statuses)}`);
    if ((instance1GiB.statuses['503'] ?? 0) !== instance1GiB.retryAfter503) problems.push('1 GiB budget: a 503 without Retry-After');
    return { upstreamLatencyMs: BIG_BODY_UPSTREAM_LATENCY_MS, sampleMs: BIG_BODY_SAMPLE_MS, unbounded, instance1GiB, problems };
  } finally {
    await stopPid(upstream.pid);
  }
}

const MiB = (b: number) => fmt(b / 1024 ** 2, 0);

export function renderBigBodies(r: BigBodiesResult): string {
  const row = (label: string, x: BigBodyRun) => [
    label,
    MiB(x.inflightBudgetBytes),
    `${x.requests} × ${fmt(x.bodyBytes / 1e6, 2)} MB`,
    MiB(x.rssBaselineBytes),
    MiB(x.rssPeakBytes),
    MiB(x.vmHwmBytes),
    MiB(x.rssPeakBytes - x.rssBaselineBytes),
    fmt(x.bytesPerBodyByte, 2),
    fmt((x.rssPeakBytes - x.rssBaselineBytes) / x.inflightBudgetBytes, 2),
    Object.entries(x.statuses).map(([s, n]) => `${n} × ${s}`).join(', '),
    fmt(x.wallMs / 1000, 1),
  ];
  return renderTable(
    ['TBO body budget', 'budget MiB', 'bodies', 'RSS baseline MiB', 'RSS peak MiB', 'VmHWM MiB', 'peak − baseline MiB', '÷ accepted body bytes', '÷ budget', 'statuses', 'wall s'],
    [row('large (all 100 fit)', r.unbounded), row('1 GiB instance default', r.instance1GiB)],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
  );
}

/** The BENCHMARKS.md section. */
export function bigBodiesMarkdown(r: BigBodiesResult): string[] {
  return [
    `## Resident memory with ${r.unbounded.requests} concurrent ${fmt(BIG_BODY_IMAGE_CHARS / 1e6, 0)} MB bodies`,
    '',
    `${r.unbounded.requests} concurrent \`/v1/messages\` requests, each with one base64 image block, against a fake upstream answering after ${r.upstreamLatencyMs / 1000} s, so all bodies are held`,
    `at once; TBO's VmRSS sampled every ${r.sampleMs} ms. Each run is a fresh TBO: first with a body budget (\`TBO_MAX_INFLIGHT_BODY_BYTES\`) all of them fit in`,
    `(\`TBO_MAX_BODY_BYTES\` ${MiB(r.unbounded.maxBodyBytes)} MiB), then with the budget the constructs give a 1 GiB instance (lib/core \`inflightBodyBudgetBytes\`,`,
    'default settings). "÷ accepted body bytes" is peak − baseline over the bodies answered 200: the memory per body byte that',
    'lib/core/sizing.ts `BODY_MEMORY_FACTOR` (3) assumes; with 503s it also carries what the rejected requests cost.',
    '',
    '```',
    renderBigBodies(r),
    '```',
    '',
  ];
}
