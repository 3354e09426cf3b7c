/**
 * Every knob of the bandwidth report in one place. Every run (through TBO, once per cache policy,
 * and direct to the upstream) uses exactly these values; the JSON result repeats them under
 * `scenario`.
 */

/** Seeds the workload script and the upstream's latency and failure draws. */
export const SEED = 20261126;

/**
 * Human time is compressed: think times of 5–30 s become 0.5–3 s. Upstream latency is NOT
 * scaled (0.3–5 s real time), so a scaled run overstates latency's share of a turn; the report
 * also projects the loss at unscaled think time.
 */
export const TIME_SCALE = 0.1;
/** Real human think time between an answer and the next question, seconds (uniform). */
export const THINK_SECONDS = { min: 5, max: 30 } as const;
/** Real time a person takes to press "retry" after an error, seconds. */
export const RETRY_PAUSE_SECONDS = 5;
/** Attempts a person makes at one question before giving up on it. */
export const MAX_ATTEMPTS = 3;

/** Upstream latency per call: log-normal (median, σ of ln seconds), clamped to [min, max] seconds. */
export const UPSTREAM_LATENCY = { medianSeconds: 1.0, sigma: 0.7, minSeconds: 0.3, maxSeconds: 5 } as const;
/** Share of upstream calls answered 529 overloaded_error (after their drawn latency). */
export const OVERLOAD_RATE = 0.01;

/** Turns per session; sessions not in a burst start anywhere within the window (seconds). */
export const TURNS_PER_SESSION = 8;
export const START_WINDOW_SECONDS = 20;
/** Sessions per shared script that follow it word for word, and that reword one question. */
export const REPEAT_SESSIONS_PER_SCRIPT = 5;
export const NEAR_SESSIONS_PER_SCRIPT = 3;
export const UNIQUE_SESSIONS = 10;
/** Bursts: this many sessions start at the same instant with the same script. */
export const BURSTS: readonly { readonly script: string; readonly sessions: number; readonly atSeconds: number }[] = [
  { script: 'standup', sessions: 8, atSeconds: 6 },
  { script: 'release', sessions: 6, atSeconds: 15 },
];

/** The one upstream model both runs use (TBO: the fast tier, complexity 1). */
export const PROVIDER = 'anthropic';
export const MODEL = 'claude-haiku-4-5';
export const MAX_TOKENS = 1000;
/** USD per 1k tokens: passed to TBO as TBO_MODEL_PRICES and used for the direct run's cost. */
export const PRICES: Readonly<Record<string, { readonly input: number; readonly output: number }>> = {
  [MODEL]: { input: 0.001, output: 0.005 },
};

/** One replay through TBO: its own TBO process (and its own upstream), with one cache policy. */
export interface TboRunSpec {
  /** Names the run in the tables, the checks and latest.json. */
  readonly label: string;
  /** `TBO_CACHE_SAMPLED` of this run's TBO process. */
  readonly policy: string;
  /**
   * `temperature` sent in every `/v1/collaborate` request. @default none, as the SDKs send: the
   * API's default (1) applies, so every request is sampled
   */
  readonly temperature?: number;
}

/**
 * The TBO runs, played at the same time as each other and as the one direct run: every policy for
 * sampled answers, plus the default policy with deterministic requests (temperature 0), which
 * `bypass` caches like any other request.
 */
export const TBO_RUNS: readonly TboRunSpec[] = [
  { label: 'cache', policy: 'cache' },
  { label: 'bypass', policy: 'bypass' },
  { label: 'variants:3', policy: 'variants:3' },
  { label: 'bypass, temperature 0', policy: 'bypass', temperature: 0 },
];

/**
 * What losing the cache costs: the measured window through a TBO that just started (empty cache:
 * the TBO run labelled `coldRun`, part of TBO_RUNS) against the same window through a second TBO
 * with the same settings whose cache the previous window of the same workload filled. The previous
 * window is another draw of the workload (`previousWindowSeed`: the same shared scripts and bursts,
 * other start and think times, other rewordings; unique questions of its own), played back to back
 * without think time just before the measured window starts: only what it leaves in the cache
 * matters, and the cache TTL (balanced: 1800 s) outlasts both windows.
 */
export const COLD_WARM = {
  coldRun: 'bypass, temperature 0',
  warmRun: 'warm: bypass, temperature 0',
  previousWindowSeed: SEED + 1,
} as const;

/** The TBO run the per-session table details: the deployment's default with the workload as the SDKs send it. */
export const MAIN_RUN = 'bypass';

/**
 * A sampled answer (no temperature, or one above 0) differs from call to call, as a real model's
 * does: the upstream appends a fixed-length tag drawn from the request and how many times it has
 * seen it. A deterministic answer (temperature 0) gets a tag of the same length drawn from the
 * request alone, the same every time. Without this, the N answers of `variants:N` would be the
 * same echo and the sessions they go to would never diverge.
 */
export const SAMPLED_ANSWERS_DIFFER = true;

/** Per-request client timeout, and the hard stop of the whole report. */
export const CLIENT_TIMEOUT_MS = 30_000;
export const DEADLINE_MS = 240_000;
