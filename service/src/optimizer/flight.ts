import type { Readable } from 'node:stream';
import type { Clock } from '../clock';
import { errorType, TboError, UpstreamHttpError } from '../errors';
import { NO_TRACE, type AttemptTrace, type RequestTrace } from '../observability/tracing';
import { SseParser, type SseFrame } from '../protocols/sse';
import { isObject, passedHeaders, type Protocol } from '../protocols/types';
import type { AnswerFacts } from './answer';
import type { DispatchRequest, Dispatcher } from './dispatcher';
import type { ModelRef } from './routing';

/** A live stream subscriber: gets every frame (replayed, then live) and one end. */
export interface FrameListener {
  frame(frame: SseFrame, optional: boolean): void;
  end(error?: Error): void;
}

/** A finished upstream answer. */
export interface FlightResult {
  /** The final response as JSON text, in `protocol`'s wire format. */
  readonly body: string;
  readonly protocol: Protocol;
  readonly target: ModelRef;
  /** What the optimizer did on the way ("queued", "retried", "fallback"). */
  readonly applied: readonly string[];
  readonly ttftMs: number;
  readonly totalMs: number;
  /** Provider, model and tokens of the answer (read once, here). */
  readonly facts: AnswerFacts | undefined;
  /** True when the body is the protocol's success shape (an error object in a 200 is not). */
  readonly cacheable: boolean;
  /** Upstream response headers the client gets on a live answer (request id, rate-limit state). */
  readonly upstreamHeaders: Readonly<Record<string, string>>;
}

function factsOf(body: string, protocol: Protocol, target: ModelRef, requestId: string | undefined): { readonly facts: AnswerFacts | undefined; readonly cacheable: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { facts: undefined, cacheable: false };
  }
  if (!isObject(parsed)) return { facts: undefined, cacheable: false };
  return {
    facts: {
      provider: protocol.provider, model: typeof parsed.model === 'string' ? parsed.model : '', usage: protocol.usage(parsed), requestId,
      ...(target.backend !== protocol.provider ? { backend: target.backend } : {}), ...(target.id !== target.model ? { backendModel: target.id } : {}),
    },
    cacheable: protocol.isAnswer(parsed),
  };
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function asError(err: unknown, timedOut: boolean, timeoutMs: number): Error {
  if (timedOut) return new TboError('timeout', `no complete upstream answer within ${timeoutMs / 1000} s`);
  if (err instanceof TboError || err instanceof UpstreamHttpError) return err;
  const code = (err as { code?: unknown }).code;
  return new TboError('upstream_unavailable', `the upstream connection failed${typeof code === 'string' ? ` (${code})` : ''}`);
}

/**
 * One upstream call whose answer is shared: by the client that started it and by every identical
 * request that arrives while it runs (coalescing). It is cancelled when its last subscriber leaves.
 */
export class Flight {
  /** Resolves with the finished answer; rejects with the failure. */
  readonly final: Promise<FlightResult>;
  /** For streaming flights: resolves with the stream's wire format once the upstream started answering. */
  readonly started: Promise<Protocol>;
  /** Which upstream answers and the headers its clients get; set once the upstream started answering. */
  answeredBy: { readonly target: ModelRef; readonly headers: Readonly<Record<string, string>> } | undefined;

  private readonly controller = new AbortController();
  private readonly frames: { frame: SseFrame; optional: boolean }[] = [];
  private readonly listeners = new Set<FrameListener>();
  private subscribers = 0;
  private settled = false;
  private resolveFinal!: (result: FlightResult) => void;
  private rejectFinal!: (err: Error) => void;
  private resolveStarted!: (protocol: Protocol) => void;
  private rejectStarted!: (err: Error) => void;

  /**
   * @param trace the trace of the request that started the flight: its upstream attempts' spans
   *   go there (coalesced requests link to them)
   */
  constructor(
    readonly streaming: boolean,
    private readonly clock: Clock,
    private readonly onAbandon: () => void,
    readonly trace: RequestTrace = NO_TRACE,
  ) {
    this.final = new Promise((resolve, reject) => ((this.resolveFinal = resolve), (this.rejectFinal = reject)));
    this.started = new Promise((resolve, reject) => ((this.resolveStarted = resolve), (this.rejectStarted = reject)));
    // Nobody may be listening to one of them; failures are delivered through the other.
    this.final.catch(() => undefined);
    this.started.catch(() => undefined);
  }

  /** Runs the upstream call; never rejects (the outcome goes to `final` and `started`). */
  async run(dispatcher: Dispatcher, request: Omit<DispatchRequest, 'signal' | 'deadline'>, timeoutMs: number): Promise<void> {
    const begin = this.clock.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    timer.unref();
    try {
      const d = await dispatcher.dispatch({ ...request, signal: this.controller.signal, deadline: begin + timeoutMs });
      const headers = passedHeaders(d.protocol, d.response.headers);
      this.answeredBy = { target: d.target, headers };
      let result: FlightResult;
      try {
        let body: string;
        try {
          body = this.streaming ? await this.relay(d.response.body, d.protocol, d.attempt) : await readText(d.response.body);
        } finally {
          d.release();
        }
        if (timedOut) throw new Error('timed out');
        result = {
          body, protocol: d.protocol, target: d.target, applied: d.applied, ttftMs: d.ttftMs, totalMs: this.clock.now() - begin,
          upstreamHeaders: headers, ...factsOf(body, d.protocol, d.target, headers[d.protocol.requestIdHeader]),
        };
      } catch (err) {
        // Abandoned by every client (the call was cancelled), or failed.
        d.attempt.end(this.controller.signal.aborted && !timedOut ? 'cancelled' : errorType(asError(err, timedOut, timeoutMs)));
        throw err;
      }
      d.attempt.end(undefined, result.facts);
      this.succeed(result);
    } catch (err) {
      this.fail(asError(err, timedOut, timeoutMs));
    } finally {
      clearTimeout(timer);
    }
  }

  private async relay(body: Readable, protocol: Protocol, attempt: AttemptTrace): Promise<string> {
    this.resolveStarted(protocol);
    const parser = new SseParser();
    const assembler = protocol.newAssembler();
    let first = true;
    for await (const chunk of body) {
      if (first) {
        first = false;
        attempt.firstChunk();
      }
      for (const frame of parser.push(chunk as Buffer)) {
        const entry = { frame, optional: assembler.push(frame) };
        this.frames.push(entry);
        for (const l of this.listeners) l.frame(frame, entry.optional);
      }
    }
    const result = assembler.result();
    if (result === undefined) throw new TboError('upstream_unavailable', `the ${protocol.provider} stream ended before it completed`);
    return result;
  }

  private succeed(result: FlightResult): void {
    this.settled = true;
    this.resolveStarted(result.protocol);
    this.resolveFinal(result);
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
    for (const f of this.frames) listener.frame(f.frame, f.optional);
    if (this.settled) {
      this.final.then(() => listener.end(), (err: Error) => listener.end(err));
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
