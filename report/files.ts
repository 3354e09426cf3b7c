/** Writes report/results/latest.json and report/results/latency.svg. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { latencyChart } from './chart';
import { jsonWithRows } from './json-file';
import { setupLine } from './print';
import type { ReportResult } from './result';
import * as scenario from './scenario';
import { KIND_MEANING } from './workload';

const COLORS = { tbo: '#1f77b4', direct: '#e6550d' } as const;

function chart(r: ReportResult): string {
  const { UPSTREAM_LATENCY: lat, THINK_SECONDS: think, TIME_SCALE: scale } = scenario;
  const seconds = (turns: ReportResult['turns']['tbo']) => turns.filter((t) => t.ok).map((t) => t.latencyMs / 1000);
  return latencyChart(
    [
      { label: 'through TBO', color: COLORS.tbo, seconds: seconds(r.turns.tbo) },
      { label: 'direct to upstream', color: COLORS.direct, seconds: seconds(r.turns.direct) },
    ],
    {
      title: 'Turn latency: through TBO vs direct to the upstream',
      subtitle: `Same scripted replay, same upstream draws. ${r.plans.length} sessions × ${scenario.TURNS_PER_SESSION} turns, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC.`,
      band: { from: lat.minSeconds, to: lat.maxSeconds, label: `upstream latency range (${lat.minSeconds}–${lat.maxSeconds} s)` },
      footnote: [
        `Think time scaled ×${scale} (${think.min * scale}–${think.max * scale} s); upstream latency not scaled. TBO's turns at a few ms are cache hits; coalesced answers wait`,
        'for a call already in flight, so they land anywhere up to its latency. Every number is from this run: report/results/latest.json.',
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
      runs: 'both runs replay the same sessions at the same time, each against its own upstream process with the same seed',
      upstream: 'test/support/fake-upstream.ts behind report/upstream-server.ts: latency and 529 drawn per call from SHA-256(seed, path, model, messages, times seen before)',
      tbo: 'node service/dist/main.js, POST /v1/collaborate with context.session_id, complexity 1 (fast tier = the one model), defaults otherwise (2 retries on 529, exponential backoff with full jitter)',
      direct: 'POST /v1/messages on the upstream with the same model, messages and max_tokens; no retries but the person\'s own',
      turnLatency: 'first attempt sent → answer received, monotonic clock, in the client',
      bandwidth: 'bandwidth() from service/src/optimizer/bandwidth.ts over answered turns {requestAt: sending of the attempt that got the answer, completeAt: answer received}',
    },
    summary: {
      tbo: { ...r.outcome.tbo, sessions: undefined },
      direct: { ...r.outcome.direct, sessions: undefined },
      tboAddedLatencyOnMiss: r.outcome.paired,
    },
    tboMetrics: r.outcome.tboCounters,
    upstream: r.upstreamCounters,
    checks: r.checks,
  };
  return jsonWithRows(head, {
    sessions: r.plans,
    sessionStats: { tbo: r.outcome.tbo.sessions, direct: r.outcome.direct.sessions },
    turns: r.turns,
  });
}

/** Writes both files into `dir` (created if missing). */
export function writeResultFiles(dir: string, r: ReportResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latency.svg'), chart(r));
  writeFileSync(join(dir, 'latest.json'), json(r));
}
