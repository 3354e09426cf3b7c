/**
 * Steady client traffic through nginx for the rollback drill: a few workers, each sending
 * `POST /v1/messages` at a fixed pace over its own connection (`Connection: close`, as a client
 * that does not pool would), recording every request's id, when it ended and whether it succeeded.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { send } from '../../test/topology/client';
import { waitFor } from '../../test/support/ports';

/** One request the traffic sent. */
export interface TrafficRequest {
  readonly id: string;
  /** performance.now() when it ended. */
  readonly endedAt: number;
  /** HTTP status, or 0 on a socket error or timeout. */
  readonly status: number;
}

export interface TrafficOptions {
  readonly port: number;
  readonly apiKey: string;
  readonly model: string;
  /** Requests per second over all workers. @default 150 */
  readonly rate?: number;
  /** @default 3 */
  readonly workers?: number;
  /** Distinct prompts, sent round-robin (mostly cache hits once each instance has seen them). @default 20 */
  readonly prompts?: number;
}

export class SteadyTraffic {
  readonly requests: TrafficRequest[] = [];
  /** The first few failures: status and error message (no prompt text). */
  readonly failureSamples: string[] = [];
  private stopped = false;
  private running: Promise<void> | undefined;
  private sent = 0;

  constructor(private readonly opts: TrafficOptions) {}

  get failures(): number {
    return this.requests.filter((r) => r.status !== 200).length;
  }

  start(): void {
    const workers = this.opts.workers ?? 3;
    const intervalMs = (1000 * workers) / (this.opts.rate ?? 150);
    this.running = Promise.all(Array.from({ length: workers }, (_, w) => this.worker(w, intervalMs))).then(() => undefined);
  }

  /** Resolves once `count` more requests have completed. */
  async more(count: number, timeoutMs = 10_000): Promise<void> {
    const target = this.requests.length + count;
    await waitFor(() => this.requests.length >= target, { what: `${count} more requests through nginx`, timeoutMs, intervalMs: 10 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async worker(w: number, intervalMs: number): Promise<void> {
    const prompts = this.opts.prompts ?? 20;
    let next = performance.now() + (w * intervalMs) / (this.opts.workers ?? 3);
    while (!this.stopped) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait); // pacing: the traffic's rate, not a wait for a condition
      next += intervalMs;
      const id = `dr-traffic-${randomUUID()}`;
      const prompt = `steady traffic ${this.sent++ % prompts}`;
      let status = 0;
      try {
        const reply = await send(this.opts.port, {
          path: '/v1/messages',
          headers: { 'x-api-key': this.opts.apiKey, 'x-request-id': id, 'anthropic-version': '2023-06-01', connection: 'close' },
          json: { model: this.opts.model, max_tokens: 64, messages: [{ role: 'user', content: prompt }] },
          timeoutMs: 10_000,
        });
        status = reply.status;
        if (status !== 200 && this.failureSamples.length < 5) this.failureSamples.push(`HTTP ${status}`);
      } catch (err) {
        if (this.failureSamples.length < 5) this.failureSamples.push((err as Error).message.replace(prompt, '<prompt>'));
      }
      this.requests.push({ id, endedAt: performance.now(), status });
    }
  }
}
