/**
 * `npm run bench`: TBO's cost per request and memory, side by side with a peer gateway (Portkey,
 * proxying to the same fake upstream), its upstream called directly, a bare express 5 handler (the
 * ceiling) and a minimal express+undici pass-through, at 1 and at 10 connections, all on 127.0.0.1,
 * each server in its own process. A benchmark, not a test: it exits non-zero only when a
 * measurement is invalid (failed requests, wrong cache behaviour), never for a missed target.
 * Prints tables, saves bench/results/latest.json and writes BENCHMARKS.md from it.
 *
 * Method: see the `method` notes in the JSON, bench/README.md and bench/measure.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { distSha256, savedComparisonFor } from './comparison';
import { CARDINALITY_CONNECTIONS, CARDINALITY_DISTINCT, cardinalityEnv, measureCardinality } from './cardinality';
import { COLD_START_RUNS, measureColdStart } from './cold-start';
import { machineCpu, machineFacts, machineLoad, procStatusBytes } from './cpu';
import { inspectorUrl } from './inspector';
import { measureMemory, measureRetained, type MemoryResult } from './memory';
import { runScenarios, SETTLE_MS, type Scenario } from './measure';
import { cacheCounts } from './metrics';
import { portkeyHeaders, spawnPortkey } from './portkey';
import { installCleanupHandlers, killAllNow, ROOT, runMain, SERVICE_MAIN, spawnBenchServer, spawnTbo, stopAll, stopPid, type Measured } from './processes';
import { addedOver, coldStartTarget, evaluateTargets, REFERENCE, renderReport, TARGETS, type Added } from './report';
import { CHAT_PATH, chatBody, smallPrompt, Tags } from './requests';
import type { BenchResult, LoadAverageSummary, ProcessMemory } from './result';
import { optimizerTables, runOptimizerBench } from './optimizer';
import { joinStreamTable, runJoinStreamBench } from './join-stream';
import { embeddingsScenarios, primeEmbeddings, renderEmbeddingsCpu } from './embeddings';
import { BEDROCK_METHOD, bedrockEndpointOf, bedrockScenarios, bedrockTboEnv, isBedrockScenario, primeBedrock, renderBedrockCpu } from './bedrock';
import { renderBigBodies, runBigBodiesBench } from './big-bodies';
import { OPENAI_KEY, post, primeAndCheck, TBO_KEY, tboEnv } from './tbo-env';
import { previousFigures, runTracingBench, tracingTable, offVersusPrevious, type WithTracing } from './tracing';
import { BENCHMARKS_PATH, LATEST_PATH, writeBenchmarks } from './write-benchmarks';

const WARMUP = 1000;
/** Measured requests per scenario at 1 and at 10 connections (≥ 5 000 each for a steady CPU/request). */
const MEASURE_C1 = 10_000;
const MEASURE_C10 = 10_000;
const ROUNDS = 5;
/** A time budget may end the rounds early, never before this many (6 000 requests per scenario). */
const MIN_ROUNDS = 3;
const MEMORY_ENTRIES = 10_000;
const TBO_CACHE_ENTRIES = 10_000; // the default TBO_CACHE_SIZE
/** No new measuring round starts past this (unless fewer than MIN_ROUNDS ran); the memory phase and report follow. */
const ROUNDS_BUDGET_MS = 170_000;
/** Hard stop: everything is killed (a full run took 430 s before the tracing group's ~70 s). */
const DEADLINE_MS = 560_000;

const began = performance.now();
function log(line: string): void {
  console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);
}

/** 1-minute load average every 2 s while the bench runs: the machine is shared. */
function sampleLoad(): { stop(): LoadAverageSummary } {
  const samples: number[] = [loadavg()[0]];
  const timer = setInterval(() => samples.push(loadavg()[0]), 2000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      samples.push(loadavg()[0]);
      const round = (x: number) => Math.round(x * 100) / 100;
      return { min: round(Math.min(...samples)), mean: round(samples.reduce((a, b) => a + b, 0) / samples.length), max: round(Math.max(...samples)), samples: samples.length };
    },
  };
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
  const buildAtStart = distSha256(SERVICE_MAIN);
  const cpuStart = machineCpu();
  const loadSampler = sampleLoad();
  const tags = new Tags();
  const problems: string[] = [];
  const warnings: string[] = [];

  try {
    log(`${facts.cpuModel}, ${facts.cores} cores, node ${facts.node}, load avg ${facts.loadAvgAtStart.join(' ')}`);
    // The fake upstream with a fake Bedrock Runtime on a second port of the same process (the streamed-messages rows).
    const upstream = await spawnBenchServer('upstream', 'bedrock-upstream-server.ts');
    const hitBody = chatBody(smallPrompt('HIT-000000001'));
    const sample = await post(`${upstream.url}${CHAT_PATH}`, { authorization: `Bearer ${OPENAI_KEY}` }, hitBody);
    if (sample.status !== 200) throw new Error(`upstream answered ${sample.status}: ${sample.text}`);

    const [express, passthrough, tboInfo, tboWarn, tboMessages, portkey] = await Promise.all([
      spawnBenchServer('express', 'express-server.ts', { BENCH_RESPONSE_JSON: sample.text }),
      spawnBenchServer('passthrough', 'passthrough-server.ts', { BENCH_UPSTREAM_URL: upstream.url }),
      spawnTbo('tbo', tboEnv(upstream.url, configFile), join(tmp, 'tbo-info.log')),
      spawnTbo('tbo-warn', tboEnv(upstream.url, configFile, 'warn'), join(tmp, 'tbo-warn.log')),
      // Its own process: the streamed rows' misses must not share the 10 000-entry cache with tbo's hit entry.
      spawnTbo('tbo-messages', bedrockTboEnv(upstream.url, bedrockEndpointOf(upstream), configFile), join(tmp, 'tbo-messages.log')),
      spawnPortkey('portkey', join(tmp, 'portkey.log')),
    ]);
    log(`processes up: upstream ${upstream.pid}, express ${express.pid}, passthrough ${passthrough.pid}, tbo ${tboInfo.pid}, tbo-warn ${tboWarn.pid}, tbo-messages ${tboMessages.pid}, portkey ${portkey.version} ${portkey.pid} (loopback only)`);

    const servers: readonly (Measured & { readonly what: string })[] = [
      { ...upstream, what: 'fake upstream and fake Bedrock Runtime (bench-owned, node --import tsx)' },
      { ...express, what: 'bare express 5 handler (bench-owned, node --import tsx)' },
      { ...passthrough, what: 'express 5 + undici pass-through (bench-owned, node --import tsx)' },
      { ...tboInfo, what: 'TBO, log info (node service/dist/main.js)' },
      { ...tboWarn, what: 'TBO, TBO_LOG_LEVEL=warn' },
      { ...tboMessages, what: 'TBO, log info, Anthropic API and Bedrock routes (streamed messages)' },
      { ...portkey, what: `Portkey gateway ${portkey.version} (node build/start-server.js)` },
    ];
    const rssIdle = new Map(servers.map((p) => [p.name, procStatusBytes(p.pid, 'VmRSS')]));

    const tboHeaders = { authorization: `Bearer ${TBO_KEY}` };
    const upstreamHeaders = { authorization: `Bearer ${OPENAI_KEY}` };
    const viaPortkey = portkeyHeaders(upstream.url, OPENAI_KEY);
    await primeAndCheck(tboInfo, tboHeaders, hitBody, tags);
    await primeAndCheck(tboWarn, tboHeaders, hitBody, tags);
    await primeEmbeddings(tboInfo, tboHeaders, tags);
    await primeBedrock(tboMessages, upstream, tags);
    const peerAnswer = await post(`${portkey.url}${CHAT_PATH}`, viaPortkey, hitBody);
    const expected = (JSON.parse(sample.text) as { choices: { message: { content: string } }[] }).choices[0].message.content;
    const got = peerAnswer.status === 200 ? (JSON.parse(peerAnswer.text) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content : undefined;
    if (got !== expected) throw new Error(`portkey: expected the upstream's answer, got ${peerAnswer.status}: ${peerAnswer.text.slice(0, 300)}`);
    const checked = [tboInfo, tboWarn, tboMessages];
    const countsBefore = await Promise.all(checked.map((tbo) => cacheCounts(tbo.adminUrl)));

    const distinct = () => chatBody(smallPrompt(tags.next()));
    const c10 = { connections: 10, measure: MEASURE_C10 } as const;
    const scenarios: Scenario[] = [
      { id: 'direct', label: 'fake upstream called directly (distinct requests)', url: `${upstream.url}${CHAT_PATH}`, headers: upstreamHeaders, body: distinct, server: upstream, upstreamCallsPerRequest: 1 },
      { id: 'tbo-miss', label: 'TBO cache miss, log info (default)', url: `${tboInfo.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: tboInfo, upstreamCallsPerRequest: 1 },
      { id: 'tbo-hit', label: 'TBO cache hit, log info (default)', url: `${tboInfo.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: tboInfo, upstreamCallsPerRequest: 0 },
      // Fewer requests than the chat rows: their misses share the 10 000-entry cache with the chat hit entry (checked below).
      ...embeddingsScenarios(tboInfo, tboHeaders, tags, { measure: 2_500 }),
      // Streamed misses (Bedrock's most) take longer than the JSON rows: 5 000 each keep the rounds within their time budget.
      ...bedrockScenarios(tboMessages, tags, { measure: 5_000 }),
      { id: 'portkey', label: `Portkey ${portkey.version} proxying to the fake upstream (distinct requests)`, url: `${portkey.url}${CHAT_PATH}`, headers: viaPortkey, body: distinct, server: portkey, upstreamCallsPerRequest: 1 },
      { id: 'tbo-miss-warn', label: 'TBO cache miss, TBO_LOG_LEVEL=warn', url: `${tboWarn.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: tboWarn, upstreamCallsPerRequest: 1 },
      { id: 'tbo-hit-warn', label: 'TBO cache hit, TBO_LOG_LEVEL=warn', url: `${tboWarn.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: tboWarn, upstreamCallsPerRequest: 0 },
      { id: 'express', label: 'bare express 5 handler, same JSON (ceiling)', url: `${express.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: express, upstreamCallsPerRequest: 0 },
      { id: 'passthrough', label: 'express 5 + undici pass-through (calibration)', url: `${passthrough.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: passthrough, upstreamCallsPerRequest: 1 },
      { id: 'direct-c10', label: 'fake upstream called directly, 10 connections', url: `${upstream.url}${CHAT_PATH}`, headers: upstreamHeaders, body: distinct, server: upstream, upstreamCallsPerRequest: 1, ...c10 },
      { id: 'tbo-miss-c10', label: 'TBO cache miss, log info, 10 connections', url: `${tboInfo.url}${CHAT_PATH}`, headers: tboHeaders, body: distinct, server: tboInfo, upstreamCallsPerRequest: 1, ...c10 },
      { id: 'tbo-hit-c10', label: 'TBO cache hit, log info, 10 connections', url: `${tboInfo.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: tboInfo, upstreamCallsPerRequest: 0, ...c10 },
      { id: 'portkey-c10', label: `Portkey ${portkey.version}, 10 connections`, url: `${portkey.url}${CHAT_PATH}`, headers: viaPortkey, body: distinct, server: portkey, upstreamCallsPerRequest: 1, ...c10 },
      { id: 'express-c10', label: 'bare express 5 handler, 10 connections', url: `${express.url}${CHAT_PATH}`, headers: tboHeaders, body: hitBody, server: express, upstreamCallsPerRequest: 0, ...c10 },
    ];
    const measureOf = (s: Scenario) => s.measure ?? MEASURE_C1;
    // Between two chunks that touch the hit entry, at worst two rounds' worth of miss chunks of the
    // same TBO process are stored: they must not push the hit entry out of the LRU.
    for (const tbo of [tboInfo, tboWarn]) {
      const missesPerRound = scenarios.filter((s) => s.server === tbo && s.upstreamCallsPerRequest === 1).reduce((a, s) => a + Math.ceil(measureOf(s) / ROUNDS), 0);
      if (2 * missesPerRound >= TBO_CACHE_ENTRIES) throw new Error(`${tbo.name}: miss chunks too large (${missesPerRound} per round): they would evict the cache-hit entry`);
    }
    const { results, roundsCompleted } = await runScenarios(scenarios, upstream, {
      warmup: WARMUP,
      measure: MEASURE_C1,
      rounds: ROUNDS,
      minRounds: MIN_ROUNDS,
      budgetMs: ROUNDS_BUDGET_MS,
      startedAt: began,
      log,
    });
    if (roundsCompleted < ROUNDS) warnings.push(`time budget: only ${roundsCompleted} of ${ROUNDS} rounds ran (${results[0]?.requests ?? 0} requests per 1-connection scenario instead of ${MEASURE_C1}); the machine is too loaded`);
    const processes: ProcessMemory[] = servers.map((p) => ({
      name: p.name,
      what: p.what,
      pid: p.pid,
      rssIdleBytes: rssIdle.get(p.name) ?? NaN,
      rssAfterBytes: procStatusBytes(p.pid, 'VmRSS'),
      hwmBytes: procStatusBytes(p.pid, 'VmHWM'),
    }));

    // TBO's own view must match: every measured miss request a miss, every hit request a hit.
    const countsAfter = await Promise.all(checked.map((tbo) => cacheCounts(tbo.adminUrl)));
    const byId = new Map(results.map((r) => [r.id, r]));
    const cacheCheck = checked.map((tbo, i) => {
      const miss = countsAfter[i].miss - countsBefore[i].miss;
      const hit = countsAfter[i].hit - countsBefore[i].hit;
      const expectedOf = (calls: 0 | 1) =>
        scenarios.filter((s) => s.server === tbo && s.upstreamCallsPerRequest === calls).reduce((a, s) => a + WARMUP + (byId.get(s.id)?.requests ?? 0), 0);
      const expectMiss = expectedOf(1);
      const expectHit = expectedOf(0);
      if (miss !== expectMiss || hit !== expectHit) problems.push(`${tbo.name}: /metrics counted ${miss} misses and ${hit} hits, expected ${expectMiss} and ${expectHit}`);
      return { process: tbo.name, misses: miss, hits: hit, expectedMisses: expectMiss, expectedHits: expectHit };
    });
    for (const r of results) for (const p of r.problems) problems.push(`${r.id}: ${p}`);

    await Promise.all([stopPid(express.pid), stopPid(passthrough.pid), stopPid(tboInfo.pid), stopPid(tboWarn.pid), stopPid(tboMessages.pid), stopPid(portkey.pid)]); // flushes logs
    const logging = { tbo: logFileStats(tboInfo.logPath), 'tbo-warn': logFileStats(tboWarn.logPath), 'tbo-messages': logFileStats(tboMessages.logPath), portkey: logFileStats(portkey.logPath) };

    log(`measuring RSS with ${MEMORY_ENTRIES} cached entries on a fresh TBO`);
    const tboMem = await spawnTbo('tbo-memory', tboEnv(upstream.url, configFile), join(tmp, 'tbo-memory.log'));
    const memory: MemoryResult = await measureMemory(tboMem, tboHeaders, tags, MEMORY_ENTRIES, upstream.url);
    for (const p of memory.problems) problems.push(`memory: ${p}`);
    await stopPid(tboMem.pid);
    log('measuring retained memory (forced full GCs) on another fresh TBO');
    const tboGc = await spawnTbo('tbo-retained', tboEnv(upstream.url, configFile), join(tmp, 'tbo-retained.log'), { nodeArgs: ['--inspect=127.0.0.1:0'] });
    const retained = await measureRetained(tboGc, inspectorUrl(tboGc.stderr()), tboHeaders, tags, MEMORY_ENTRIES);
    for (const p of retained.problems) problems.push(`retained memory: ${p}`);
    await stopPid(tboGc.pid);
    log(`bounded state: ${CARDINALITY_DISTINCT} distinct model names, session ids and request ids through a fresh TBO`);
    const card = cardinalityEnv(upstream.url, configFile);
    const tboCard = await spawnTbo('tbo-cardinality', card.env, join(tmp, 'tbo-cardinality.log'), { nodeArgs: ['--inspect=127.0.0.1:0'] });
    const cardinality = await measureCardinality({
      tbo: tboCard,
      inspector: inspectorUrl(tboCard.stderr()),
      upstream,
      tenantKey: card.tenantKey,
      adminKey: card.adminKey,
      tags,
      distinct: CARDINALITY_DISTINCT,
      connections: CARDINALITY_CONNECTIONS,
      log,
    });
    for (const p of cardinality.problems) problems.push(`bounded state: ${p}`);
    await stopAll();
    log('optimizer: /v1/collaborate vs the proxy path on a miss, and the lanes at 2 × max_concurrent_requests');
    const optimizer = await runOptimizerBench(tmp);
    if (optimizer.lanes.non2xx + optimizer.lanes.errors > 0) problems.push(`optimizer lanes: ${optimizer.lanes.non2xx + optimizer.lanes.errors} failed requests below the queue bound`);
    await stopAll();
    log('join-stream: first byte of a stream that arrives while a non-streamed call for the same request runs');
    const joinStream = await runJoinStreamBench(tmp, { log });
    for (const p of joinStream.problems) problems.push(`join-stream: ${p}`);
    await stopAll();
    log('big bodies: RSS with 100 concurrent 8 MB image bodies (upstream answers after 3 s)');
    const bigBodies = await runBigBodiesBench(tmp, configFile, log);
    for (const p of bigBodies.problems) problems.push(`big bodies: ${p}`);
    await stopAll();
    log('tracing: CPU per request with tracing off, on at 100 % and at 1 % sampling (three TBOs, a loopback OTLP receiver)');
    // Read before this run overwrites latest.json: "off" is compared with the figures BENCHMARKS.md shows now.
    const tracing = await runTracingBench({ logDir: tmp, configFile, tags, log, previous: previousFigures(LATEST_PATH) });
    for (const p of tracing.problems) problems.push(`tracing: ${p}`);
    await stopAll();
    log(`cold start: the image's start command to a 200 on /ready, ${COLD_START_RUNS} runs (nothing else of the bench running)`);
    const coldStart = await measureColdStart({ log });
    for (const p of coldStart.problems) problems.push(`cold start: ${p}`);

    const added = new Map<string, Added>();
    for (const r of results) {
      // The streamed-messages rows have no streamed direct-upstream baseline: no added latency.
      if (r.id.startsWith('direct') || r.id.startsWith('express') || isBedrockScenario(r.id)) continue;
      const base = byId.get(`${r.upstreamCallsPerRequest > 0 ? 'direct' : 'express'}${r.connections === 1 ? '' : `-c${r.connections}`}`);
      if (base) added.set(r.id, addedOver(r, base));
    }
    const targets = [...evaluateTargets(byId, added, memory), coldStartTarget(coldStart)];
    if (distSha256(SERVICE_MAIN) !== buildAtStart) warnings.push('service/dist changed during the run (rebuilt by someone): processes started later ran another build');
    // CPU per request against the previous build: bench/compare.ts, when it measured exactly this build.
    const saved = savedComparisonFor(SERVICE_MAIN);
    log(saved.comparison ? `including bench/results/compare-latest.json (${saved.comparison.measuredAt}): it measured this build` : `no build comparison in BENCHMARKS.md: ${saved.reason}`);
    const load = machineLoad(cpuStart, machineCpu());

    const json: BenchResult & WithTracing = {
      benchmark: 'tbo-gateway-overhead',
      startedAt,
      durationSeconds: (performance.now() - began) / 1000,
      valid: problems.length === 0,
      problems,
      warnings,
      machine: {
        ...facts,
        loadAvgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
        loadAvg1mDuringRun: loadSampler.stop(),
        busyPctDuringRun: load.busyPct,
        stealPctDuringRun: load.stealPct,
      },
      method: {
        network: 'all servers on 127.0.0.1, each in its own process; autocannon 9 in the bench process, keep-alive connections',
        endpoint: `POST ${CHAT_PATH} (OpenAI chat completions, non-streaming)`,
        requestBody: { example: hitBody, bytes: Buffer.byteLength(hitBody) },
        responseBytes: Buffer.byteLength(sample.text),
        warmupPerScenario: WARMUP,
        measuredPerScenario: Object.fromEntries(scenarios.map((s) => [s.id, measureOf(s)])),
        rounds: ROUNDS,
        roundsCompleted,
        interleaving: `the measured requests of each scenario are split into ${ROUNDS} chunks; each round runs one chunk of every scenario (1- and 10-connection ones alike) in a seeded random order that changes per round (no scenario always follows the same one); closing counters are read ${SETTLE_MS} ms after a chunk's last response; at least ${MIN_ROUNDS} rounds run, more while the time budget allows`,
        connections: '1 connection (one request at a time: latency without queueing) and 10 connections (throughput; on 2 cores the client, the server and the upstream share the CPU)',
        cacheMiss: 'a counter in the user message makes every request distinct (no Cache-Control header); misses are stored, so the 10 000-entry LRU evicts in steady state',
        cacheHit: 'one fixed body, primed once',
        cpu: 'process CPU time (user+system, all threads) read before and after each chunk: TBO and Portkey from /proc/<pid>/stat utime+stime in clock ticks (CLK_TCK), bench-owned processes from process.cpuUsage() over IPC; summed, divided by the request count',
        latency: 'mean/p50/p99 from the response times autocannon measures (its response event; its own histogram has whole-ms resolution and is kept per chunk as autocannonLatencyMs); wall ms/req (= 1/rps) from wall time of the chunks',
        added: 'added latency = mean (or p99) latency of the scenario − that of its baseline at the same connection count: the upstream called directly for cache misses, Portkey and the pass-through; the bare express handler for cache hits. The TBO miss target uses wall ms/req (1/rps) at 1 connection',
        throughput: 'requests ÷ wall time of the chunks at 10 connections, one autocannon client in the bench process (it shares the 2 cores: a ceiling of the setup, not of the server alone)',
        rss: 'VmRSS from /proc/<pid>/status after start-up (idle) and right after the measured rounds, VmHWM (peak); bench-owned servers run under node --import tsx, which adds its loader to their RSS',
        tbo: 'node service/dist/main.js, NODE_ENV=production, TBO_HOST=127.0.0.1, TBO_API_KEYS=bench:<key> (client auth on), API_RATE_LIMIT=100000000, empty TBO_CONFIG_FILE, log level unset (info) or TBO_LOG_LEVEL=warn; stdout (JSON logs) to a file',
        portkey: `@portkey-ai/gateway ${portkey.version} (dev dependency): node --import bench/loopback-listen.mjs build/start-server.js --port=N --headless, NODE_ENV=production, stdout to a file; the preload forces listen() onto 127.0.0.1 and the bench checks its listening sockets in /proc; requests carry x-portkey-provider: openai, x-portkey-custom-host: <fake upstream>/v1 and the upstream key as Authorization; no cache, retries or config (Portkey's defaults)`,
        upstream: 'test/support/fake-upstream.ts in its own process (bench/bedrock-upstream-server.ts, which also answers as Bedrock Runtime on a second port for the streamed-messages rows), no artificial latency; its request records are cleared every 250 ms',
        messagesStreamed: BEDROCK_METHOD,
        ceiling: 'bare express 5 (service/node_modules), etag and x-powered-by off as in TBO, res.json of the same answer, body not read',
        calibration: 'express 5 + undici 7 (service/node_modules): express.raw body, undici.request to the fake upstream, relay the text; no cache/auth/validation/metrics/logs',
        memory: `fresh TBO (log info); 1000 Cache-Control: no-store requests as warm-up (nothing cached), VmRSS; then ${MEMORY_ENTRIES} distinct requests with ~1 KB prompts (answers ~1.2 KB) at 4 connections, VmRSS/VmHWM from /proc/<pid>/status`,
        cardinality: `another fresh TBO (log info) started with --inspect=127.0.0.1:0, one tenant key and one admin key (TBO_ADMIN_KEYS), against the same fake upstream; warm-up: the cache filled to capacity + 1000 with distinct prompts (${CHAT_PATH}, model gpt-4o-mini, a routing-tier model), then 500 requests of each step below with their own strings; then, in order, ${CARDINALITY_DISTINCT} requests each naming another model (ft:gpt-4o-mini:acme:<n>, unknown to TBO: forwarded, answered by the fake upstream, stored: all misses), ${CARDINALITY_DISTINCT} with another x-tbo-session-id each and ${CARDINALITY_DISTINCT} with another x-request-id each (one fixed body: all hits), ${CARDINALITY_CONNECTIONS} connections; after each step VmRSS, two full GCs forced through the inspector, V8 heap used and VmRSS again, the series (sample lines) on /metrics from the admin listener, the distinct model label values there, and the size of GET /v1/performance with the admin key (scope global) and the tenant key`,
        retained: `another fresh TBO started with --inspect=127.0.0.1:0 (no session attached during load): the same warm-up and ${MEMORY_ENTRIES} inserts, then ${MEMORY_ENTRIES} more (evicting every earlier entry); after each step two full GCs forced through the inspector (HeapProfiler.collectGarbage), then V8 heap used (Runtime.getHeapUsage) and VmRSS`,
      },
      peer: { name: '@portkey-ai/gateway', version: portkey.version },
      targets: { limits: TARGETS, results: targets },
      reference: REFERENCE,
      scenarios: results.map((r) => ({ ...r, added: added.get(r.id) })),
      processes,
      cacheCheck,
      logging,
      memory,
      retained,
      cardinality,
      comparison: saved.comparison,
      optimizer,
      coldStart,
      joinStream,
      bigBodies,
      tracing,
    };

    console.log('');
    console.log(renderReport(json));
    console.log('');
    console.log(optimizerTables(optimizer));
    console.log('');
    console.log(joinStreamTable(joinStream));
    console.log('');
    console.log(renderEmbeddingsCpu(results));
    console.log('');
    console.log(renderBedrockCpu(results));
    console.log('');
    console.log(renderBigBodies(bigBodies));
    console.log('');
    console.log(tracingTable(tracing));
    console.log(offVersusPrevious(tracing));
    const outDir = join(ROOT, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    log('saved bench/results/latest.json');
    if (json.valid) {
      writeBenchmarks(json, BENCHMARKS_PATH);
      log('wrote BENCHMARKS.md');
    } else {
      log('BENCHMARKS.md left as it was: this run is invalid');
    }
    return problems.length === 0 ? 0 : 1;
  } finally {
    loadSampler.stop();
    await stopAll();
    clearTimeout(deadline);
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('bench', main);
