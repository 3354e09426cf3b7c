/**
 * `npx tsx bench/compare.ts <previous build> [--rounds N]`: TBO's CPU per request on the cache-miss
 * and the cache-hit path, this checkout's build (`service/dist/main.js`) against another build of
 * the service, both measured in one run: the same fake upstream, the same environment as
 * `npm run bench` (log level info). Each chunk sends the same number of requests to both builds at
 * the same time (one connection each), so whatever else the shared machine does hits both alike;
 * miss and hit chunks alternate in rounds (which path first is shuffled per round). A ratio above
 * {@link REGRESSION_LIMIT} on either path is a regression (reported; the exit code stays 0: a
 * benchmark fails only when the measurement is invalid).
 *
 * `<previous build>` is a checkout (with `service/dist/main.js` built), its `service` directory, or
 * the `main.js` itself. For the commit before HEAD:
 *
 *   git worktree add <dir> HEAD~1 && ln -s "$PWD/service/node_modules" <dir>/service/node_modules
 *   npx tsc -p <dir>/service/tsconfig.json && npx tsx bench/compare.ts <dir>
 *   git worktree remove --force <dir>
 *
 * Writes bench/results/compare-latest.json; `npm run bench` shows it in BENCHMARKS.md while it is
 * about the build the bench measures (same dist hash).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMPARISON_PATH, comparePath, distSha256, REGRESSION_LIMIT, renderComparison, type BuildInfo, type ComparisonResult, type PairedChunk } from './comparison';
import { clockTicks, machineCpu, machineLoad, type CpuTime } from './cpu';
import { fire, type LoadResult } from './load';
import { roundOrder, SETTLE_MS } from './measure';
import { cacheCounts } from './metrics';
import { installCleanupHandlers, killAllNow, ROOT, runMain, SERVICE_MAIN, spawnBenchServer, spawnTbo, stopAll, stopPid, type BenchServer, type TboProcess } from './processes';
import type { BenchResult } from './result';
import { CHAT_PATH, chatBody, smallPrompt, Tags } from './requests';
import { primeAndCheck, TBO_KEY, tboEnv } from './tbo-env';

const WARMUP = 1000;
/** Requests per build and chunk: about a second of CPU for a miss chunk; hits cost half as much, so twice as many. */
const MISS_PER_ROUND = 1000;
const HIT_PER_ROUND = 2000;
const DEFAULT_ROUNDS = 24;
/** Pairs of processes, one after the other, that share the rounds. */
const GENERATIONS = 4;
const DEADLINE_MS = 600_000;

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

function usage(message: string): never {
  throw new Error(`${message}\nusage: npx tsx bench/compare.ts <previous checkout | its service dir | its dist/main.js> [--rounds N]`);
}

function parseArgs(argv: readonly string[]): { previousMain: string; rounds: number } {
  let target: string | undefined;
  let rounds = DEFAULT_ROUNDS;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') {
      rounds = Number(argv[++i]);
      if (!Number.isInteger(rounds) || rounds < 4) usage(`--rounds: an integer ≥ 4, got ${argv[i]}`);
    } else if (target === undefined) target = argv[i];
    else usage(`unexpected argument ${argv[i]}`);
  }
  if (target === undefined) usage('the previous build is missing');
  const path = resolve(target);
  const candidates = path.endsWith('.js') ? [path] : [join(path, 'service', 'dist', 'main.js'), join(path, 'dist', 'main.js')];
  const previousMain = candidates.find((p) => existsSync(p));
  if (!previousMain) usage(`no built service at ${candidates.join(' or ')} (build it: npx tsc -p <checkout>/service/tsconfig.json)`);
  if (previousMain === SERVICE_MAIN) usage('that is this checkout\'s own build');
  return { previousMain, rounds };
}

function git(dir: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The checkout a build lives in: main.js is <checkout>/service/dist/main.js. */
function checkoutOf(main: string): string {
  return dirname(dirname(dirname(main)));
}

function buildInfo(role: BuildInfo['role'], main: string): BuildInfo {
  const checkout = checkoutOf(main);
  const status = git(checkout, 'status', '--porcelain', '--', 'service/src');
  return { role, commit: git(checkout, 'rev-parse', 'HEAD'), dirty: status === undefined ? undefined : status !== '', distSha256: distSha256(main) };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** What the previous checkout's own bench run recorded (its BENCHMARKS.md), if it has one. */
function previousBenchmarks(main: string): ComparisonResult['previousBenchmarks'] {
  const file = join(checkoutOf(main), 'bench', 'results', 'latest.json');
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
    const cpu = (id: string) => r.scenarios.find((s) => s.id === id)?.serverCpuUsPerRequest;
    return { startedAt: r.startedAt, missCpuUs: cpu('tbo-miss'), hitCpuUs: cpu('tbo-hit') };
  } catch {
    return undefined;
  }
}


/** One chunk: `load` against both builds at the same time; CPU of each read around it (closing reads after the settle). */
async function pairedChunk(
  round: number,
  path: 'miss' | 'hit',
  current: TboProcess,
  previous: TboProcess,
  upstream: BenchServer,
  load: (tbo: TboProcess) => Promise<LoadResult>,
): Promise<{ record: PairedChunk; failed: number }> {
  const up0 = await upstream.stats();
  const [c0, p0] = await Promise.all([current.cpu(), previous.cpu()]);
  const m0 = machineCpu();
  const client0 = process.cpuUsage();
  // Which build's client starts first alternates per round.
  const [rc, rp] = round % 2 === 0 ? await Promise.all([load(current), load(previous)]) : (await Promise.all([load(previous), load(current)])).reverse();
  await sleep(SETTLE_MS);
  const client = process.cpuUsage(client0);
  const m1 = machineCpu();
  const [c1, p1] = await Promise.all([current.cpu(), previous.cpu()]);
  const total = (a: CpuTime, b: CpuTime) => b.user + b.system - (a.user + a.system);
  const up1 = await upstream.stats();
  const upCpu = up1.cpu.user + up1.cpu.system - (up0.cpu.user + up0.cpu.system);
  const busy = (((m1.total - m1.idle) - (m0.total - m0.idle)) * 1e6) / clockTicks();
  const elapsed = ((m1.total - m0.total) * 1e6) / clockTicks() / Math.max(1, m1.cores);
  const ownCpu = total(c0, c1) + total(p0, p1) + upCpu + client.user + client.system;
  if (rc.requests !== rp.requests) throw new Error(`round ${round + 1} ${path}: the builds answered ${rc.requests} and ${rp.requests} requests`);
  return {
    record: {
      round,
      path,
      requests: rc.requests,
      currentCpuMicros: total(c0, c1),
      previousCpuMicros: total(p0, p1),
      currentSystemMicros: c1.system - c0.system,
      previousSystemMicros: p1.system - p0.system,
      currentWallMs: rc.wallMs,
      previousWallMs: rp.wallMs,
      upstreamCalls: (up1.counters.calls ?? 0) - (up0.counters.calls ?? 0),
      foreignCores: Math.max(0, busy - ownCpu) / Math.max(1, elapsed),
    },
    failed: [rc, rp].reduce((a, r) => a + r.errors + r.non2xx + r.timeouts, 0),
  };
}

async function main(): Promise<number> {
  installCleanupHandlers('bench:compare');
  const { previousMain, rounds } = parseArgs(process.argv.slice(2));
  const deadline = setTimeout(() => {
    console.error(`bench:compare: still running after ${DEADLINE_MS / 1000} s, giving up`);
    killAllNow();
    process.exit(1);
  }, DEADLINE_MS);
  const warnings: string[] = [];
  const problems: string[] = [];
  if (!existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing: run \`npm run build --prefix service\` first`);
  if (newestMtime(join(ROOT, 'service', 'src')) > statSync(SERVICE_MAIN).mtimeMs) warnings.push('service/src is newer than service/dist: this build may be stale (npm run build --prefix service)');
  const builds = { current: buildInfo('this checkout', SERVICE_MAIN), previous: buildInfo('previous', previousMain) };
  if (builds.current.distSha256 === builds.previous.distSha256) warnings.push('both builds are identical (same dist hash)');
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-compare-'));
  const measuredAt = new Date().toISOString();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const cpuStart = machineCpu();
  const tags = new Tags();
  try {
    const configFile = join(tmp, 'config.yaml');
    writeFileSync(configFile, '');
    const upstream = await spawnBenchServer('upstream', 'upstream-server.ts');
    const env = tboEnv(upstream.url, configFile);
    const headers = { authorization: `Bearer ${TBO_KEY}` };
    const hitBody = chatBody(smallPrompt('HIT-000000001'));
    const distinct = () => chatBody(smallPrompt(tags.next()));
    const bodyOf = (path: 'miss' | 'hit') => (path === 'miss' ? distinct : hitBody);
    const chunks: PairedChunk[] = [];
    let failed = 0;
    let round = 0;
    // Fresh processes per generation: one process of a build can settle a few % off another
    // process of the same build (JIT decisions, memory layout); several pairs average that out.
    for (let generation = 0; generation < GENERATIONS; generation++) {
      const [current, previous] = await Promise.all([
        spawnTbo(`tbo-current-${generation + 1}`, env, join(tmp, `tbo-current-${generation + 1}.log`)),
        spawnTbo(`tbo-previous-${generation + 1}`, env, join(tmp, `tbo-previous-${generation + 1}.log`), { main: previousMain }),
      ]);
      const where = (t: TboProcess) => (t.adminUrl === t.url ? '/metrics on the public port' : '/metrics on the admin port');
      log(`processes ${generation + 1}/${GENERATIONS}: this build ${builds.current.commit?.slice(0, 7) ?? '?'}${builds.current.dirty ? '+dirty' : ''} pid ${current.pid} (${where(current)}); previous ${builds.previous.commit?.slice(0, 7) ?? '?'} pid ${previous.pid} (${where(previous)})`);
      const tbos: readonly TboProcess[] = [current, previous];
      for (const tbo of tbos) await primeAndCheck(tbo, headers, hitBody, tags);
      const countsBefore = await Promise.all(tbos.map((t) => cacheCounts(t.adminUrl)));
      for (const path of ['miss', 'hit'] as const) {
        const warm = await Promise.all(tbos.map((t) => fire({ url: `${t.url}${CHAT_PATH}`, headers, body: bodyOf(path), amount: WARMUP })));
        if (warm.some((r) => r.errors + r.non2xx + r.timeouts > 0)) throw new Error(`warm-up (${path}) had failed requests`);
      }
      const first = chunks.length;
      const last = Math.round(((generation + 1) * rounds) / GENERATIONS);
      for (; round < last; round++) {
        const line: string[] = [];
        for (const path of roundOrder(['miss', 'hit'] as const, round)) {
          const amount = path === 'miss' ? MISS_PER_ROUND : HIT_PER_ROUND;
          const chunk = await pairedChunk(round, path, current, previous, upstream, (t) => fire({ url: `${t.url}${CHAT_PATH}`, headers, body: bodyOf(path), amount }));
          failed += chunk.failed;
          chunks.push(chunk.record);
          line.push(`${path} ${(chunk.record.currentCpuMicros / chunk.record.requests).toFixed(0)}/${(chunk.record.previousCpuMicros / chunk.record.requests).toFixed(0)} µs`);
        }
        log(`round ${round + 1}/${rounds} (this/previous): ${line.join(', ')}`);
      }
      const countsAfter = await Promise.all(tbos.map((t) => cacheCounts(t.adminUrl)));
      tbos.forEach((tbo, i) => {
        const sent = (path: 'miss' | 'hit') => WARMUP + chunks.slice(first).filter((c) => c.path === path).reduce((a, c) => a + c.requests, 0);
        const miss = countsAfter[i].miss - countsBefore[i].miss;
        const hit = countsAfter[i].hit - countsBefore[i].hit;
        if (miss !== sent('miss') || hit !== sent('hit')) problems.push(`${tbo.name}: /metrics counted ${miss} misses and ${hit} hits, expected ${sent('miss')} and ${sent('hit')}`);
      });
      await Promise.all(tbos.map((t) => stopPid(t.pid)));
    }
    if (failed > 0) problems.push(`${failed} failed requests`);
    for (const c of chunks) {
      const expected = c.path === 'miss' ? 2 * c.requests : 0;
      if (c.upstreamCalls !== expected) problems.push(`round ${c.round + 1} ${c.path}: the upstream got ${c.upstreamCalls} calls, expected ${expected}`);
    }
    await stopAll();

    const paths = (['miss', 'hit'] as const).map((p) => comparePath(p, chunks));
    const wall = chunks.reduce((a, c) => a + Math.max(c.currentWallMs, c.previousWallMs), 0);
    const result: ComparisonResult = {
      benchmark: 'tbo-build-comparison',
      measuredAt,
      durationSeconds: (performance.now() - began) / 1000,
      valid: problems.length === 0,
      problems,
      warnings,
      limit: REGRESSION_LIMIT,
      builds,
      rounds,
      method: `both builds run as node <checkout>/service/dist/main.js with the environment of npm run bench (log info, one tenant key, huge rate limit, empty config file), against one fake upstream process; ${GENERATIONS} pairs of fresh processes one after the other, each primed and warmed up with ${WARMUP} misses and ${WARMUP} hits per build, sharing ${rounds} rounds of one miss chunk (${MISS_PER_ROUND} distinct requests per build) and one hit chunk (${HIT_PER_ROUND} requests of one primed body per build), which first shuffled per round (seeded); in a chunk both builds get their requests at the same time, one connection each, from this process (which client starts first alternates per round); CPU = utime+stime of the server process from /proc/<pid>/stat around each chunk (closing read ${SETTLE_MS} ms after the last response) ÷ requests; ratio = this build ÷ previous over all chunks; per chunk the same ratio, their geometric mean with a 95 % t-interval`,
      machine: {
        cores: cpuStart.cores,
        loadAvgAtStart: loadAtStart,
        loadAvgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
        busyPctDuringRun: machineLoad(cpuStart, machineCpu()).busyPct,
        foreignCores: chunks.reduce((a, c) => a + c.foreignCores * Math.max(c.currentWallMs, c.previousWallMs), 0) / Math.max(1, wall),
      },
      paths,
      previousBenchmarks: previousBenchmarks(previousMain),
      chunks,
    };
    console.log('');
    console.log(renderComparison(result));
    for (const w of warnings) console.log(`WARNING: ${w}`);
    for (const p of problems) console.log(`INVALID: ${p}`);
    mkdirSync(dirname(COMPARISON_PATH), { recursive: true });
    writeFileSync(COMPARISON_PATH, `${JSON.stringify(result, null, 2)}\n`);
    log('saved bench/results/compare-latest.json');
    return result.valid ? 0 : 1;
  } finally {
    await stopAll();
    clearTimeout(deadline);
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench:compare', main);
