/**
 * The scripted replay: which sessions exist, when each starts, what each asks and how long each
 * person thinks between turns. Built from the seed alone, so both runs replay the same script.
 */
import { NEAR_IDENTICAL, SCRIPTS, uniqueScript } from './questions';
import { between, prng } from './random';
import {
  BURSTS,
  NEAR_SESSIONS_PER_SCRIPT,
  REPEAT_SESSIONS_PER_SCRIPT,
  RETRY_PAUSE_SECONDS,
  SEED,
  START_WINDOW_SECONDS,
  THINK_SECONDS,
  TIME_SCALE,
  TURNS_PER_SESSION,
  UNIQUE_SESSIONS,
} from './scenario';

export type SessionKind = 'repeat' | 'burst' | 'near' | 'unique';

export const KIND_MEANING: Readonly<Record<SessionKind, string>> = {
  repeat: 'follows a shared script word for word, starting at a random time (exact repeats of other sessions)',
  burst: `${BURSTS.map((b) => `${b.sessions}`).join(' and ')} sessions start at the same instant with the same script (concurrent duplicates)`,
  near: 'follows a shared script but rewords one question slightly (near-identical: a miss, and from there on its own)',
  unique: 'asks questions nobody else asks',
};

export interface SessionPlan {
  /** Sent as `context.session_id` (TBO run). */
  readonly id: string;
  readonly kind: SessionKind;
  readonly script: string;
  /** Scaled ms after the run starts. */
  readonly startMs: number;
  readonly questions: readonly string[];
  /** Scaled think time before turn i + 1, ms (length: turns − 1). */
  readonly thinkMs: readonly number[];
  /** Scaled pause before a manual retry, ms. */
  readonly retryPauseMs: number;
  /** What differs from the script, for near-identical sessions. */
  readonly note?: string;
}

const SHARED = ['onboarding', 'incident', 'review'] as const;

/**
 * The sessions of one window of the workload. The default is the measured window; another `seed`
 * gives another window of the same workload (the same shared scripts and bursts, other start and
 * think times, other rewordings), and `uniqueOffset` other unique questions.
 */
export function buildWorkload(seed: number = SEED, uniqueOffset = 0): SessionPlan[] {
  const random = prng(seed);
  const thinks = () => Array.from({ length: TURNS_PER_SESSION - 1 }, () => Math.round(between(random, THINK_SECONDS.min, THINK_SECONDS.max) * TIME_SCALE * 1000));
  const startAnywhere = () => Math.round(between(random, 0, START_WINDOW_SECONDS) * 1000);
  const retryPauseMs = Math.round(RETRY_PAUSE_SECONDS * TIME_SCALE * 1000);
  const script = (name: string) => {
    const questions = SCRIPTS[name].slice(0, TURNS_PER_SESSION);
    if (questions.length < TURNS_PER_SESSION) throw new Error(`script ${name} has fewer than ${TURNS_PER_SESSION} questions`);
    return questions;
  };
  const plans: SessionPlan[] = [];

  for (const name of SHARED) {
    for (let i = 1; i <= REPEAT_SESSIONS_PER_SCRIPT; i++) {
      plans.push({ id: `repeat-${name}-${i}`, kind: 'repeat', script: name, startMs: startAnywhere(), questions: script(name), thinkMs: thinks(), retryPauseMs });
    }
  }
  for (const burst of BURSTS) {
    for (let i = 1; i <= burst.sessions; i++) {
      plans.push({ id: `burst-${burst.script}-${i}`, kind: 'burst', script: burst.script, startMs: burst.atSeconds * 1000, questions: script(burst.script), thinkMs: thinks(), retryPauseMs });
    }
  }
  for (const name of SHARED) {
    for (let i = 0; i < NEAR_SESSIONS_PER_SCRIPT; i++) {
      const turn = 1 + Math.floor(random() * 4); // one of turns 1–4
      const change = NEAR_IDENTICAL[i % NEAR_IDENTICAL.length];
      const questions = script(name).map((q, t) => (t === turn - 1 ? change.apply(q) : q));
      plans.push({ id: `near-${name}-${i + 1}`, kind: 'near', script: name, startMs: startAnywhere(), questions, thinkMs: thinks(), retryPauseMs, note: `turn ${turn}: ${change.name}` });
    }
  }
  for (let i = 0; i < UNIQUE_SESSIONS; i++) {
    const questions = uniqueScript(uniqueOffset + i).slice(0, TURNS_PER_SESSION);
    plans.push({ id: `unique-${i + 1}`, kind: 'unique', script: 'own', startMs: startAnywhere(), questions, thinkMs: thinks(), retryPauseMs });
  }
  return plans;
}
