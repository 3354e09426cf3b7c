/**
 * Side run (not part of `npm run bench`): where TBO's CPU goes. Runs `node --cpu-prof
 * service/dist/main.js` (node 20 refuses --cpu-prof in NODE_OPTIONS), default log level, once for cache misses and once for cache hits
 * (2 000 warm-up + 20 000 requests, 1 connection), and prints the profile summaries.
 *
 *   npm run build --prefix service && npx tsx bench/profile.ts [miss|hit ...] [--main <other build's dist/main.js>]
 *
 * Summaries go to bench/results/profile-latest.json; the raw .cpuprofile files stay in a temp
 * directory whose path is printed (open them in Chrome DevTools).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { summarizeProfile, type CpuProfile, type ProfileSummary, type Row } from './cpuprofile';
import { fire } from './load';
import { installCleanupHandlers, killAllNow, ROOT, spawnBenchServer, spawnTbo, stopAll, stopPid } from './processes';
import { CHAT_PATH, chatBody, smallPrompt, Tags } from './requests';
import { fmt, renderTable } from './table';

const WARMUP = 2000;
const MEASURE = 20_000;
const TBO_KEY = 'tbo-bench-client-key-0123456789';

/** Per request: the profile spans the process's life, so this slightly overstates (start-up, warm-up). */
const PER_REQUEST = WARMUP + MEASURE;

function printRows(title: string, list: readonly Row[], n: number): void {
  console.log(
    renderTable(
      [title, 'ms', 'µs/req', '% of busy'],
      list.slice(0, n).map((r) => [r.name, fmt(r.ms, 0), fmt((r.ms * 1000) / PER_REQUEST, 1), fmt(r.pct, 1)]),
      ['l', 'r', 'r', 'r'],
    ),
  );
  console.log('');
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const deadline = setTimeout(() => {
    console.error('profile: deadline, giving up');
    killAllNow();
    process.exit(1);
  }, 300_000);
  const args = process.argv.slice(2);
  const mainAt = args.indexOf('--main');
  const main = mainAt >= 0 ? resolve(args[mainAt + 1] ?? '') : undefined;
  if (main !== undefined && !existsSync(main)) throw new Error(`--main: no built service at ${main}`);
  const modes = args.filter((m): m is 'miss' | 'hit' => m === 'miss' || m === 'hit');
  const dir = mkdtempSync(join(tmpdir(), 'tbo-profile-'));
  writeFileSync(join(dir, 'config.yaml'), '');
  let ok = false;
  const tags = new Tags();
  const out: Record<string, { cpuUsPerRequestWithProfiler: number; summary: ProfileSummary }> = {};
  try {
    const upstream = await spawnBenchServer('upstream', 'upstream-server.ts');
    for (const mode of modes.length ? modes : (['miss', 'hit'] as const)) {
      const tbo = await spawnTbo(
        `tbo-${mode}`,
        {
          TBO_CONFIG_FILE: join(dir, 'config.yaml'),
          OPENAI_API_KEY: 'sk-openai-bench-0123456789',
          OPENAI_BASE_URL: `${upstream.url}/v1`,
          ANTHROPIC_API_KEY: 'sk-ant-bench-0123456789',
          ANTHROPIC_BASE_URL: upstream.url,
          TBO_API_KEYS: `bench:${TBO_KEY}`,
          API_RATE_LIMIT: '100000000',
        },
        join(dir, `tbo-${mode}.log`),
        { main, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=tbo-${mode}.cpuprofile`, '--cpu-prof-interval=250'] },
      );
      const url = `${tbo.url}${CHAT_PATH}`;
      const headers = { authorization: `Bearer ${TBO_KEY}` };
      const body = mode === 'hit' ? chatBody(smallPrompt('HIT-000000001')) : () => chatBody(smallPrompt(tags.next()));
      await fire({ url, headers, body, amount: WARMUP });
      const cpu0 = await tbo.cpu();
      const r = await fire({ url, headers, body, amount: MEASURE });
      const cpu1 = await tbo.cpu();
      if (r.errors + r.non2xx > 0) throw new Error(`${mode}: ${r.errors} errors, ${r.non2xx} non-2xx`);
      await stopPid(tbo.pid, 10_000); // SIGTERM: graceful exit writes the profile
      const file = readdirSync(dir).find((f) => f === `tbo-${mode}.cpuprofile`);
      if (!file) throw new Error(`no profile written for ${mode} in ${dir}`);
      const summary = summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, 40);
      const perReq = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / r.requests;
      out[mode] = { cpuUsPerRequestWithProfiler: perReq, summary };
      console.log(`\n=== cache ${mode}: ${r.requests} requests, ${fmt(perReq, 1)} µs CPU/request with the profiler on; busy ${fmt(summary.busyMs, 0)} ms of ${fmt(summary.sampledMs, 0)} ms sampled (whole process life incl. warm-up) ===\n`);
      printRows('top self time', summary.topSelf, 30);
      printRows('self time by package', summary.selfByPackage, 20);
      printRows('inclusive time by package', summary.inclusiveByPackage, 20);
      printRows('inclusive time, TBO functions', summary.tboInclusive, 25);
      for (const n of summary.nativeCallers) printRows(`${n.name} (native, ${fmt(n.ms, 0)} ms) called from`, n.callers, 4);
    }
    console.log('Note: V8 samples wall-clock time on the main thread. Time inside a syscall (writev, writeString) includes being');
    console.log('preempted there, which on a loaded machine is most of it; compare busy ms with the measured CPU µs/request.');
    const outDir = join(ROOT, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'profile-latest.json'), `${JSON.stringify({ createdAt: new Date().toISOString(), build: main ?? 'service/dist/main.js', profilesDir: dir, ...out }, null, 2)}\n`);
    console.log(`raw profiles: ${dir}; summary: bench/results/profile-latest.json`);
    ok = true;
  } finally {
    await stopAll();
    clearTimeout(deadline);
    if (!ok) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('profile failed:', err instanceof Error ? (err.stack ?? err.message) : err);
  killAllNow();
  process.exitCode = 1;
});
