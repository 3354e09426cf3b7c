/**
 * `npm run report`: the honest bandwidth report. One scripted replay workload, run at the same
 * time through TBO (the built service, `node service/dist/main.js`) once per cache policy for
 * sampled answers (scenario.ts `TBO_RUNS`, one TBO process each) and once directly against the
 * upstream, each run with its own copy of the same latency-controlled fake upstream, all on
 * 127.0.0.1. Prints tables and writes report/results/latest.json and report/results/latency.svg.
 *
 * Exits 1 only when the measurement is invalid (a "must" cross-check failed), never for a result.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { machineCpu, machineFacts, machineLoad } from '../bench/cpu';
import { installCleanupHandlers, killAllNow, ROOT, runMain, SERVICE_MAIN, spawnBenchServer, spawnTbo, stopAll } from '../bench/processes';
import { accountingChecks, crossCheck } from './checks';
import { backToBack, coldWarmOutcome, counterDelta } from './cold-warm';
import { writeResultFiles } from './files';
import { reportText } from './print';
import { comparisonRows, tboComparisonRow, type Outcome, type TboRunOutcome, type UpstreamCounts } from './render';
import type { ReportResult } from './result';
import { pairedMissOverhead } from './paired';
import { replay, type TurnRecord } from './replay';
import * as scenario from './scenario';
import type { TboRunSpec } from './scenario';
import { summarize } from './summarize';
import { DIRECT, directTarget, tboTarget } from './targets';
import { readTboCounters } from './tbo-metrics';
import { buildWorkload } from './workload';

const CLIENT_KEY = 'tbo-report-client-key-0123456789';
const ANTHROPIC_KEY = 'sk-ant-report-0123456789';
const RESULTS = join(ROOT, 'report', 'results');

const began = performance.now();
const out = (text = '') => process.stdout.write(`${text}\n`);
const log = (line: string) => out(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The report measures the built service: refuse a missing build, warn about a stale one. */
function checkBuild(warnings: string[]): void {
  let built: number;
  try {
    built = statSync(SERVICE_MAIN).mtimeMs;
  } catch {
    throw new Error(`${SERVICE_MAIN} is missing: run \`npm run build --prefix service\` first`);
  }
  if (newestMtime(join(ROOT, 'service', 'src')) > built) warnings.push('service/src is newer than service/dist: the report measured an older build (npm run build --prefix service)');
}

function upstreamCounts(counters: Readonly<Record<string, number>>): UpstreamCounts {
  return { calls: counters.calls, overloaded: counters.overloaded, drawnP50Ms: counters.drawnP50Ms, drawnP95Ms: counters.drawnP95Ms, maxInFlight: counters.maxInFlight };
}

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error(`report: still running after ${scenario.DEADLINE_MS / 1000} s, giving up`);
    killAllNow();
    process.exit(1);
  }, scenario.DEADLINE_MS);
  installCleanupHandlers('report');
  const warnings: string[] = [];
  checkBuild(warnings);
  const tmp = mkdtempSync(join(os.tmpdir(), 'tbo-report-'));
  const startedAt = new Date().toISOString();
  const facts = machineFacts();
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const plans = buildWorkload();
    const turnsPerRun = plans.reduce((a, p) => a + p.questions.length, 0);

    // Each run gets its own upstream process: same seed, same draws, separate "seen before" counts.
    const specs = scenario.TBO_RUNS;
    const coldSpec = specs.find((spec) => spec.label === scenario.COLD_WARM.coldRun);
    if (!coldSpec) throw new Error(`scenario.ts COLD_WARM.coldRun "${scenario.COLD_WARM.coldRun}" names no TBO run (${specs.map((x) => x.label).join(', ')})`);
    // The warm run: the cold run's settings and requests, with the cache the previous window leaves.
    const warmSpec: TboRunSpec = { ...coldSpec, label: scenario.COLD_WARM.warmRun };
    const [upDirect, upWarm, ...upTbo] = await Promise.all([
      spawnBenchServer('upstream-direct', '../report/upstream-server.ts'),
      spawnBenchServer('upstream-warm', '../report/upstream-server.ts'),
      ...specs.map((_, i) => spawnBenchServer(`upstream-tbo-${i + 1}`, '../report/upstream-server.ts')),
    ]);
    const tboEnv = (spec: TboRunSpec, upstreamUrl: string) => ({
      TBO_CONFIG_FILE: configFile,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: upstreamUrl,
      TBO_API_KEYS: `report:${CLIENT_KEY}`,
      TBO_MODELS_FAST: `${scenario.PROVIDER}:${scenario.MODEL}`,
      TBO_MODEL_PRICES: JSON.stringify(scenario.PRICES),
      TBO_CACHE_SAMPLED: spec.policy,
    });
    const [tboWarm, ...tbo] = await Promise.all([
      spawnTbo('tbo-warm', tboEnv(warmSpec, upWarm.url), join(tmp, 'tbo-warm.log')),
      ...specs.map((spec, i) => spawnTbo(`tbo-${i + 1}`, tboEnv(spec, upTbo[i].url), join(tmp, `tbo-${i + 1}.log`))),
    ]);
    log(`direct run: upstream pid ${upDirect.pid}`);
    specs.forEach((spec, i) => log(`TBO run "${spec.label}": TBO_CACHE_SAMPLED=${spec.policy}, requests ${spec.temperature === undefined ? 'without temperature' : `at temperature ${spec.temperature}`}; tbo pid ${tbo[i].pid}, upstream pid ${upTbo[i].pid}`));

    // The previous window fills the warm TBO's cache, then every run plays the measured window at once.
    const warmTarget = tboTarget(warmSpec.label, tboWarm.url, CLIENT_KEY, warmSpec.temperature);
    const previousPlans = buildWorkload(scenario.COLD_WARM.previousWindowSeed, scenario.UNIQUE_SESSIONS);
    log(`TBO run "${warmSpec.label}": tbo pid ${tboWarm.pid}, upstream pid ${upWarm.pid}; playing the previous window (${previousPlans.length} sessions, seed ${scenario.COLD_WARM.previousWindowSeed}) back to back into its cache`);
    const previousBegan = performance.now();
    const previousTurns = await replay(backToBack(previousPlans), warmTarget, Date.now());
    const previousSeconds = (performance.now() - previousBegan) / 1000;
    const [warmBefore, upWarmBefore] = await Promise.all([readTboCounters(tboWarm.adminUrl), upWarm.stats()]);
    log(`previous window played in ${previousSeconds.toFixed(1)} s: ${upWarmBefore.counters.calls} upstream calls`);
    log(`replaying ${plans.length} sessions × ${scenario.TURNS_PER_SESSION} turns through TBO (${specs.length} runs, and the warm one) and directly, all at the same time (think time ×${scenario.TIME_SCALE})`);

    const done = new Map<string, number>([...specs.map((spec) => [spec.label, 0] as const), [warmSpec.label, 0], [DIRECT, 0]]);
    const tick = (run: string) => () => done.set(run, (done.get(run) ?? 0) + 1);
    const ticker = setInterval(() => log(`turns done (of ${turnsPerRun} each): ${[...done].map(([run, n]) => `${run} ${n}`).join(', ')}`), 10_000);
    const startWall = Date.now() + 250;
    const cpuBefore = machineCpu();
    let directTurns: TurnRecord[];
    let warmTurns: TurnRecord[];
    let tboTurns: TurnRecord[][];
    try {
      [directTurns, warmTurns, ...tboTurns] = await Promise.all([
        replay(plans, directTarget(upDirect.url, ANTHROPIC_KEY), startWall, tick(DIRECT)),
        replay(plans, warmTarget, startWall, tick(warmSpec.label)),
        ...specs.map((spec, i) => replay(plans, tboTarget(spec.label, tbo[i].url, CLIENT_KEY, spec.temperature), startWall, tick(spec.label))),
      ]);
    } finally {
      clearInterval(ticker);
    }
    const replaySeconds = (Date.now() - startWall) / 1000;
    const load = machineLoad(cpuBefore, machineCpu());
    log(`replay finished in ${replaySeconds.toFixed(1)} s`);

    const [directStats, tboCounters, tboStats, warmAfter, upWarmAfter] = await Promise.all([
      upDirect.stats(),
      Promise.all(tbo.map((t) => readTboCounters(t.adminUrl))),
      Promise.all(upTbo.map((u) => u.stats())),
      readTboCounters(tboWarm.adminUrl),
      upWarm.stats(),
    ]);
    await stopAll();

    const direct = summarize(DIRECT, plans, directTurns);
    const tboRuns = specs.map((spec, i): TboRunOutcome => ({
      spec,
      summary: summarize(spec.label, plans, tboTurns[i]),
      counters: tboCounters[i],
      upstream: upstreamCounts(tboStats[i].counters),
      paired: pairedMissOverhead(tboTurns[i], directTurns),
    }));
    const outcome: Outcome = { tboRuns, direct, directUpstream: upstreamCounts(directStats.counters) };

    // The warm run over the measured window only: its counters after it minus before it.
    const warmSummary = summarize(warmSpec.label, plans, warmTurns);
    const warmUpstream = { calls: upWarmAfter.counters.calls - upWarmBefore.counters.calls, overloaded: upWarmAfter.counters.overloaded - upWarmBefore.counters.overloaded, drawnP50Ms: NaN, drawnP95Ms: NaN, maxInFlight: NaN };
    const warm: TboRunOutcome = { spec: warmSpec, summary: warmSummary, counters: counterDelta(warmAfter, warmBefore), upstream: warmUpstream, paired: pairedMissOverhead(warmTurns, directTurns) };
    const cold = tboRuns.find((r) => r.spec.label === coldSpec.label) as TboRunOutcome;
    const coldWarm = coldWarmOutcome(
      { sessions: plans.length, turns: turnsPerRun, seconds: replaySeconds },
      { seed: scenario.COLD_WARM.previousWindowSeed, sessions: previousPlans.length, turns: previousTurns.length, answered: previousTurns.filter((t) => t.ok).length, seconds: previousSeconds, upstreamCalls: upWarmBefore.counters.calls },
      tboComparisonRow(cold),
      tboComparisonRow(warm),
    );

    const checks = [
      ...tboRuns.flatMap((r, i) => crossCheck(r, direct, tboTurns[i])),
      ...accountingChecks({ run: warmSpec.label, counters: warm.counters, summary: warmSummary, upstreamCalls: warmUpstream.calls }, warmTurns),
    ];
    const problems = checks.filter((c) => c.level === 'must' && !c.ok).map((c) => `[${c.run}] ${c.name}: ${c.detail}`);
    for (const r of [...tboRuns.map((x) => x.summary), warmSummary, direct]) {
      if (r.unanswered > 0) warnings.push(`${r.run}: ${r.unanswered} of ${r.turns} questions never got an answer; latency and bandwidth cover answered turns only`);
    }

    const result: ReportResult = {
      startedAt,
      durationSeconds: (performance.now() - began) / 1000,
      replaySeconds,
      machine: { ...facts, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100), busyPctDuringReplay: load.busyPct, stealPctDuringReplay: load.stealPct },
      plans,
      turns: Object.fromEntries([...specs.map((spec, i) => [spec.label, tboTurns[i]] as const), [warmSpec.label, warmTurns], [DIRECT, directTurns]]),
      outcome,
      comparison: comparisonRows(outcome),
      coldWarm,
      upstreamCounters: Object.fromEntries([...specs.map((spec, i) => [spec.label, tboStats[i].counters] as const), [warmSpec.label, upWarmAfter.counters], [DIRECT, directStats.counters]]),
      checks,
      problems,
      warnings,
    };
    out();
    out(reportText(result));
    writeResultFiles(RESULTS, result);
    out();
    log('saved report/results/latest.json and report/results/latency.svg');
    return problems.length === 0 ? 0 : 1;
  } finally {
    await stopAll();
    clearTimeout(deadline);
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('report', main);
