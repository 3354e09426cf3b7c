/** The report as text: set-up, the tables with their legends, machine, cross-checks, warnings. */
import { renderKinds, renderSessions, renderSummary } from './render';
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
  const lines = [
    `Honest bandwidth report: ${setupLine(r.plans.length)}`,
    'TBO: defaults (2 retries, backoff 250 ms × 2^n full jitter, in-memory cache, breaker at p95 TTFT 2.0 s of streamed calls).',
    '',
    renderSummary(r.outcome),
    'turn latency: first attempt sent → answer received (answered turns; includes manual retries after errors).',
    'upstream tokens / cost: TBO from its /metrics (tbo_tokens_total, tbo_cost_usd_total, tbo_cost_saved_usd_total); direct from the answers\' usage, same price table.',
    'bandwidth: TBO\'s formula (service/src/optimizer/bandwidth.ts) over each session\'s answered turns, client timestamps, both runs;',
    `  E = (N − 1)/span, τ = 1/E, loss = Δ/(τ_h + Δ) with τ_h = τ − Δ. Think time is scaled ×${scale}, upstream latency is not: the loss is overstated;`,
    `  the projection divides τ_h by ${scale}.`,
    '',
    renderKinds(r.outcome),
    ...Object.entries(KIND_MEANING).map(([kind, meaning]) => `  ${kind}: ${meaning}`),
    '',
    renderSessions(r.outcome),
    'h/c/m: TBO answers by x-tbo-cache hit / coalesced / miss. "TBO says": bandwidth_metrics of the session\'s last answer',
    '(TBO times a turn inside the server, so its cache hits take ~0 ms there and a few ms at the client).',
    '',
    `machine: ${m.cpuModel}, ${m.cores} cores, node ${m.node}; load avg ${m.loadAvgAtStart.join(' ')} at start; all cores ${m.busyPctDuringReplay.toFixed(0)} % busy during the replay (everything on the machine, not just this report).`,
    ...r.checks.map((c) => `${c.ok ? 'ok  ' : c.level === 'must' ? 'FAIL' : 'note'} ${c.name}: ${c.detail}`),
    ...r.warnings.map((w) => `WARNING: ${w}`),
    ...r.problems.map((p) => `INVALID: ${p}`),
  ];
  return lines.join('\n');
}
