/** One collaboration turn: when the person's request arrived and when the AI's answer completed. */
export interface Turn {
  /** Epoch ms. */
  readonly requestAt: number;
  /** Epoch ms. */
  readonly completeAt: number;
}

export interface BandwidthStats {
  readonly turns: number;
  /** Collaborative bandwidth E = (N − 1) / span over the last turns; the guide's baseline until 3 turns. */
  readonly turnsPerSecond: number;
  /** τ: the session's own mean seconds per turn (1 / E). */
  readonly secondsPerTurn: number;
  /** Mean AI latency per turn, seconds (request received → response complete). */
  readonly meanLatency: number;
  /** Mean human think time, seconds (previous response complete → next request). */
  readonly meanThinkTime: number;
  /** Share of bandwidth lost to the AI latency actually observed: Δ / ((τ − Δ) + Δ). */
  readonly degradation: number;
  /** 1 − degradation. */
  readonly efficiencyRatio: number;
  /** True while the baseline stands in for measurements (fewer than 3 turns). */
  readonly baseline: boolean;
}

/** The guide's baseline collaboration rate: one turn every 8 s. */
export const BASELINE_TURNS_PER_SECOND = 0.125;
export const MAX_TURNS = 50;
const MIN_MEASURED_TURNS = 3;

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** The loss a delay Δ causes in a session whose turns take τ seconds: Δ / (τ + Δ). */
export function delayLoss(delaySeconds: number, secondsPerTurn: number): number {
  return delaySeconds <= 0 ? 0 : delaySeconds / (secondsPerTurn + delaySeconds);
}

/** Bandwidth of a session from its turns (oldest first), over the last {@link MAX_TURNS}. */
export function bandwidth(all: readonly Turn[]): BandwidthStats {
  const turns = all.slice(-MAX_TURNS);
  const n = turns.length;
  const meanLatency = n ? turns.reduce((s, t) => s + (t.completeAt - t.requestAt), 0) / n / 1000 : 0;
  const thinks = turns.slice(1).map((t, i) => Math.max(0, t.requestAt - turns[i].completeAt) / 1000);
  const meanThinkTime = thinks.length ? thinks.reduce((a, b) => a + b, 0) / thinks.length : 0;
  const span = n ? (turns[n - 1].completeAt - turns[0].requestAt) / 1000 : 0;
  const baseline = n < MIN_MEASURED_TURNS || span <= 0;
  const turnsPerSecond = baseline ? BASELINE_TURNS_PER_SECOND : (n - 1) / span;
  const secondsPerTurn = 1 / turnsPerSecond;
  // The turn time without the AI's share: what a delay adds to.
  const humanSeconds = baseline ? secondsPerTurn : Math.max(0, secondsPerTurn - meanLatency);
  const degradation = clamp01(delayLoss(meanLatency, humanSeconds));
  return { turns: n, turnsPerSecond, secondsPerTurn, meanLatency, meanThinkTime, degradation, efficiencyRatio: 1 - degradation, baseline };
}
