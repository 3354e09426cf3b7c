/** Writes report/results/latest.json and report/results/latency.svg. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { latencyChart } from './chart';
import { jsonWithRows } from './json-file';
import { setupLine } from './print';
import { runTitle } from './render';
import type { ReportResult } from './result';
import * as scenario from './scenario';
import { DIRECT } from './targets';
import { KIND_MEANING } from './workload';

/** One colour per TBO run, in the order of TBO_RUNS (cycled), and the direct run's. */
const TBO_COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#17becf'] as const;
const DIRECT_COLOR = '#e6550d';

function chart(r: ReportResult): string {
  const { UPSTREAM_LATENCY: lat, THINK_SECONDS: think, TIME_SCALE: scale } = scenario;
  const seconds = (run: string) => (r.turns[run] ?? []).filter((t) => t.ok).map((t) => t.latencyMs / 1000);
  return latencyChart(
    [
      ...r.outcome.tboRuns.map((x, i) => ({ label: `TBO ${runTitle(x.spec)}`, color: TBO_COLORS[i % TBO_COLORS.length], seconds: seconds(x.spec.label) })),
      { label: 'direct to upstream', color: DIRECT_COLOR, seconds: seconds(DIRECT) },
    ],
    {
      title: 'Turn latency: through TBO, per cache policy, vs direct to the upstream',
      subtitle: `Same scripted replay, same upstream draws. ${r.plans.length} sessions × ${scenario.TURNS_PER_SESSION} turns, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC.`,
      band: { from: lat.minSeconds, to: lat.maxSeconds, label: `upstream latency range (${lat.minSeconds}–${lat.maxSeconds} s)` },
      footnote: [
        `Think time scaled ×${scale} (${think.min * scale}–${think.max * scale} s); upstream latency not scaled. TBO runs are named by TBO_CACHE_SAMPLED; "t=0": requests`,
        'at temperature 0, all others without one (sampled). Turns at a few ms are cache hits; coalesced answers wait for a call already in',
        'flight, so they land anywhere up to its latency. Every number is from this run: report/results/latest.json.',
      ],
    },
  );
}

function json(r: ReportResult): string {
  const { TIME_SCALE: scale, THINK_SECONDS: think } = scenario;
  const head = {
    report: 'tbo-honest-bandwidth',
    startedAt: r.startedAt,
    durationSeconds: r.durationSeconds,
    replaySeconds: r.replaySeconds,
    valid: r.problems.length === 0,
    problems: r.problems,
    warnings: r.warnings,
    machine: r.machine,
    scenario: {
      description: setupLine(r.plans.length),
      seed: scenario.SEED,
      timeScale: scale,
      thinkSecondsReal: think,
      thinkSecondsScaled: { min: think.min * scale, max: think.max * scale },
      retryPauseSecondsScaled: scenario.RETRY_PAUSE_SECONDS * scale,
      maxAttempts: scenario.MAX_ATTEMPTS,
      turnsPerSession: scenario.TURNS_PER_SESSION,
      startWindowSeconds: scenario.START_WINDOW_SECONDS,
      repeatSessionsPerScript: scenario.REPEAT_SESSIONS_PER_SCRIPT,
      nearSessionsPerScript: scenario.NEAR_SESSIONS_PER_SCRIPT,
      uniqueSessions: scenario.UNIQUE_SESSIONS,
      bursts: scenario.BURSTS,
      upstreamLatency: scenario.UPSTREAM_LATENCY,
      overloadRate: scenario.OVERLOAD_RATE,
      model: `${scenario.PROVIDER}:${scenario.MODEL}`,
      prices: scenario.PRICES,
      sessionKinds: KIND_MEANING,
    },
    method: {
      runs: 'every run (one per TBO run, and the direct run) replays the same sessions at the same time, each against its own upstream process with the same seed',
      upstream: 'test/support/fake-upstream.ts behind report/upstream-server.ts: latency and 529 drawn per call from SHA-256(seed, path, model, messages, times seen before)' +
        (scenario.SAMPLED_ANSWERS_DIFFER ? '; every text answer gets a fixed-length tag drawn the same way, from the request and, for a sampled request (no temperature, or > 0), its occurrence: sampled answers differ from call to call' : ''),
      tbo: 'node service/dist/main.js (one process per TBO run, TBO_CACHE_SAMPLED = the run\'s policy), POST /v1/collaborate with context.session_id, complexity 1 (fast tier = the one model), the run\'s temperature if any, defaults otherwise (2 retries on 529, exponential backoff with full jitter)',
      tboRuns: scenario.TBO_RUNS,
      coldWarm: 'the measured window through the cold run\'s TBO (just started, empty cache) and, at the same moment, through a second TBO with the same settings after the previous window (scenario.ts COLD_WARM) filled its cache; the warm TBO\'s counters and upstream calls are read before and after the measured window',
      direct: 'POST /v1/messages on the upstream with the same model, messages and max_tokens; no retries but the person\'s own',
      turnLatency: 'first attempt sent → answer received, monotonic clock, in the client',
      bandwidth: 'bandwidth() from service/src/optimizer/bandwidth.ts over answered turns {requestAt: sending of the attempt that got the answer, completeAt: answer received}',
    },
    comparison: r.comparison,
    coldWarm: r.coldWarm,
    summary: {
      ...Object.fromEntries(r.outcome.tboRuns.map((x) => [x.spec.label, { ...x.summary, sessions: undefined, tboAddedLatencyOnMiss: x.paired }])),
      [DIRECT]: { ...r.outcome.direct, sessions: undefined },
    },
    tboMetrics: Object.fromEntries(r.outcome.tboRuns.map((x) => [x.spec.label, x.counters])),
    upstream: r.upstreamCounters,
    checks: r.checks,
  };
  return jsonWithRows(head, {
    sessions: r.plans,
    sessionStats: {
      ...Object.fromEntries(r.outcome.tboRuns.map((x) => [x.spec.label, x.summary.sessions])),
      [DIRECT]: r.outcome.direct.sessions,
    },
    turns: r.turns,
  });
}

/** Writes both files into `dir` (created if missing). */
export function writeResultFiles(dir: string, r: ReportResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latency.svg'), chart(r));
  writeFileSync(join(dir, 'latest.json'), json(r));
}
