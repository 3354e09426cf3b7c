import type { Readable } from 'node:stream';
import type { Clock } from '../clock';
import { TboError } from '../errors';
import { isObject, passedHeaders, type Json, type Protocol } from '../protocols/types';
import type { Dispatched, Dispatcher } from './dispatcher';
import type { OptimizerMetrics } from './ports';
import { publicApiRef } from './routing';

/** One call to an upstream object API (batches, stored responses): not a model call, never cached. */
export interface PassRequest {
  /** The provider's wire format with this call's path (query included) and method. */
  readonly protocol: Protocol;
  readonly tenant: string;
  /** 1 (highest) … 10. */
  readonly priority: number;
  /** Headers the protocol forwards are taken from these. */
  readonly clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer | string;
  /** Aborts the call (the client went away). */
  readonly signal: AbortSignal;
}

/** A 2xx upstream answer whose body is still to be read; {@link done} gives the upstream slot back. */
export interface PassResponse {
  readonly status: number;
  /** What the client gets of the upstream's headers: request id, rate-limit state, content type. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readable;
  done(): void;
}

export interface PassthroughOptions {
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly metrics: OptimizerMetrics;
  /** Bound on one call, body included (`TBO_UPSTREAM_TIMEOUT`), ms. */
  readonly timeoutMs: number;
}

/** Largest JSON body {@link Passthrough.json} reads (a page of 1000 batches is well under 1 MiB). */
const MAX_JSON_BYTES = 32 * 1024 * 1024;

/**
 * Calls an upstream object API through the dispatcher: in the priority lanes at the caller's share
 * and priority, with the service's key, retries of what the client cannot see (connection errors,
 * 5xx before an answer) and the 429 rule; upstream errors reach the caller as the upstream gave them.
 * No model answers these calls, so no breaker judges them.
 */
export class Passthrough {
  constructor(private readonly opts: PassthroughOptions) {}

  async call(req: PassRequest): Promise<PassResponse> {
    const { clock, timeoutMs } = this.opts;
    const started = clock.now();
    // Cancelled when the client leaves or the call outlives the upstream timeout, body included.
    const controller = new AbortController();
    const abort = () => controller.abort();
    req.signal.addEventListener('abort', abort, { once: true });
    const timer = setTimeout(abort, timeoutMs);
    timer.unref();
    const settle = () => {
      clearTimeout(timer);
      req.signal.removeEventListener('abort', abort);
    };
    let d: Dispatched;
    try {
      d = await this.opts.dispatcher.dispatch({
        route: { chain: [publicApiRef(req.protocol.provider)], tier: undefined, reason: 'pass-through', routed: false },
        stream: false,
        priority: req.priority,
        tenant: req.tenant,
        clientHeaders: req.clientHeaders,
        body: () => req.body,
        protocol: req.protocol,
        signal: controller.signal,
        deadline: started + timeoutMs,
      });
    } catch (err) {
      settle();
      if (controller.signal.aborted && !req.signal.aborted) throw new TboError('timeout', `the ${req.protocol.provider} API did not answer within ${timeoutMs / 1000} s`);
      throw err;
    }
    const contentType = d.response.headers['content-type'];
    const headers = { ...passedHeaders(d.protocol, d.response.headers), ...(typeof contentType === 'string' ? { 'content-type': contentType } : {}) };
    // The lane slot is held until the body is consumed or abandoned.
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      settle();
      d.release();
      this.opts.metrics.upstreamCall(req.protocol.provider, 'ok', (clock.now() - started) / 1000);
    };
    d.response.body.once('close', done);
    return { status: d.response.status, headers, body: d.response.body, done };
  }

  /** A call whose answer is a JSON object, read whole. */
  async json(req: PassRequest): Promise<{ readonly body: Json; readonly headers: Readonly<Record<string, string>> }> {
    const res = await this.call(req);
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_JSON_BYTES) throw new TboError('upstream_unavailable', `the ${req.protocol.provider} API answered with more than ${MAX_JSON_BYTES} bytes`);
        chunks.push(chunk as Buffer);
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      if (!isObject(body)) throw new TboError('upstream_unavailable', `the ${req.protocol.provider} API answered in an unexpected shape`);
      return { body, headers: res.headers };
    } finally {
      res.body.destroy();
      res.done();
    }
  }
}
