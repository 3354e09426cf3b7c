import type { Readable } from 'node:stream';
import type { Upstream, UpstreamRequest } from '../adapters/upstream/types';
import type { Clock } from '../clock';
import { TboError, UpstreamHttpError } from '../errors';
import { SseParser } from '../protocols/sse';
import type { Protocol } from '../protocols/types';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A live stream subscriber: gets every frame (replayed, then live) and one end. */
export interface FrameListener {
  frame(raw: string, optional: boolean): void;
  end(error?: Error): void;
}

async function readText(body: Readable, limit = Infinity): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      body.destroy();
      break;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function connectionError(err: unknown, provider: string, timedOut: boolean): Error {
  if (err instanceof TboError || err instanceof UpstreamHttpError) return err;
  if (timedOut) return new TboError('timeout', `the ${provider} API did not answer in time`);
  const code = (err as { code?: string }).code;
  return new TboError('upstream_unavailable', `could not reach the ${provider} API${code ? ` (${code})` : ''}`);
}

/**
 * One upstream call whose answer is shared: by the client that started it and by every identical
 * request that arrives while it runs (coalescing). It is cancelled when its last subscriber leaves.
 */
export class Flight {
  /** Resolves with the final response (JSON text); rejects with the failure. */
  readonly final: Promise<string>;
  /** For streaming flights: resolves when the upstream accepted and the stream began. */
  readonly started: Promise<void>;
  /** Milliseconds the upstream took to answer with headers, then in total. */
  headersMs = 0;
  totalMs = 0;

  private readonly controller = new AbortController();
  private readonly frames: { raw: string; optional: boolean }[] = [];
  private readonly listeners = new Set<FrameListener>();
  private subscribers = 0;
  private settled = false;
  private resolveFinal!: (body: string) => void;
  private rejectFinal!: (err: Error) => void;
  private resolveStarted!: () => void;
  private rejectStarted!: (err: Error) => void;

  constructor(
    readonly protocol: Protocol,
    readonly streaming: boolean,
    private readonly clock: Clock,
    private readonly onAbandon: () => void,
  ) {
    this.final = new Promise((resolve, reject) => ((this.resolveFinal = resolve), (this.rejectFinal = reject)));
    this.started = new Promise((resolve, reject) => ((this.resolveStarted = resolve), (this.rejectStarted = reject)));
    // Nobody may be listening to one of them; failures are delivered through the other.
    this.final.catch(() => undefined);
    this.started.catch(() => undefined);
  }

  /** Runs the upstream call; never rejects (the outcome goes to `final` and `started`). */
  async run(upstream: Upstream, request: Omit<UpstreamRequest, 'signal'>, timeoutMs: number): Promise<void> {
    const begin = this.clock.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    timer.unref();
    try {
      const res = await upstream.send({ ...request, signal: this.controller.signal });
      this.headersMs = this.clock.now() - begin;
      if (res.status < 200 || res.status >= 300) {
        const retryAfter = res.headers['retry-after'];
        const text = await readText(res.body, MAX_ERROR_BODY_BYTES);
        throw new UpstreamHttpError(res.status, text, typeof retryAfter === 'string' ? retryAfter : undefined);
      }
      const body = this.streaming ? await this.relay(res.body) : await readText(res.body);
      this.totalMs = this.clock.now() - begin;
      this.succeed(body);
    } catch (err) {
      this.totalMs = this.clock.now() - begin;
      this.fail(connectionError(err, this.protocol.provider, timedOut));
    } finally {
      clearTimeout(timer);
    }
  }

  private async relay(body: Readable): Promise<string> {
    this.resolveStarted();
    const parser = new SseParser();
    const assembler = this.protocol.newAssembler();
    for await (const chunk of body) {
      for (const frame of parser.push(chunk as Buffer)) {
        const entry = { raw: frame.raw, optional: assembler.push(frame) };
        this.frames.push(entry);
        for (const l of this.listeners) l.frame(entry.raw, entry.optional);
      }
    }
    const result = assembler.result();
    if (result === undefined) throw new TboError('upstream_unavailable', `the ${this.protocol.provider} stream ended before it completed`);
    return result;
  }

  private succeed(body: string): void {
    this.settled = true;
    this.resolveStarted();
    this.resolveFinal(body);
    for (const l of this.listeners) l.end();
    this.listeners.clear();
  }

  private fail(err: Error): void {
    this.settled = true;
    this.rejectStarted(err);
    this.rejectFinal(err);
    for (const l of this.listeners) l.end(err);
    this.listeners.clear();
  }

  /** Counts a client that waits on this flight; call {@link release} when it leaves. */
  join(): void {
    this.subscribers++;
  }

  release(): void {
    this.subscribers--;
    if (this.subscribers <= 0 && !this.settled) {
      this.onAbandon();
      this.controller.abort();
    }
  }

  /** Replays the frames so far, then follows the live stream. Returns an unsubscribe function. */
  follow(listener: FrameListener): () => void {
    for (const f of this.frames) listener.frame(f.raw, f.optional);
    if (this.settled) {
      this.final.then(() => listener.end(), (err: Error) => listener.end(err));
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
