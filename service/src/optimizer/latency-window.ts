import { percentile } from './breaker';

/** The latencies of the last N proxied requests, for the performance report. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly size = 1000) {}

  add(seconds: number): void {
    if (this.samples.length < this.size) this.samples.push(seconds);
    else this.samples[this.next] = seconds;
    this.next = (this.next + 1) % this.size;
  }

  summary(target: number): { readonly p50: number; readonly p95: number; readonly mean: number; readonly targetAchievement: number; readonly samples: number } {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const n = sorted.length;
    return {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      mean: n ? sorted.reduce((a, b) => a + b, 0) / n : 0,
      targetAchievement: n ? sorted.filter((s) => s <= target).length / n : 0,
      samples: n,
    };
  }
}
