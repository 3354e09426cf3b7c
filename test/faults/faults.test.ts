/**
 * Fault injection under sustained load. Each scenario runs the real service process
 * (`node service/dist/main.js`, as the container runs it), drives it from a second process (the
 * load generator, `load.ts`) over keep-alive on 127.0.0.1, injects one fault, and measures what a
 * client sees. The run ends with a faults × outcome table (printed, and written to
 * `test/faults/results/`).
 *
 *   npx jest test/faults -w 1        (needs a current build: npm run build --prefix service)
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { readdir } from 'node:fs/promises';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startRedis, stopAll as stopAllRedis } from '../support/redis';
import { spawnTbo, upstreamEnv, type TboProcess } from '../support/tbo';
import { startLoad, successRate, type LoadRun } from './load-client';
import { STREAM_KINDS, type LoadConfig, type LoadCounters, type LoadReport } from './load-protocol';
import { startFaultProxy } from './fault-proxy';
import { ADMIN_KEY, BreakerRecorder, guard, killTbo, metrics, readiness, redisGet, rssBytes, upstreamOutcome } from './observe';
import { Outcomes } from './outcomes';
import { Inspector, inspectorUrl } from '../../bench/inspector';

const outcomes = new Outcomes();
let fake: FakeUpstream;
/** Teardown of the running scenario, newest first; runs even when the scenario failed. */
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await stopAllRedis();
  await fake.close();
  // Straight to stderr: console.warn would add a code frame under the table.
  process.stderr.write(`\nfault injection — faults × outcome (also in test/faults/results/faults.md)\n${outcomes.write()}\n\n`);
});
beforeEach(() => fake.reset());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort: every process is also stopped by pid by its own cleanup
    }
  }
});

/**
 * A service process, stopped by pid (SIGKILL) at the end of the scenario, with a watchdog. It takes
 * the suite's admin key (the global `/v1/performance`); its metrics are on `adminUrl`.
 */
async function service(env: Record<string, string>): Promise<TboProcess> {
  const proc = await spawnTbo({ TBO_ADMIN_KEYS: ADMIN_KEY, ...env });
  const unguard = guard(proc.child.pid as number);
  cleanups.push(() => killTbo(proc, unguard));
  return proc;
}

async function load(config: LoadConfig): Promise<LoadRun> {
  const run = await startLoad(config);
  cleanups.push(() => run.kill());
  return run;
}

/** Named checks: the verdict lists the failed ones, and the test fails with their measurements. */
class Checks {
  private readonly list: { readonly name: string; readonly ok: boolean; readonly detail: string }[] = [];

  check(name: string, ok: boolean, detail: string): void {
    this.list.push({ name, ok, detail });
  }

  get failed(): string[] {
    return this.list.filter((c) => !c.ok).map((c) => `${c.name} (${c.detail})`);
  }

  verdict(): string {
    const failed = this.list.filter((c) => !c.ok).map((c) => c.name);
    return failed.length ? `FAIL: ${failed.join('; ')}` : 'pass';
  }
}

/** Runs a scenario and adds its row to the table, also when it throws. */
async function scenario(
  fault: string,
  run: (checks: Checks, row: { requests: number; failures: number; measurement: string; details: Record<string, unknown> }) => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const checks = new Checks();
  const row = { requests: 0, failures: 0, measurement: '', details: {} as Record<string, unknown> };
  let error: unknown;
  try {
    await run(checks, row);
  } catch (err) {
    error = err;
  }
  const verdict = error === undefined ? checks.verdict() : `ERROR: ${(error as Error).message.split('\n')[0].slice(0, 100)}`;
  outcomes.add({ fault, ...row, verdict, seconds: (Date.now() - started) / 1000 });
  if (error !== undefined) throw error;
  expect(checks.failed).toEqual([]);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sumOf = (m: Map<string, number>, ...keys: string[]) => keys.reduce((s, k) => s + (m.get(k) ?? 0), 0);
const streamsInFlight = (c: LoadCounters) => STREAM_KINDS.reduce((s, k) => s + (c.inFlight[k] ?? 0), 0);
const brief = (r: LoadReport) => ({ sent: r.sent, ok: r.ok, failed: r.failed, statuses: r.statuses, reasons: r.reasons, cache: r.cache, applied: r.applied, models: r.models, rps: r.rps, latency: r.latency, failures: r.failures.slice(0, 10) });

describe('fault injection under load', () => {
  it('Redis SIGKILLed mid-load: no client request fails; the Redis tier is used again within 5 s of the restart', () =>
    scenario('Redis SIGKILL + restart', async (checks, row) => {
      const redis = await startRedis();
      cleanups.push(() => redis.stop('SIGKILL'));
      const env = upstreamEnv(fake.url, { REDIS_URL: redis.url, API_RATE_LIMIT: '1000000' });
      const [a, b] = await Promise.all([service(env), service(env)]);
      await waitFor(async () => (await readiness(a.url)).redis === 'connected' && (await readiness(b.url)).redis === 'connected', { timeoutMs: 10_000, what: 'both instances connected to Redis' });

      const run = await load({
        targets: [a.url, b.url],
        connections: 8,
        rps: 250,
        durationMs: 25_000,
        mix: ['chat', 'messages', 'chat-stream', 'collaborate', 'messages-stream', 'chat'],
        repeatShare: 0.5,
        repeatPool: 40,
        sessions: 20,
        tag: 'redis-kill',
      });
      // Warm: both instances answer, and B already finds A's answers in Redis.
      await waitFor(async () => (await run.snapshot()).ok >= 300 && ((await metrics(b.adminUrl)).get(redisGet('hit')) ?? 0) > 0, { timeoutMs: 10_000, what: 'warm load with Redis hits' });

      const atKill = await run.snapshot();
      const killedAt = Date.now();
      await redis.stop('SIGKILL');
      // The outage is real for both instances (Redis reads fail) and the load goes on.
      await waitFor(
        async () => {
          const [ma, mb] = await Promise.all([metrics(a.adminUrl), metrics(b.adminUrl)]);
          return (await run.snapshot()).ok - atKill.ok >= 400 && (ma.get(redisGet('error')) ?? 0) > 0 && (mb.get(redisGet('error')) ?? 0) > 0;
        },
        { timeoutMs: 10_000, what: 'requests served while Redis is down' },
      );
      const readyDuringOutage = await readiness(a.url);
      const downMs = Date.now() - killedAt;

      await redis.restart(); // same port, empty data set; resolves once it answers PING
      const restartedAt = Date.now();
      // Probe: a fresh prompt through A, then (one step later) the same prompt through B, which has
      // never seen it: a hit on B can only come from Redis. Metrics: Redis reads succeed again on
      // both instances (hits + misses rise while errors stay put between two samples).
      let crossHitMs: number | undefined;
      let metricsBackMs: number | undefined;
      let probes = 0;
      let probeFailures = 0;
      let previous: string | undefined;
      let last = await Promise.all([metrics(a.adminUrl), metrics(b.adminUrl)]);
      const ask = async (url: string, prompt: string) => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-probe', messages: [{ role: 'user', content: prompt }] }),
        });
        const body = (await res.json()) as { choices?: { message: { content: string } }[] };
        if (res.status !== 200 || body.choices?.[0].message.content !== `echo: ${prompt}`) probeFailures++;
        return res.headers.get('x-tbo-cache');
      };
      await waitFor(
        async () => {
          const prompt = `cross-instance probe ${probes++}`;
          await ask(a.url, prompt);
          if (crossHitMs === undefined && previous !== undefined && (await ask(b.url, previous)) === 'hit') crossHitMs = Date.now() - restartedAt;
          previous = prompt;
          const now = await Promise.all([metrics(a.adminUrl), metrics(b.adminUrl)]);
          const back = now.every((m, i) => sumOf(m, redisGet('hit'), redisGet('miss')) > sumOf(last[i], redisGet('hit'), redisGet('miss')) && sumOf(m, redisGet('error')) === sumOf(last[i], redisGet('error')));
          if (metricsBackMs === undefined && back) metricsBackMs = Date.now() - restartedAt;
          last = now;
          return crossHitMs !== undefined && metricsBackMs !== undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50, what: 'a cross-instance hit and error-free Redis reads after the restart' },
      ).catch(() => undefined); // judged below, with the measurements

      // Load continues on the restored tier for a moment.
      const atBack = await run.snapshot();
      await waitFor(async () => (await run.snapshot()).ok - atBack.ok >= 200, { timeoutMs: 10_000, what: 'load after the restart' });
      const report = await run.stop();
      const [endA, endB] = await Promise.all([metrics(a.adminUrl), metrics(b.adminUrl)]);

      row.requests = report.sent + probes * 2;
      row.failures = report.failed + probeFailures;
      row.measurement = `Redis down ${seconds(downMs)}; cross-instance hit ${crossHitMs === undefined ? 'never' : seconds(crossHitMs)} and error-free Redis reads ${metricsBackMs === undefined ? 'never' : seconds(metricsBackMs)} after restart`;
      row.details = {
        load: brief(report),
        redisDownMs: downMs,
        crossHitMs,
        metricsBackMs,
        probes,
        readyDuringOutage,
        redisGets: Object.fromEntries(
          (['hit', 'miss', 'error'] as const).map((r) => [r, { a: endA.get(redisGet(r)) ?? 0, b: endB.get(redisGet(r)) ?? 0 }]),
        ),
      };
      checks.check('no failed client request', report.failed === 0 && probeFailures === 0, `${report.failed} of ${report.sent} load requests and ${probeFailures} probes failed: ${JSON.stringify(report.reasons)}`);
      checks.check('ready (200) while Redis is down', readyDuringOutage.status === 200 && readyDuringOutage.redis !== 'connected', JSON.stringify(readyDuringOutage));
      checks.check('cross-instance hit within 5 s of the restart', crossHitMs !== undefined && crossHitMs <= 5000, `${crossHitMs ?? 'none'} ms`);
      checks.check('error-free Redis reads within 5 s of the restart', metricsBackMs !== undefined && metricsBackMs <= 5000, `${metricsBackMs ?? 'none'} ms`);
    }), 60_000);

  it('upstream 429s (backed off, never retried, breaker closed), then 529/429/500, then stalling before the first token: retries, breaker opens, fallback serves (≥ 99 %), breaker closes on recovery', () =>
    scenario('upstream 529/429/500, then stall', async (checks, row) => {
      const proxy = await startFaultProxy(fake.url);
      cleanups.push(() => proxy.close());
      const svc = await service(
        upstreamEnv(proxy.url, {
          TBO_MAX_RETRIES: '2',
          TBO_MODELS_FAST: 'anthropic:fast-a',
          TBO_MODELS_BALANCED: 'anthropic:balanced-a',
          TBO_MODELS_STRONGEST: 'anthropic:strong-a',
          // The load names strong-a; this scenario is about failing over, which a named model does only when allowed.
          TBO_FALLBACK_NAMED: 'true',
          TBO_BREAKER_WINDOW: '20',
          TBO_BREAKER_COOLDOWN: '1',
          TBO_TTFT_TIMEOUT: '0.5',
          TBO_UPSTREAM_TIMEOUT: '10',
          API_RATE_LIMIT: '0',
        }),
      );
      const recorder = new BreakerRecorder(svc, 'strong-a');
      cleanups.push(() => recorder.stop());
      const run = await load({
        targets: [svc.url],
        connections: 16,
        rps: 120,
        durationMs: 30_000,
        // `/v1/collaborate` at complexity 5 and `/v1/messages` for strong-a: chain strong-a → balanced-a → fast-a.
        mix: ['collaborate', 'messages-stream', 'messages', 'collaborate-stream'],
        repeatShare: 0.2,
        repeatPool: 30,
        tag: 'upstream-faults',
        anthropicModel: 'strong-a',
        complexity: 5,
      });
      await waitFor(async () => (await run.snapshot()).ok >= 60, { timeoutMs: 10_000, what: 'healthy load' });

      // Phase 0: strong-a answers only 429 (Retry-After: 1 s), three back-offs long. A rate limit is
      // not an upstream failure: the breaker stays closed, TBO backs strong-a off for 1 s after
      // each 429 instead of retrying into it, and the fallback serves meanwhile.
      proxy.fail('strong-a', [{ status: 429, retryAfter: 1 }]);
      const limitedAt = Date.now();
      await waitFor(() => (proxy.failed[429] ?? 0) >= 3, { timeoutMs: 10_000, what: 'three 429s from strong-a' });
      proxy.fail('strong-a', undefined);
      const limitEnd = Date.now();
      const limitedCalls = proxy.failingCalls.length;
      const breakerWhileLimited = recorder.samples.filter((s, i, all) => s.t > limitedAt ? s.t <= limitEnd : all[i + 1] === undefined || all[i + 1].t > limitedAt);
      // strong-a answers again once its back-off is over.
      const servedByStrong = (await run.snapshot()).models['strong-a'] ?? 0;
      await waitFor(async () => ((await run.snapshot()).models['strong-a'] ?? 0) > servedByStrong, { timeoutMs: 5_000, what: 'strong-a to answer after its back-off' });

      // Phase 1: strong-a answers 529, 429 (Retry-After: 1 s) and 500, in turn, call by call. 529
      // and 500 are upstream failures: retried, and they open the breaker. A 429 is not: TBO backs
      // strong-a off for its retry-after, never retries into it, and the fallback serves meanwhile.
      proxy.fail('strong-a', [{ status: 529 }, { status: 429, retryAfter: 1 }, { status: 500 }]);
      const errorsAt = Date.now();
      const opened1 = await recorder.first((s) => s.state === 'open', errorsAt, 10_000, 'the breaker to open on upstream errors');
      // Still failing when the cool-down ends: the half-open probe fails and the breaker re-opens.
      const reopened1 = await recorder.first((s) => s.state === 'open' && /probe failed/.test(s.reason ?? ''), opened1.t, 6_000, 'a failed half-open probe');
      proxy.fail('strong-a', undefined);
      const recovered1 = Date.now();
      const closed1 = await recorder.first((s) => s.state === 'closed', recovered1, 8_000, 'the breaker to close after the errors stop');
      const afterErrors = await metrics(svc.adminUrl);

      // Phase 2: strong-a stalls before the first token. Streams only: TBO_TTFT_TIMEOUT bounds the
      // wait for a stream to start; a non-streaming call is bounded by TBO_UPSTREAM_TIMEOUT alone.
      await run.set({ mix: ['collaborate-stream', 'messages-stream'] });
      await waitFor(async () => {
        const s = await run.snapshot();
        return (s.inFlight.collaborate ?? 0) + (s.inFlight.messages ?? 0) === 0;
      }, { timeoutMs: 10_000, what: 'non-streaming requests to finish' });
      proxy.stall('strong-a', true);
      const stallAt = Date.now();
      const opened2 = await recorder.first((s) => s.state === 'open', stallAt, 10_000, 'the breaker to open on stalls');
      const reopened2 = await recorder.first((s) => s.state === 'open' && /probe failed/.test(s.reason ?? ''), opened2.t, 6_000, 'a failed half-open probe (stall)');
      proxy.stall('strong-a', false);
      const recovered2 = Date.now();
      const closed2 = await recorder.first((s) => s.state === 'closed', recovered2, 8_000, 'the breaker to close after the stall ends');
      await waitFor(() => proxy.stalledOpen === 0, { timeoutMs: 5_000, what: 'every stalled upstream call to be cancelled' }).catch(() => undefined);
      const atEnd = await run.snapshot();
      await waitFor(async () => (await run.snapshot()).ok - atEnd.ok >= 40, { timeoutMs: 10_000, what: 'healthy load after recovery' });
      const report = await run.stop();
      await recorder.stop();
      const m = await metrics(svc.adminUrl);

      const statusCounts = Object.fromEntries(['529', '429', '500', 'timeout'].map((o) => [o, m.get(upstreamOutcome('anthropic', o)) ?? 0]));
      const sawActive = recorder.samples.some((s) => s.state === 'open' && s.active === 1);
      const rate = successRate(report);
      // A prompt of its own (`distinct`) that comes back to strong-a after its 429 was retried into
      // the rate limit (a prompt of the repeated pool may legitimately come back in a later request).
      const retriedInto429 = proxy.resentAfter429.filter((body) => / distinct \d+/.test(body));
      // Phase 0: calls that reached strong-a 100-900 ms after a 429 (inside its 1 s back-off): reported only.
      const rateLimitedAt = proxy.failingCalls.slice(0, limitedCalls).map((c) => c.at);
      const callsDuringBackoff = proxy.failingCalls.slice(0, limitedCalls).filter((c) => rateLimitedAt.some((t) => c.at > t + 100 && c.at < t + 900)).length;

      row.requests = report.sent;
      row.failures = report.failed;
      row.measurement =
        `open ${seconds(opened1.t - errorsAt)} after errors, ${seconds(opened2.t - stallAt)} after stall; ` +
        `closed ${seconds(closed1.t - recovered1)} / ${seconds(closed2.t - recovered2)} after recovery; success ${rate.toFixed(2)} %`;
      row.details = {
        load: brief(report),
        successRatePercent: rate,
        upstreamOutcomes: statusCounts,
        upstreamOutcomesAfterErrorPhase: Object.fromEntries(['529', '429', '500'].map((o) => [o, afterErrors.get(upstreamOutcome('anthropic', o)) ?? 0])),
        errorsSentByProxy: proxy.failed,
        promptsFailedMoreThanOnce: proxy.failedAgain,
        promptsResentAfter429: proxy.resentAfter429.length,
        distinctPromptsResentAfter429: retriedInto429.length,
        rateLimitPhase: { ms: limitEnd - limitedAt, callsToStrongA: limitedCalls, callsInsideBackoff: callsDuringBackoff, breaker: breakerWhileLimited.map((s) => s.state) },
        callsToStrongAWhileFailing: proxy.failingCalls.length,
        stalledCalls: proxy.stalled,
        stalledCallsLeftOpen: proxy.stalledOpen,
        breakerTimeline: recorder.samples.map((s) => ({ ...s, t: s.t - errorsAt })),
        reopenedAfterProbeMs: { errors: reopened1.t - opened1.t, stall: reopened2.t - opened2.t },
      };
      checks.check('success rate ≥ 99 %', rate >= 99, `${rate.toFixed(2)} % (${report.failed} of ${report.sent} failed: ${JSON.stringify(report.reasons)})`);
      checks.check('upstream answered 529, 429 and 500', statusCounts['529'] > 0 && statusCounts['429'] > 0 && statusCounts['500'] > 0, JSON.stringify(statusCounts));
      checks.check('stalled calls timed out (TTFT)', statusCounts.timeout > 0 && proxy.stalled > 0, `${statusCounts.timeout} timeouts, ${proxy.stalled} stalled calls`);
      // A retry that would land inside another request's 429 back-off is skipped (the request moves
      // along its chain), so how often strong-a itself sees a second attempt depends on timing: reported only.
      checks.check('retries happened', (report.applied.retried ?? 0) > 0, `${report.applied.retried ?? 0} answers say "retried"; ${proxy.failedAgain} requests failed on strong-a more than once`);
      checks.check('a 429 is never retried', statusCounts['429'] > 0 && retriedInto429.length === 0, `${retriedInto429.length} prompts sent to strong-a again after its 429: ${retriedInto429.slice(0, 2).join(' | ').slice(0, 200)}`);
      checks.check('429s alone leave the breaker closed', breakerWhileLimited.length > 0 && breakerWhileLimited.every((s) => s.state === 'closed'), JSON.stringify(breakerWhileLimited));
      checks.check('the fallback served', (report.applied.fallback ?? 0) > 0 && (report.models['balanced-a'] ?? 0) > 0, `applied ${JSON.stringify(report.applied)}, models ${JSON.stringify(report.models)}`);
      checks.check('tbo_circuit_breaker_active 1 while open', sawActive, JSON.stringify(recorder.samples.slice(0, 6)));
      checks.check('breaker closed within 5 s of each recovery', closed1.t - recovered1 <= 5000 && closed2.t - recovered2 <= 5000, `${closed1.t - recovered1} ms, ${closed2.t - recovered2} ms`);
      checks.check('every stalled upstream call was cancelled', proxy.stalledOpen === 0, `${proxy.stalledOpen} of ${proxy.stalled} still open`);
    }), 60_000);

  it('SIGTERM while streams are in flight under load: every in-flight stream completes, exit 0', () =>
    scenario('SIGTERM during streams', async (checks, row) => {
      fake.setStreamChunkDelay(60); // about 1 s per live stream
      const drainMs = 10_000;
      const svc = await service(upstreamEnv(fake.url, { TBO_DRAIN_TIMEOUT: String(drainMs / 1000), API_RATE_LIMIT: '0' }));
      const run = await load({
        targets: [svc.url],
        connections: 24,
        durationMs: 20_000,
        mix: ['messages-stream', 'chat-stream', 'collaborate-stream', 'messages-stream', 'chat'],
        repeatShare: 0.3,
        repeatPool: 10,
        padding: 60,
        tag: 'sigterm',
        record: true,
      });
      await waitFor(async () => {
        const s = await run.snapshot();
        return s.ok >= 40 && streamsInFlight(s) >= 12;
      }, { timeoutMs: 10_000, what: 'streams in flight' });

      const signalledAt = Date.now();
      svc.child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
      const code = await Promise.race([svc.exited, timeout]);
      const exitMs = Date.now() - signalledAt;
      const report = await run.stop();

      const inFlight = report.records.filter((r) => r.t0 < signalledAt && r.te >= signalledAt);
      const streams = inFlight.filter((r) => STREAM_KINDS.includes(r.kind));
      const startedStreams = streams.filter((r) => r.th !== undefined && r.th < signalledAt);
      const lost = inFlight.filter((r) => !r.ok);
      // The last answer the service gave (streams that began during the drain included).
      const lastAnswerMs = Math.max(0, ...report.records.filter((r) => r.ok).map((r) => r.te - signalledAt));
      const after = report.records.filter((r) => r.t0 >= signalledAt);
      const afterReasons: Record<string, number> = {};
      for (const r of after) afterReasons[r.ok ? 'ok' : (r.reason ?? '?')] = (afterReasons[r.ok ? 'ok' : (r.reason ?? '?')] ?? 0) + 1;

      row.requests = report.records.filter((r) => r.t0 < signalledAt).length;
      row.failures = report.records.filter((r) => r.t0 < signalledAt && !r.ok).length;
      row.measurement = `${inFlight.length} in flight at SIGTERM (${streams.length} streams, ${startedStreams.length} mid-body): ${inFlight.length - lost.length} complete; exit ${code} after ${seconds(exitMs)}`;
      row.details = {
        load: brief(report),
        inFlight: inFlight.length,
        streamsInFlight: streams.length,
        streamsMidBody: startedStreams.length,
        lost: lost.map((r) => ({ kind: r.kind, reason: r.reason, sentBeforeSignalMs: signalledAt - r.t0, headers: r.th !== undefined })),
        exitCode: code,
        exitMs,
        lastAnswerMs,
        afterSignal: afterReasons,
      };
      checks.check('streams were in flight', streams.length >= 10 && startedStreams.length >= 5, `${streams.length} streams, ${startedStreams.length} mid-body`);
      checks.check('every in-flight request completes', lost.length === 0, `${lost.length} of ${inFlight.length} lost: ${JSON.stringify(row.details.lost).slice(0, 300)}`);
      checks.check('exit 0', code === 0, `code ${code} after ${exitMs} ms`);
      checks.check('exit before TBO_DRAIN_TIMEOUT once the work is done', exitMs < drainMs - 500, `exit after ${exitMs} ms, last answer ended ${lastAnswerMs} ms after SIGTERM, drain timeout ${drainMs} ms`);
    }), 45_000);

  it('memory stays bounded over 3 rounds of load (heap retained after full GCs, and RSS, per round)', () =>
    scenario('memory over 3 rounds', async (checks, row) => {
      const cacheSize = 500;
      // The inspector forces full collections between rounds (no session while load runs), so what
      // is compared is memory retained, not garbage V8 has not collected yet or heap it grew into.
      const svc = await service(upstreamEnv(fake.url, { TBO_CACHE_SIZE: String(cacheSize), API_RATE_LIMIT: '0', NODE_OPTIONS: '--inspect=127.0.0.1:0' }));
      const retainedBytes = async () => {
        const inspector = await Inspector.connect(inspectorUrl(svc.output()));
        try {
          return await inspector.heapUsedAfterGc();
        } finally {
          inspector.close();
        }
      };
      const pid = svc.child.pid as number;
      const mib = (bytes: number | undefined) => Math.round(((bytes ?? 0) / 2 ** 20) * 10) / 10;
      const rounds: { round: string; sent: number; failed: number; rps: number; rssMiB: number; retainedMiB: number; heapTotalMiB: number; externalMiB: number; cacheEntries: number }[] = [];
      for (const [round, requests] of [['warm-up', 3000], ['1', 2500], ['2', 2500], ['3', 2500]] as const) {
        const run = await load({
          targets: [svc.url],
          connections: 16,
          maxRequests: requests,
          durationMs: 8_000, // bounded on a slow machine too
          mix: ['chat', 'messages', 'chat-stream', 'collaborate', 'messages-stream'],
          repeatShare: 0.2,
          repeatPool: 50,
          padding: 300,
          sessions: 50,
          tag: `memory round ${round}`,
        });
        const report = await run.finished;
        const retained = await retainedBytes();
        const [rss, m, ready] = await Promise.all([rssBytes(pid), metrics(svc.adminUrl), readiness(svc.url)]);
        rounds.push({
          round,
          sent: report.sent,
          failed: report.failed,
          rps: report.rps,
          rssMiB: mib(rss),
          retainedMiB: mib(retained),
          heapTotalMiB: mib(m.get('nodejs_heap_size_total_bytes')),
          externalMiB: mib(m.get('nodejs_external_memory_bytes')),
          cacheEntries: ready.entries,
        });
      }
      const counted = rounds.slice(1);
      const [r1, , r3] = counted;
      const growth = (r3.retainedMiB / r1.retainedMiB - 1) * 100;
      const rssGrowth = (r3.rssMiB / r1.rssMiB - 1) * 100;
      row.requests = counted.reduce((s, r) => s + r.sent, 0);
      row.failures = counted.reduce((s, r) => s + r.failed, 0);
      const pct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} %`;
      row.measurement = `heap retained MiB ${counted.map((r) => r.retainedMiB).join(' / ')} (round 3 ${pct(growth)}); RSS MiB ${counted.map((r) => r.rssMiB).join(' / ')} (warm-up ${rounds[0].rssMiB}; round 3 ${pct(rssGrowth)})`;
      row.details = { rounds, cacheSize, retainedGrowthPercent: growth, rssGrowthPercent: rssGrowth };
      checks.check('no failed request', rounds.every((r) => r.failed === 0), JSON.stringify(rounds.map((r) => r.failed)));
      checks.check('heap retained after round 3 ≤ 120 % of round 1', growth <= 20, `${r1.retainedMiB} → ${r3.retainedMiB} MiB`);
      // RSS only grows when the heap does (it is not returned to the OS): a looser bound catches what the heap misses (buffers, native memory).
      checks.check('RSS of round 3 ≤ 150 % of round 1', rssGrowth <= 50, `${r1.rssMiB} → ${r3.rssMiB} MiB`);
      checks.check('cache entries within TBO_CACHE_SIZE', rounds.every((r) => r.cacheEntries <= cacheSize), JSON.stringify(rounds.map((r) => r.cacheEntries)));
    }), 60_000);

  it('idle connections that never send a byte: excess refused at once, the rest cut after TBO_FIRST_BYTE_TIMEOUT, /health within 1 s from a fresh connection', () =>
    scenario('idle connections (never a byte)', async (checks, row) => {
      const maxConnections = 64;
      const firstByteMs = 1000;
      const attackers = 300; // well under `ulimit -n` for the test process on a 2-core machine
      const svc = await service(upstreamEnv(fake.url, { TBO_MAX_CONNECTIONS: String(maxConnections), TBO_FIRST_BYTE_TIMEOUT: String(firstByteMs / 1000), TBO_ADMIN_PORT: '0' }));
      const pid = svc.child.pid as number;
      const port = Number(new URL(svc.url).port);
      const fdsBefore = await fdCount(pid);

      // The attack: connections that never send a byte. Only the server may close them.
      const sockets: net.Socket[] = [];
      cleanups.push(() => sockets.forEach((s) => s.destroy()));
      const closedAt: number[] = [];
      const startedAt = Date.now();
      await Promise.all(
        Array.from({ length: attackers }, () =>
          new Promise<void>((resolve) => {
            const socket = net.connect(port, '127.0.0.1');
            sockets.push(socket);
            socket.on('error', () => undefined); // a reset is the server closing it too
            socket.once('connect', () => resolve());
            socket.once('close', () => {
              closedAt.push(Date.now() - startedAt);
              resolve();
            });
          }),
        ),
      );
      const connectedMs = Date.now() - startedAt;
      // Connections over TBO_MAX_CONNECTIONS are closed as they arrive.
      const refusedAtOnce = await until(() => closedAt.length >= attackers - maxConnections, 500);
      const refusedMs = Date.now() - startedAt;
      const fdsUnderAttack = await fdCount(pid);

      // Fresh connections ask /health every 50 ms until one answers (the attackers hold every slot until the cut).
      let probes = 0;
      let healthyAfterMs: number | undefined;
      await until(async () => {
        probes++;
        if ((await healthFromFreshConnection(svc.url, 1000)).status !== 200) return false;
        healthyAfterMs = Date.now() - startedAt;
        return true;
      }, firstByteMs + 3000, 50);
      const allCut = await until(() => closedAt.length === attackers, firstByteMs + 3000);
      const cutMs = Math.max(0, ...closedAt);
      // Once the attackers are cut: /health from a fresh connection, timed.
      const after = await healthFromFreshConnection(svc.url, 1000);
      const alive = svc.child.exitCode === null && svc.child.signalCode === null;

      row.requests = attackers + probes + 1;
      row.failures = (after.status === 200 ? 0 : 1);
      row.measurement = `${attackers} idle: ${closedAt.filter((t) => t <= refusedMs).length} refused at once, all closed ${allCut ? `after ${(cutMs / 1000).toFixed(2)} s` : `? (${closedAt.length} of ${attackers} after ${((firstByteMs + 3000) / 1000).toFixed(0)} s)`}; /health ${after.status} in ${after.ms} ms after the cut; fds +${fdsUnderAttack - fdsBefore} under attack`;
      row.details = { attackers, maxConnections, firstByteMs, connectedMs, refusedMs, closedByServer: closedAt.length, cutMs, healthyAfterMs, probes, healthAfterCut: after, fdsBefore, fdsUnderAttack };
      checks.check('connections over TBO_MAX_CONNECTIONS closed at once', refusedAtOnce, `${closedAt.length} of ${attackers} closed ${refusedMs} ms after the attack started`);
      checks.check('service fds bounded by TBO_MAX_CONNECTIONS under attack', fdsUnderAttack - fdsBefore <= maxConnections + 16, `${fdsBefore} → ${fdsUnderAttack}`);
      checks.check('every attacker closed by the server within first-byte timeout + 1 s', allCut && cutMs <= firstByteMs + 1000, `${closedAt.length} of ${attackers} closed, last after ${cutMs} ms`);
      checks.check('/health from a fresh connection within 1 s after the cut', after.status === 200 && after.ms < 1000, `${after.status} in ${after.ms} ms`);
      checks.check('/health answered again within first-byte timeout + 1 s of the attack', healthyAfterMs !== undefined && healthyAfterMs <= firstByteMs + 1000, `${healthyAfterMs ?? 'never'} ms`);
      checks.check('the service survived', alive, `exit ${svc.child.exitCode} signal ${svc.child.signalCode}`);
    }), 30_000);
});

/** Open file descriptors of a process (entries of /proc/<pid>/fd). */
async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Polls until `fn` is true or the deadline; false at the deadline (the scenario records it rather than throwing). */
async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  try {
    await waitFor(fn, { timeoutMs, intervalMs });
    return true;
  } catch {
    return false;
  }
}

/** GET /health on a new connection (no keep-alive pool); status 0 when refused, reset or over `timeoutMs`. */
function healthFromFreshConnection(url: string, timeoutMs: number): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
      res.once('error', () => resolve({ status: 0, ms: Date.now() - started }));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve({ status: 0, ms: Date.now() - started }));
  });
}
