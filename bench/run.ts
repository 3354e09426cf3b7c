/**
 * `npm run bench`: TBO's cost per request and memory, side by side with its upstream called
 * directly, a bare express 5 handler (the ceiling) and a minimal express+undici pass-through, all
 * on 127.0.0.1, each server in its own process. A benchmark, not a test: it exits non-zero only
 * when a measurement is invalid (failed requests, wrong cache behaviour), never for a missed target.
 *
 * Method: see README-like notes in the JSON (`method`) and bench/measure.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineCpu, machineFacts, machineLoad } from './cpu';
import { measureMemory, type MemoryResult } from './memory';
import { runScenarios, type Scenario, type ScenarioResult } from './measure';
import { cacheCounts } from './metrics';
import { installCleanupHandlers, killAllNow, ROOT, spawnBenchServer, spawnTbo, stopAll, stopPid, type TboProcess } from './processes';
import { addedOver, evaluateTargets, REFERENCE, renderMachine, renderMemory, renderScenarios, renderTargets, TARGETS, type Added } from './report';
import { CHAT_PATH, chatBody, smallPrompt, Tags } from './requests';

const WARMUP = 2000;
const MEASURE = 20_000;
/** 4 000-request chunks: two miss chunks in a row (8 000 entries) never evict the hit entry from TBO's 10 000-entry LRU. */
const ROUNDS = 5;
const MEMORY_ENTRIES = 10_000;
const TBO_CACHE_ENTRIES = 10_000; // the default TBO_CACHE_SIZE
/** No new measuring round starts past this; the memory phase and report follow. */
const ROUNDS_BUDGET_MS = 125_000;
/** Hard stop: everything is killed. */
const DEADLINE_MS = 300_000;

/** Client credential of the bench tenant (TBO_API_KEYS), and the service's own upstream keys. */
const TBO_KEY = 'tbo-bench-client-key-0123456789';
const OPENAI_KEY = 'sk-openai-bench-0123456789';
const ANTHROPIC_KEY = 'sk-ant-bench-0123456789';

const began = performance.now();
function log(line: string): void {
  console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);
}

function tboEnv(upstreamUrl: string, configFile: string, logLevel?: 'warn'): Record<string, string> {
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
  };
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; cache: string | null; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, cache: res.headers.get('x-tbo-cache'), text: await res.text() };
}

/** A miss, then a hit, for the fixed body; a miss for a distinct one. Throws if TBO disagrees. */
async function primeAndCheck(tbo: TboProcess, headers: Record<string, string>, hitBody: string, tags: Tags): Promise<void> {
  const expect = async (body: string, cache: string) => {
    const r = await post(`${tbo.url}${CHAT_PATH}`, headers, body);
    if (r.status !== 200 || r.cache !== cache) throw new Error(`${tbo.name}: expected 200 ${cache}, got ${r.status} ${r.cache}: ${r.text.slice(0, 300)}`);
  };
  await expect(hitBody, 'miss');
  await expect(hitBody, 'hit');
  await expect(chatBody(smallPrompt(tags.next())), 'miss');
}

function logFileStats(path: string): { bytes: number; lines: number } {
  try {
    const text = readFileSync(path, 'utf8');
    return { bytes: statSync(path).size, lines: text.split('\n').filter(Boolean).length };
  } catch {
    return { bytes: 0, lines: 0 };
  }
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${DEADLINE_MS / 1000} s, giving up`);
    killAllNow();
    process.exit(1);
  }, DEADLINE_MS);
  const tmp = mkdtempSync(join(tmpdir(), 'tbo-bench-'));
  const configFile = join(tmp, 'config.yaml');
  writeFileSync(configFile, '');
  const startedAt = new Date().toISOString();
  const facts = machineFacts();
  const cpuStart = machineCpu();
  const tags = new Tags();
  const problems: string[] = [];
  const warnings: string[] = [];

  try {
    log(`${facts.cpuModel}, ${facts.cores} cores, node ${facts.node}, load avg ${facts.loadAvgAtStart.join(' ')}`);
    const upstream = await spawnBenchServer('upstream', 'upstream-server.ts');
    const hitBody = chatBody(smallPrompt('HIT-000000001'));
    const sample = await post(`${upstream.url}${CHAT_PATH}`, { authorization: `Bearer ${OPENAI_KEY}` }, hitBody);
    if (sample.status !== 200) throw new Error(`upstream answered ${sample.status}: ${sample.text}`);

    const [express, passthrough, tboInfo, tboWarn] = await Promise.all([
      spawnBenchServer('express', 'express-server.ts', { BENCH_RESPONSE_JSON: sample.text }),
      spawnBenchServer('passthrough', 'passthrough-server.ts', { BENCH_UPSTREAM_URL: upstream.url }),
      spawnTbo('tbo', tboEnv(upstream.url, configFile), join(tmp, 'tbo-info.log')),
      spawnTbo('tbo-warn', tboEnv(upstream.url, configFile, 'warn'), join(tmp, 'tbo-warn.log')),
    ]);
    log(`processes up: upstream ${upstream.pid}, express ${express.pid}, passthrough ${passthrough.pid}, tbo ${tboInfo.pid}, tbo-warn ${tboWarn.pid}`);

    const tboHeaders = { authorization: `Bearer ${TBO_KEY}` };
    const upstreamHeaders = { authorization: `Bearer ${OPENAI_KEY}` };
    await primeAndCheck(tboInfo, tboHeaders, hitBody, tags);
    await primeAndCheck(tboWarn, tboHeaders, hitBody, tags);
    const countsBefore = await Promise.all([cacheCounts(tboInfo.url), cacheCounts(tboWarn.url)]);

    const distinct = () => chatBody(smallPrompt(tags.next()));
    const scenarios: Scenario[] = [
      { id: 'direct', label: 'fake upstream called directly (distinct requests)', url: `${upstream.url}${CHAT_PATH}`, headers: upstreamHeaders, body: distinct, server: upstream, upstreamCallsPerRequest: 1 },
      { id: 'tbo-miss', label: 'TBO cache miss, log info (default)', url: `${tboInfo.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: tboInfo, upstreamCallsPerRequest: 1 },
      { id: 'tbo-hit', label: 'TBO cache hit, log info (default)', url: `${tboInfo.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: tboInfo, upstreamCallsPerRequest: 0 },
      { id: 'tbo-miss-warn', label: 'TBO cache miss, TBO_LOG_LEVEL=warn', url: `${tboWarn.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: tboWarn, upstreamCallsPerRequest: 1 },
      { id: 'tbo-hit-warn', label: 'TBO cache hit, TBO_LOG_LEVEL=warn', url: `${tboWarn.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: tboWarn, upstreamCallsPerRequest: 0 },
      { id: 'express', label: 'bare express 5 handler, same JSON (ceiling)', url: `${express.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: express, upstreamCallsPerRequest: 0 },
      { id: 'passthrough', label: 'express 5 + undici pass-through (calibration)', url: `${passthrough.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: passthrough, upstreamCallsPerRequest: 1 },
    ];
    if (2 * Math.ceil(MEASURE / ROUNDS) >= TBO_CACHE_ENTRIES) throw new Error('miss chunks too large: they would evict the cache-hit entry');
    const { results, roundsCompleted } = await runScenarios(scenarios, upstream, { warmup: WARMUP, measure: MEASURE, rounds: ROUNDS, budgetMs: ROUNDS_BUDGET_MS, startedAt: began, log });
    if (roundsCompleted < ROUNDS) warnings.push(`time budget: only ${roundsCompleted} of ${ROUNDS} rounds ran (${results[0]?.requests ?? 0} requests per scenario instead of ${MEASURE}); the machine is too loaded`);

    // TBO's own view must match: every measured miss request a miss, every hit request a hit.
    const countsAfter = await Promise.all([cacheCounts(tboInfo.url), cacheCounts(tboWarn.url)]);
    const byId = new Map(results.map((r) => [r.id, r]));
    const cacheCheck = (['', '-warn'] as const).map((suffix, i) => {
      const miss = countsAfter[i].miss - countsBefore[i].miss;
      const hit = countsAfter[i].hit - countsBefore[i].hit;
      const expectMiss = WARMUP + (byId.get(`tbo-miss${suffix}`)?.requests ?? 0);
      const expectHit = WARMUP + (byId.get(`tbo-hit${suffix}`)?.requests ?? 0);
      if (miss !== expectMiss || hit !== expectHit) problems.push(`tbo${suffix}: /metrics counted ${miss} misses and ${hit} hits, expected ${expectMiss} and ${expectHit}`);
      return { process: `tbo${suffix}`, misses: miss, hits: hit, expectedMisses: expectMiss, expectedHits: expectHit };
    });
    for (const r of results) for (const p of r.problems) problems.push(`${r.id}: ${p}`);

    await Promise.all([stopPid(express.pid), stopPid(passthrough.pid), stopPid(tboInfo.pid), stopPid(tboWarn.pid)]); // flushes logs
    const infoLog = logFileStats(tboInfo.logPath);
    const warnLog = logFileStats(tboWarn.logPath);

    log(`measuring RSS with ${MEMORY_ENTRIES} cached entries on a fresh TBO`);
    const tboMem = await spawnTbo('tbo-memory', tboEnv(upstream.url, configFile), join(tmp, 'tbo-memory.log'));
    const memory: MemoryResult = await measureMemory(tboMem, tboHeaders, tags, MEMORY_ENTRIES, upstream.url);
    for (const p of memory.problems) problems.push(`memory: ${p}`);
    await stopAll();

    const direct = byId.get('direct')!;
    const bare = byId.get('express')!;
    const added = new Map<string, Added>();
    for (const r of results) {
      if (r.id === 'direct' || r.id === 'express') continue;
      added.set(r.id, addedOver(r, r.upstreamCallsPerRequest > 0 ? direct : bare));
    }
    const targets = evaluateTargets(byId, added, memory);
    const load = { ...machineLoad(cpuStart, machineCpu()), loadAvgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) };

    console.log('');
    console.log(renderScenarios(results, added));
    console.log('CPU µs/req: the process under test (TBO, express, pass-through; upstream for direct); user / sys: split (sys is mostly loopback TCP);');
    console.log('per chunk: lowest–highest over the chunks.');
    console.log('added: cache misses and the pass-through vs the upstream called directly; cache hits vs the bare express handler.');
    console.log('foreign cores: mean cores busy with processes other than the bench, the server and the upstream (other people\'s load).');
    console.log(`reference on this machine kind: bare express ≈ ${REFERENCE.bareExpressCpuUs} µs CPU/req; express+undici pass-through ≈ ${REFERENCE.passthroughCpuUs} µs and ${REFERENCE.passthroughAddedMs} ms added.`);
    console.log(`TBO log output at info: ${infoLog.lines} lines, ${(infoLog.bytes / Math.max(1, infoLog.lines)).toFixed(0)} bytes/line (warn: ${warnLog.lines} lines).`);
    console.log('');
    console.log(renderTargets(targets));
    console.log('* calibrated: CPU × reference ÷ this run\'s calibration process (misses: pass-through, 160 µs; hits: bare express, 90 µs).');
    console.log('  A first-order correction for a loaded machine, not a measurement.');
    const beyond = (id: string) => (added.get(id)?.byRpsMs ?? NaN) - (added.get('passthrough')?.byRpsMs ?? NaN);
    console.log(`TBO's added latency beyond the minimal pass-through, same run (1/rps): miss ${beyond('tbo-miss').toFixed(3)} ms, miss [warn] ${beyond('tbo-miss-warn').toFixed(3)} ms (noisy when foreign load is high).`);
    console.log('');
    console.log(renderMemory(memory));
    console.log('');
    console.log(renderMachine(facts, load));
    for (const w of warnings) console.log(`WARNING: ${w}`);
    for (const p of problems) console.log(`INVALID: ${p}`);

    const json = {
      benchmark: 'tbo-gateway-overhead',
      startedAt,
      durationSeconds: (performance.now() - began) / 1000,
      valid: problems.length === 0,
      problems,
      warnings,
      machine: { ...facts, loadAvgAtEnd: load.loadAvgAtEnd, busyPctDuringRun: load.busyPct, stealPctDuringRun: load.stealPct },
      method: {
        network: 'all servers on 127.0.0.1, each in its own process; autocannon 9 in the bench process, 1 connection, keep-alive',
        endpoint: `POST ${CHAT_PATH} (OpenAI chat completions, non-streaming)`,
        requestBody: { example: hitBody, bytes: Buffer.byteLength(hitBody) },
        responseBytes: Buffer.byteLength(sample.text),
        warmupPerScenario: WARMUP,
        measuredPerScenario: MEASURE,
        rounds: ROUNDS,
        roundsCompleted,
        interleaving: `the measured requests of each scenario are split into ${ROUNDS} chunks; each round runs one chunk of every scenario, order rotated per round`,
        cacheMiss: 'a counter in the user message makes every request distinct (no Cache-Control header); misses are stored, so the 10 000-entry LRU evicts in steady state',
        cacheHit: 'one fixed body, primed once',
        cpu: 'process CPU time (user+system, all threads) read before and after each chunk: TBO from /proc/<pid>/stat utime+stime in clock ticks (CLK_TCK), bench-owned processes from process.cpuUsage() over IPC; summed, divided by the request count',
        latency: 'mean/p50/p99 from the response times autocannon measures (its response event; its own histogram has whole-ms resolution and is kept per chunk as autocannonLatencyMs); 1/rps from wall time of the chunks',
        added: 'added mean latency = 1/rps(scenario) − 1/rps(baseline) at one connection; also the difference of mean latencies',
        tbo: 'node service/dist/main.js, NODE_ENV=production, TBO_HOST=127.0.0.1, TBO_API_KEYS=bench:<key> (client auth on), API_RATE_LIMIT=100000000, empty TBO_CONFIG_FILE, log level unset (info) or TBO_LOG_LEVEL=warn; stdout (JSON logs) to a file',
        upstream: 'test/support/fake-upstream.ts in its own process, no artificial latency; its request records are cleared every 250 ms',
        ceiling: 'bare express 5 (service/node_modules), etag and x-powered-by off as in TBO, res.json of the same answer, body not read',
        calibration: 'express 5 + undici 7 (service/node_modules): express.raw body, undici.request to the fake upstream, relay the text; no cache/auth/validation/metrics/logs',
        memory: `fresh TBO (log info); 1000 Cache-Control: no-store requests as warm-up (nothing cached), VmRSS; then ${MEMORY_ENTRIES} distinct requests with ~1 KB prompts (answers ~1.2 KB) at 4 connections, VmRSS/VmHWM from /proc/<pid>/status`,
      },
      targets: { limits: TARGETS, results: targets },
      reference: REFERENCE,
      scenarios: results.map((r): ScenarioResult & { added?: Added } => ({ ...r, added: added.get(r.id) })),
      cacheCheck,
      logging: { info: infoLog, warn: warnLog },
      memory,
    };
    const outDir = join(ROOT, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    log(`saved bench/results/latest.json`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await stopAll();
    clearTimeout(deadline);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    killAllNow();
    process.exitCode = 1;
  },
);
