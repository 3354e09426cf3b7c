import { readErrorBody } from '../adapters/upstream/error-body';
import type { Upstream, UpstreamResponse } from '../adapters/upstream/types';
import { isPublicApi, type Backend } from '../config/backends';
import type { Clock, Sleep } from '../clock';
import { errorType, TboError, UpstreamHttpError } from '../errors';
import { NO_TRACE, type AttemptTrace, type RequestTrace } from '../observability/tracing';
import { passedHeaders, type Protocol } from '../protocols/types';
import { CircuitBreaker, type BreakerOptions } from './breaker';
import type { PriorityLanes } from './lanes';
import type { ModelCatalog } from './models';
import type { OptimizerMetrics } from './ports';
import { backoffMs, isRetryableStatus, retryAfterMs, type BackoffOptions } from './retry';
import type { ModelRef, RouteDecision } from './routing';

/**
 * A backend TBO can call: the wire format it serves, its client (which speaks that format to TBO,
 * whatever the backend speaks itself) and the service's API key for it (empty for the cloud
 * platforms, which authenticate the workload's own identity).
 */
export interface ProviderLink {
  readonly protocol: Protocol;
  readonly upstream: Upstream;
  readonly apiKey: string;
}

export interface DispatchRequest {
  readonly route: RouteDecision;
  readonly stream: boolean;
  readonly priority: number;
  /** Who the call is for: its share of the lanes, and its outcomes in the breakers. */
  readonly tenant: string;
  readonly clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** The request body for a target, in that target's wire format. */
  body(target: ModelRef, protocol: Protocol): Buffer | string;
  /** Aborts everything (client gone, total deadline reached). */
  readonly signal: AbortSignal;
  /** Clock reading after which no retry may start. */
  readonly deadline: number;
  /**
   * The wire format of the API surface called, when it is not its provider's chat API (token
   * counting, embeddings, the model list …): only that provider's public API is called, on this path.
   */
  readonly protocol?: Protocol;
  /**
   * Where the wait for a slot and each upstream attempt are recorded; each attempt's request
   * carries its span's context (`traceparent`). @default none
   */
  readonly trace?: RequestTrace;
}

export interface Dispatched {
  readonly response: UpstreamResponse;
  readonly target: ModelRef;
  readonly protocol: Protocol;
  readonly ttftMs: number;
  /** What the optimizer did on the way: "queued", "retried", "fallback". */
  readonly applied: readonly string[];
  /** Gives the upstream slot back; call when the response is fully consumed. */
  readonly release: () => void;
  /** The span of the attempt that answered: end it once the response is consumed (or failed). */
  readonly attempt: AttemptTrace;
}

export interface DispatcherOptions {
  /** The backends the service can call. */
  readonly links: Partial<Record<Backend, ProviderLink>>;
  readonly lanes: PriorityLanes;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly metrics: OptimizerMetrics;
  readonly breaker: BreakerOptions;
  readonly backoff: BackoffOptions;
  readonly maxRetries: number;
  readonly ttftTimeoutMs: number;
  /** Only calls with bodies up to this size tell the breaker anything by their time to first token. */
  readonly ttftMaxInputBytes: number;
  /** Models that get a breaker (the configured ones). */
  readonly catalog: ModelCatalog;
}

/** Wait assumed when an upstream answers 429 without a usable retry-after. */
const DEFAULT_RATE_LIMIT_BACKOFF_MS = 1000;

/** Failure of one attempt that may be retried or failed over. */
class AttemptFailure extends Error {
  constructor(readonly error: Error, readonly retryAfter: number | undefined) {
    super(error.message);
  }
}

/**
 * Sends one request upstream with the resilience the guide promises: a slot from the priority
 * lanes, a circuit breaker per upstream, retries with backoff within the deadline, a
 * time-to-first-token timeout that cancels the call, and failover along the route's chain.
 */
export class Dispatcher {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly opts: DispatcherOptions) {}

  /** Every breaker created so far (one per configured provider and model called). */
  get allBreakers(): readonly CircuitBreaker[] {
    return [...this.breakers.values()];
  }

  /** The breaker of a configured model; undefined for any other name (no per-name state for those). */
  breakerFor(target: ModelRef): CircuitBreaker | undefined {
    if (!this.opts.catalog.has(target.model)) return undefined;
    const name = `${target.backend}:${target.model}`;
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker(name, this.opts.breaker, this.opts.clock, () => this.opts.metrics.breakerChange(this.allBreakers.some((b) => b.state === 'open')));
      this.breakers.set(name, breaker);
    }
    return breaker;
  }

  async dispatch(req: DispatchRequest): Promise<Dispatched> {
    const trace = req.trace ?? NO_TRACE;
    const queued = !this.opts.lanes.admitsNow(req.tenant);
    const waiting = queued ? trace.queued(req.priority) : undefined;
    let release: () => void;
    try {
      release = await this.opts.lanes.acquire(req.priority, req.tenant, req.signal);
      waiting?.end();
    } catch (err) {
      waiting?.end(err instanceof TboError ? err.kind : 'cancelled');
      throw err;
    }
    const applied = new Set<string>(queued ? ['queued'] : []);
    const note = (what: string) => applied.add(what);
    try {
      let lastError: Error | undefined;
      for (const [index, target] of req.route.chain.entries()) {
        const base = this.opts.links[target.backend];
        if (!base || (req.protocol && (req.protocol.provider !== target.provider || !isPublicApi(target.backend)))) continue;
        const link = req.protocol ? { ...base, protocol: req.protocol } : base;
        const breaker = this.breakerFor(target);
        const waitMs = breaker?.backoffLeftMs() ?? 0;
        if (waitMs > 0) {
          const seconds = Math.max(1, Math.ceil(waitMs / 1000));
          lastError ??= new TboError('rate_limit', `${backendName(target.backend)} is rate-limiting ${target.model}; retry in ${seconds} s`, { retryAfterSeconds: seconds });
          continue;
        }
        if (breaker && !breaker.allow(req.tenant)) {
          lastError ??= new TboError('upstream_unavailable', `circuit breaker for ${breaker.name} is open (${breaker.reason})`);
          continue;
        }
        try {
          const { response, ttftMs, span } = await this.withRetries(req, target, link, breaker, note, trace);
          if (index > 0) note('fallback');
          return { response, target, protocol: link.protocol, ttftMs, applied: [...applied], release, attempt: span };
        } catch (err) {
          if (req.signal.aborted || (err instanceof UpstreamHttpError && !isRetryableStatus(err.status))) throw err;
          lastError = err as Error;
        }
      }
      if (!lastError && req.protocol) {
        // This API surface is served only by its provider's public API, which needs the service's key.
        throw new TboError('not_configured', `this TBO service has no upstream for this request: it is served by the ${req.protocol.provider} API only; set ${req.protocol.apiKeyEnv} on the service`);
      }
      throw lastError ?? new TboError('upstream_unavailable', 'no upstream could take the request');
    } catch (err) {
      release();
      throw err;
    }
  }

  private async withRetries(req: DispatchRequest, target: ModelRef, link: ProviderLink, breaker: CircuitBreaker | undefined, note: (what: string) => void, trace: RequestTrace) {
    const { clock } = this.opts;
    const body = req.body(target, link.protocol);
    const headers = link.protocol.upstreamHeaders(link.apiKey, req.clientHeaders);
    // A long prompt takes long to start answering by itself: its first token says nothing about the upstream.
    const timesTtft = req.stream && Buffer.byteLength(body) <= this.opts.ttftMaxInputBytes;
    for (let attempt = 0; ; attempt++) {
      const started = clock.now();
      // Ended here on every failure; an answer's span is ended by whoever consumes the answer.
      const span = trace.attempt(target, attempt, req.stream);
      try {
        const response = await this.attempt(req, target, link, body, span.inject(headers));
        span.responded(response.status);
        const ttftMs = clock.now() - started;
        if (response.status >= 200 && response.status < 300) {
          breaker?.record(true, req.tenant, timesTtft ? ttftMs : undefined);
          return { response, ttftMs, span };
        }
        const error = await upstreamError(response, link.protocol, isPublicApi(target.backend));
        this.opts.metrics.upstreamCall(target.backend, String(response.status), ttftMs / 1000);
        if (response.status === 429) {
          // Rate limited: not a failure of the upstream. Back off from it for as long as it asks
          // (every caller, not just this one) instead of retrying into the limit.
          breaker?.cancelProbe();
          breaker?.backOff(retryAfterMs(error.retryAfter, clock.wall()) ?? DEFAULT_RATE_LIMIT_BACKOFF_MS);
          throw error;
        }
        // A client error says nothing about the upstream's health, and is final.
        if (!isRetryableStatus(response.status)) {
          breaker?.cancelProbe();
          throw error;
        }
        throw new AttemptFailure(error, retryAfterMs(error.retryAfter, clock.wall()));
      } catch (err) {
        span.end(req.signal.aborted ? 'cancelled' : errorType(err instanceof AttemptFailure ? err.error : err));
        if (req.signal.aborted) {
          breaker?.cancelProbe();
          throw err;
        }
        let failure: AttemptFailure;
        if (err instanceof AttemptFailure) failure = err;
        else {
          if (err instanceof UpstreamHttpError) throw err;
          const cause = err instanceof TboError ? err : new TboError('upstream_unavailable', `could not reach ${backendName(target.backend)}${codeOf(err)}`);
          this.opts.metrics.upstreamCall(target.backend, cause.kind, (clock.now() - started) / 1000);
          failure = new AttemptFailure(cause, undefined);
        }
        breaker?.record(false, req.tenant);
        const delay = Math.max(failure.retryAfter ?? 0, backoffMs(attempt, this.opts.backoff, this.opts.random));
        // No retry once the breaker opened or the upstream asked every caller to back off (a 429 meanwhile).
        const stop = attempt >= this.opts.maxRetries || clock.now() + delay >= req.deadline || breaker?.state === 'open' || (breaker?.backoffLeftMs() ?? 0) > 0;
        if (stop) throw failure.error;
        note('retried');
        await this.opts.sleep(delay, req.signal);
        if ((breaker?.backoffLeftMs() ?? 0) > 0) throw failure.error;
      }
    }
  }

  /** One HTTP call, cancelled if no answer starts within the time-to-first-token limit (streams). */
  private async attempt(req: DispatchRequest, target: ModelRef, link: ProviderLink, body: Buffer | string, headers: Readonly<Record<string, string>>): Promise<UpstreamResponse> {
    const controller = new AbortController();
    const forward = () => controller.abort();
    req.signal.addEventListener('abort', forward, { once: true });
    let ttftExpired = false;
    const timer = req.stream
      ? setTimeout(() => {
          ttftExpired = true;
          controller.abort();
        }, this.opts.ttftTimeoutMs)
      : undefined;
    timer?.unref();
    try {
      const response = await link.upstream.send({
        provider: link.protocol.provider, path: link.protocol.upstreamPath, method: link.protocol.upstreamMethod, headers, body, signal: controller.signal, model: target.id, stream: req.stream,
      });
      response.body.once('close', () => req.signal.removeEventListener('abort', forward));
      return response;
    } catch (err) {
      req.signal.removeEventListener('abort', forward);
      if (ttftExpired) throw new TboError('timeout', `${backendName(target.backend)} did not start answering within ${this.opts.ttftTimeoutMs / 1000} s`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function upstreamError(response: UpstreamResponse, protocol: Protocol, apiKeyAuth: boolean): Promise<UpstreamHttpError> {
  const retryAfter = response.headers['retry-after'];
  return new UpstreamHttpError(response.status, await readErrorBody(response.body), typeof retryAfter === 'string' ? retryAfter : undefined, passedHeaders(protocol, response.headers), apiKeyAuth);
}

/** How errors name a backend. */
export function backendName(backend: Backend): string {
  switch (backend) {
    case 'bedrock':
      return 'Amazon Bedrock';
    case 'vertex':
    case 'vertex-openai':
      return 'Vertex AI';
    default:
      return `the ${backend} API`;
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? ` (${code})` : '';
}
