/**
 * The report as text: set-up, the tables with their legends, machine, cross-checks, warnings, and
 * last the comparison of the cache policies.
 */
import { renderColdWarm } from './cold-warm';
import { renderComparison, renderKinds, renderSessions, renderSummary, runTitle } from './render';
import type { ReportResult } from './result';
import * as scenario from './scenario';
import { KIND_MEANING } from './workload';

/** One line describing the scenario (also the chart's and JSON's wording). */
export function setupLine(sessions: number): string {
  const { UPSTREAM_LATENCY: lat, THINK_SECONDS: think, TIME_SCALE: scale } = scenario;
  return `${sessions} sessions × ${scenario.TURNS_PER_SESSION} turns; think time ${think.min * scale}–${think.max * scale} s (real ${think.min}–${think.max} s × ${scale}); ` +
    `upstream latency log-normal, median ${lat.medianSeconds} s, σ ${lat.sigma}, clamped to ${lat.minSeconds}–${lat.maxSeconds} s (not scaled); ${scenario.OVERLOAD_RATE * 100} % 529; seed ${scenario.SEED}`;
}

export function reportText(r: ReportResult): string {
  const scale = scenario.TIME_SCALE;
  const m = r.machine;
  const main = r.outcome.tboRuns.find((x) => x.spec.label === scenario.MAIN_RUN) ?? r.outcome.tboRuns[0];
  const lines = [
    `Honest bandwidth report: ${setupLine(r.plans.length)}`,
    `TBO: ${r.outcome.tboRuns.length} runs, one TBO process each, at the same time as the direct run; each sets TBO_CACHE_SAMPLED (the policy for sampled`,
    '  requests) and leaves the rest at defaults (2 retries, backoff 250 ms × 2^n full jitter, in-memory cache, breaker at p95 TTFT 2.0 s of streamed calls).',
    '  Requests send no temperature (sampled at the API\'s default, as SDK traffic is), except in the "t=0" run.',
    scenario.SAMPLED_ANSWERS_DIFFER
      ? '  Upstream: a sampled answer differs from call to call (a tag on the echo); a temperature-0 answer is the same every time (a tag of the same length).'
      : '  Upstream: every answer is the fake\'s echo, sampled or not (SAMPLED_ANSWERS_DIFFER is off: variants:N serves N identical answers).',
    '',
    renderSummary(r.outcome),
    'turn latency: first attempt sent → answer received (answered turns; includes manual retries after errors).',
    'upstream tokens / cost: TBO from its /metrics (tbo_tokens_total, tbo_cost_usd_total, tbo_cost_saved_usd_total); direct from the answers\' usage, same price table.',
    'bypass: a sampled request under TBO_CACHE_SAMPLED=bypass is neither served from the cache nor coalesced (x-tbo-cache: bypass).',
    'bandwidth: TBO\'s formula (service/src/optimizer/bandwidth.ts) over each session\'s answered turns, client timestamps, every run;',
    `  E = (N − 1)/span, τ = 1/E, loss = Δ/(τ_h + Δ) with τ_h = τ − Δ. Think time is scaled ×${scale}, upstream latency is not: the loss is overstated;`,
    `  the projection divides τ_h by ${scale}.`,
    '',
    renderKinds(r.outcome),
    ...Object.entries(KIND_MEANING).map(([kind, meaning]) => `  ${kind}: ${meaning}`),
    '',
    renderSessions(r.outcome, main),
    `first ${r.outcome.tboRuns.length} number columns: answers from the cache or a shared call / turns answered, per TBO run. Then the ${runTitle(main.spec)} run in detail`,
    '(scenario.ts MAIN_RUN), and the direct run. "TBO says": bandwidth_metrics of the session\'s last answer',
    '(TBO times a turn inside the server, so its cache hits take ~0 ms there and a few ms at the client).',
    '',
    `machine: ${m.cpuModel}, ${m.cores} cores, node ${m.node}; load avg ${m.loadAvgAtStart.join(' ')} at start; all cores ${m.busyPctDuringReplay.toFixed(0)} % busy during the replay (everything on the machine, not just this report).`,
    ...r.checks.map((c) => `${c.ok ? 'ok  ' : c.level === 'must' ? 'FAIL' : 'note'} [${c.run}] ${c.name}: ${c.detail}`),
    ...r.warnings.map((w) => `WARNING: ${w}`),
    ...r.problems.map((p) => `INVALID: ${p}`),
    '',
    'Cache policies for sampled answers (TBO_CACHE_SAMPLED), same workload, same upstream draws, all runs at the same time:',
    renderComparison(r.comparison),
    'hit rate: (hit + coalesced) / requests TBO handled. cost saved: tbo_cost_saved_usd_total, and its share of cost + saved.',
    'added on a miss: TBO turn − direct turn, paired unique-session turns, median. Latency, cost and calls of the direct run are the reference.',
    '',
    `What losing the cache costs (TBO_CACHE_SAMPLED=${r.coldWarm.cold.policy}, temperature ${r.coldWarm.cold.temperature ?? 'none'}): the same window, at the same moment, through a TBO that just started and one the previous window warmed:`,
    renderColdWarm(r.coldWarm),
  ];
  return lines.join('\n');
}
