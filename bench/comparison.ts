/**
 * CPU per request of this checkout's built service against another build (`bench/compare.ts`):
 * the result's shape, its table, and the check that a saved comparison is about the build
 * `npm run bench` measures (so BENCHMARKS.md can show it).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fmt, renderTable } from './table';

/** The largest CPU-per-request ratio (this build ÷ the previous one) that is not a regression. */
export const REGRESSION_LIMIT = 1.05;

export const COMPARISON_PATH = join(__dirname, 'results', 'compare-latest.json');

export interface BuildInfo {
  /** "this checkout" or "previous". */
  readonly role: 'this checkout' | 'previous';
  /** `git rev-parse HEAD` of the checkout the build comes from (undefined outside git). */
  readonly commit: string | undefined;
  /** True when that checkout's service/src has uncommitted changes. */
  readonly dirty: boolean | undefined;
  /** SHA-256 over every .js file of the build's dist directory (path and content). */
  readonly distSha256: string;
}

/** One chunk: the same number of requests sent to both builds at the same time. */
export interface PairedChunk {
  readonly round: number;
  readonly path: 'miss' | 'hit';
  /** Requests each build answered. */
  readonly requests: number;
  /** CPU time (user + system, µs) of each build's process over the chunk. */
  readonly currentCpuMicros: number;
  readonly previousCpuMicros: number;
  /** The system (kernel) part of it. */
  readonly currentSystemMicros: number;
  readonly previousSystemMicros: number;
  readonly currentWallMs: number;
  readonly previousWallMs: number;
  /** Calls the fake upstream got during the chunk (both builds together). */
  readonly upstreamCalls: number;
  /** Cores busy with other processes than the two builds, the upstream and the client. */
  readonly foreignCores: number;
}

export interface PathComparison {
  readonly path: 'miss' | 'hit';
  /** Requests per build. */
  readonly requests: number;
  /** CPU µs per request over all measured chunks: this build, the previous one. */
  readonly currentUs: number;
  readonly previousUs: number;
  /** The system (kernel) part of each: mostly loopback TCP. */
  readonly currentSystemUs: number;
  readonly previousSystemUs: number;
  /** currentUs ÷ previousUs. */
  readonly ratio: number;
  /** The same ratio per chunk (both builds' share of it ran at the same time). */
  readonly perChunk: readonly number[];
  readonly medianChunk: number;
  /** Geometric mean of the per-round ratios and its 95 % confidence interval (t on the log ratios). */
  readonly geoMeanChunk: number;
  readonly ci95: readonly [number, number];
  readonly regressed: boolean;
}

export interface ComparisonResult {
  readonly benchmark: 'tbo-build-comparison';
  readonly measuredAt: string;
  readonly durationSeconds: number;
  readonly valid: boolean;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly limit: number;
  readonly builds: { readonly current: BuildInfo; readonly previous: BuildInfo };
  readonly rounds: number;
  readonly method: string;
  readonly machine: {
    readonly cores: number;
    readonly loadAvgAtStart: readonly number[];
    readonly loadAvgAtEnd: readonly number[];
    readonly busyPctDuringRun: number;
    /** Mean cores busy with other people's processes while the chunks ran. */
    readonly foreignCores: number;
  };
  readonly paths: readonly PathComparison[];
  /** What the previous build's own bench/results/latest.json (its BENCHMARKS.md) said, when it has one. */
  readonly previousBenchmarks?: { readonly startedAt: string; readonly missCpuUs: number | undefined; readonly hitCpuUs: number | undefined };
  readonly chunks: readonly PairedChunk[];
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return jsFiles(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

/** SHA-256 over the .js files (relative path and content, sorted) next to and below `main`. */
export function distSha256(main: string): string {
  const dir = dirname(main);
  const hash = createHash('sha256');
  for (const file of jsFiles(dir).sort()) {
    hash.update(relative(dir, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The 97.5 % quantile of Student's t with `df` degrees of freedom (two-sided 95 %). */
function t975(df: number): number {
  const table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
  return df < 1 ? NaN : (table[df - 1] ?? 1.96 + 2.4 / df);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Ratio of this build to the previous one for one path, from its paired chunks. */
export function comparePath(path: 'miss' | 'hit', chunks: readonly PairedChunk[]): PathComparison {
  const mine = chunks.filter((c) => c.path === path);
  const perChunk = mine.map((c) => c.currentCpuMicros / c.previousCpuMicros);
  const requests = mine.reduce((a, c) => a + c.requests, 0);
  const currentUs = mine.reduce((a, c) => a + c.currentCpuMicros, 0) / requests;
  const previousUs = mine.reduce((a, c) => a + c.previousCpuMicros, 0) / requests;
  const ratio = currentUs / previousUs;
  const currentSystemUs = mine.reduce((a, c) => a + c.currentSystemMicros, 0) / requests;
  const previousSystemUs = mine.reduce((a, c) => a + c.previousSystemMicros, 0) / requests;
  const logs = perChunk.map(Math.log);
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, logs.length - 1));
  const half = (t975(logs.length - 1) * sd) / Math.sqrt(logs.length);
  return {
    path,
    requests,
    currentUs,
    previousUs,
    currentSystemUs,
    previousSystemUs,
    ratio,
    perChunk,
    medianChunk: median(perChunk),
    geoMeanChunk: Math.exp(mean),
    ci95: [Math.exp(mean - half), Math.exp(mean + half)],
    regressed: ratio > REGRESSION_LIMIT,
  };
}

const short = (b: BuildInfo) => `${b.commit ? b.commit.slice(0, 7) : 'no git'}${b.dirty ? ' + uncommitted changes' : ''}`;

export function renderComparison(c: ComparisonResult): string {
  const table = renderTable(
    ['path (1 connection)', `this build µs/req (${short(c.builds.current)})`, `previous µs/req (${short(c.builds.previous)})`, 'user / sys, this', 'user / sys, previous', 'ratio', 'per chunk: geo. mean [95 % CI]', 'median (min–max)', `verdict (ratio ≤ ${fmt(c.limit, 2)})`],
    c.paths.map((p) => [
      `cache ${p.path}`,
      fmt(p.currentUs, 1),
      fmt(p.previousUs, 1),
      `${fmt(p.currentUs - p.currentSystemUs, 0)} / ${fmt(p.currentSystemUs, 0)}`,
      `${fmt(p.previousUs - p.previousSystemUs, 0)} / ${fmt(p.previousSystemUs, 0)}`,
      fmt(p.ratio, 3),
      `${fmt(p.geoMeanChunk, 3)} [${fmt(p.ci95[0], 3)}–${fmt(p.ci95[1], 3)}]`,
      `${fmt(p.medianChunk, 3)} (${fmt(Math.min(...p.perChunk), 3)}–${fmt(Math.max(...p.perChunk), 3)})`,
      p.regressed ? 'REGRESSED' : 'ok',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
  const prev = c.previousBenchmarks;
  return [
    table,
    `${c.rounds} rounds, ${c.paths.map((p) => `${p.requests} ${p.path} requests`).join(' and ')} per build; load avg ${c.machine.loadAvgAtStart.join(' ')} at start, ${c.machine.loadAvgAtEnd.join(' ')} at end; all cores ${fmt(c.machine.busyPctDuringRun, 0)} % busy, foreign cores ${fmt(c.machine.foreignCores, 2)} (mean).`,
    ...(prev ? [`The previous build's own BENCHMARKS.md (${prev.startedAt.slice(0, 16).replace('T', ' ')} UTC, another day's load): miss ${fmt(prev.missCpuUs, 0)} µs, hit ${fmt(prev.hitCpuUs, 0)} µs.`] : []),
  ].join('\n');
}

/**
 * The saved comparison, when it measured exactly the build at `main` (same dist hash) and was
 * valid; otherwise undefined, with the reason.
 */
export function savedComparisonFor(main: string, path = COMPARISON_PATH): { comparison?: ComparisonResult; reason?: string } {
  if (!existsSync(path)) return { reason: `no ${relative(process.cwd(), path)} (run bench/compare.ts)` };
  const c = JSON.parse(readFileSync(path, 'utf8')) as ComparisonResult;
  if (c.benchmark !== 'tbo-build-comparison') return { reason: `${path} is not a comparison result` };
  if (!c.valid) return { reason: `${path} is an invalid run` };
  if (c.builds.current.distSha256 !== distSha256(main)) return { reason: `${relative(process.cwd(), path)} measured another build than service/dist now holds` };
  return { comparison: c };
}
