import { bandwidth, BASELINE_TURNS_PER_SECOND, delayLoss, type Turn } from '../../service/src/optimizer/bandwidth';

/** A scripted session: each turn is (think seconds before the request, AI latency seconds). */
function session(script: readonly [think: number, latency: number][]): Turn[] {
  const turns: Turn[] = [];
  let t = 1_000_000;
  for (const [think, latency] of script) {
    const requestAt = t + think * 1000;
    const completeAt = requestAt + latency * 1000;
    turns.push({ requestAt, completeAt });
    t = completeAt;
  }
  return turns;
}

describe('collaborative bandwidth', () => {
  it('reproduces the guide\'s delay losses at τ ≈ 7.5 s', () => {
    expect(delayLoss(2, 7.5)).toBeCloseTo(0.2105, 4);
    expect(delayLoss(5, 7.5)).toBeCloseTo(0.4, 4);
    expect(delayLoss(10, 7.5)).toBeCloseTo(0.5714, 4);
    expect(delayLoss(0, 7.5)).toBe(0);
  });

  it('uses the 0.125 turns/s baseline until a session has 3 turns', () => {
    const stats = bandwidth(session([[0, 1], [5, 1]]));
    expect(stats).toMatchObject({ turns: 2, baseline: true, turnsPerSecond: BASELINE_TURNS_PER_SECOND, secondsPerTurn: 8 });
    expect(stats.meanLatency).toBe(1);
    expect(stats.degradation).toBeCloseTo(1 / 9, 10); // Δ / (τ + Δ) with τ = 8 s
  });

  it('measures a scripted session exactly', () => {
    // 4 turns: AI latency 2 s each, think time 6 s between turns → span = 2 + 3 × 8 = 26 s.
    const stats = bandwidth(session([[0, 2], [6, 2], [6, 2], [6, 2]]));
    expect(stats.turns).toBe(4);
    expect(stats.baseline).toBe(false);
    expect(stats.turnsPerSecond).toBeCloseTo(3 / 26, 12);
    expect(stats.secondsPerTurn).toBeCloseTo(26 / 3, 12);
    expect(stats.meanLatency).toBe(2);
    expect(stats.meanThinkTime).toBe(6);
    // The AI's 2 s against the turn's 26/3 − 2 = 6.667 s of human time: 2 / 8.667 = 0.2308.
    expect(stats.degradation).toBeCloseTo(2 / (26 / 3), 12);
    expect(stats.efficiencyRatio).toBeCloseTo(1 - 2 / (26 / 3), 12);
  });

  it('keeps only the last 50 turns', () => {
    const slow = session(Array.from({ length: 10 }, () => [10, 10] as [number, number]));
    const fast = session(Array.from({ length: 50 }, () => [1, 1] as [number, number]));
    const shifted = fast.map((t) => ({ requestAt: t.requestAt + 1e9, completeAt: t.completeAt + 1e9 }));
    const stats = bandwidth([...slow, ...shifted]);
    expect(stats.turns).toBe(50);
    expect(stats.meanLatency).toBe(1);
  });
});
