/**
 * Every knob of the bandwidth report in one place. Both runs (through TBO, and direct to the
 * upstream) use exactly these values; the JSON result repeats them under `scenario`.
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

/** Per-request client timeout, and the hard stop of the whole report. */
export const CLIENT_TIMEOUT_MS = 30_000;
export const DEADLINE_MS = 150_000;
