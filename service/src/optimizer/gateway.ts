import type { CacheStore } from '../adapters/cache/types';
import type { Clock } from '../clock';
import { NO_TRACE, type RequestTrace } from '../observability/tracing';
import type { Protocol } from '../protocols/types';
import type { Answer, AnswerFacts, Responder } from './answer';
import { decodeEntry, encodeEntry } from './cache-entry';
import type { BandwidthStats } from './bandwidth';
import { cacheKey } from './cache-key';
import { VariantPicker, type CachePolicy } from './cache-policy';
import type { Dispatcher } from './dispatcher';
import { Flight, type FlightResult } from './flight';
import type { LatencyWindow } from './latency-window';
import type { ModelCatalog } from './models';
import type { CacheStatus, OptimizerMetrics, ResponseSink } from './ports';
import type { PriceTable } from './pricing';
import type { ModelRef, RouteDecision } from './routing';
import type { SessionTracker } from './sessions';
import type { TenantStats } from './tenant-stats';

export type CacheMode = 'default' | 'no-cache' | 'no-store';

/** One API call, as the HTTP layer hands it over. */
export interface ProxyCall {
  /** The API surface; part of the cache key (answers of one surface never serve another). */
  readonly endpoint: string;
  /** Everything the answer depends on (hashed into the cache key with tenant and endpoint). */
  readonly keyBody: Readonly<Record<string, unknown>>;
  /** Forwarded client headers that change the answer (part of the cache key). */
  readonly keyHeaders: Readonly<Record<string, string>>;
  readonly route: RouteDecision;
  readonly stream: boolean;
  /** 1 (highest) … 10. */
  readonly priority: number;
  readonly tenant: string;
  readonly sessionId: string | undefined;
  readonly cacheMode: CacheMode;
  /** True when the answer is sampled (temperature > 0, or unset where the API's default is > 0). */
  readonly sampled?: boolean;
  /** The request's own cache policy for sampled answers (`x-tbo-cache-policy`). @default the deployment's */
  readonly cachePolicy?: CachePolicy;
  readonly clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Monotonic clock reading when the request arrived. */
  readonly receivedAt: number;
  /** Epoch ms when the request arrived. */
  readonly receivedWall: number;
  /** The upstream request body for a target, in its wire format. */
  body(target: ModelRef, protocol: Protocol): Buffer | string;
  readonly responder: Responder;
  /** The wire format of a JSON-only API surface (token counting, embeddings …); default: the provider's chat API. */
  readonly protocol?: Protocol;
}

export interface GatewayOptions {
  readonly cache: CacheStore;
  readonly dispatcher: Dispatcher;
  readonly sessions: SessionTracker;
  readonly prices: PriceTable;
  readonly latency: LatencyWindow;
  readonly clock: Clock;
  readonly metrics: OptimizerMetrics;
  readonly ttlSeconds: number;
  readonly upstreamTimeoutMs: number;
  /** Seconds; the predicted latency of an upstream with no history. */
  readonly targetLatency: number;
  /** The configured models: metric labels for the rest are "other". */
  readonly catalog: ModelCatalog;
  /** Each tenant's own cache outcomes and models. */
  readonly tenants: TenantStats;
  /** What the cache does with sampled answers (`TBO_CACHE_SAMPLED`). */
  readonly sampledPolicy: CachePolicy;
}

/** Where a shared flight for `key` is registered: one slot per delivery mode (see `Gateway.joinable`). */
function slot(key: string, stream: boolean): string {
  return stream ? `${key}|stream` : key;
}

/**
 * The optimizer's front door: exact-match cache, request coalescing, routing and resilient
 * upstream calls, bandwidth per session and cost, with every answer delivered in the form the
 * client asked for.
 */
export class Gateway {
  private readonly flights = new Map<string, Flight>();
  private readonly values = new WeakMap<Flight, Promise<string>>();
  private readonly variants = new VariantPicker();

  constructor(readonly opts: GatewayOptions) {}

  /** Upstream calls currently shared by coalesced requests. */
  get inFlight(): number {
    return this.flights.size;
  }

  async handle(call: ProxyCall, sink: ResponseSink): Promise<void> {
    // Registered first: a client may leave while the cache lookup is pending.
    let joined: Flight | undefined;
    let gone = false;
    const leave = () => {
      joined?.release();
      joined = undefined;
    };
    sink.onAbort(() => {
      gone = true;
      leave();
    });
    const trace = sink.trace ?? NO_TRACE;
    trace.call(call);
    const first = call.route.chain[0];
    if (this.opts.catalog.has(first.model)) this.opts.tenants.usedModel(call.tenant, first.model);
    const policy = call.sampled ? (call.cachePolicy ?? this.opts.sampledPolicy) : undefined;
    // A sampled answer under "bypass" is neither served from the cache, nor shared, nor stored.
    const mode: CacheMode = policy?.kind === 'bypass' ? 'no-store' : call.cacheMode;
    let key = mode === 'no-store'
      ? undefined
      : cacheKey({ tenant: call.tenant, endpoint: call.endpoint, body: call.keyBody, headers: call.keyHeaders, target: `${first.backend}:${first.id}` });
    // "variants:N": each request gets one of N slots in turn; an empty slot is a miss that fills it.
    if (key && policy?.kind === 'variants') key = `${key}#${this.variants.pick(key, policy.count)}`;
    const { cache, ttlSeconds } = this.opts;

    if (key && mode === 'default') {
      // A flight that finished while Redis answered has already filled memory: check it again.
      const value = (await cache.get(key, ttlSeconds, trace))?.value ?? (this.flights.has(slot(key, false)) || this.flights.has(slot(key, true)) ? undefined : cache.peek(key, ttlSeconds));
      if (gone) return;
      if (value !== undefined) {
        trace.cacheStatus('hit');
        const entry = decodeEntry(value);
        const headers = this.timing(call, 'hit', 0, first, call.responder.upstreamHeaders(undefined, entry.facts));
        const answer = await this.answer(call, 'hit', entry.value, entry.facts, undefined, headers, trace);
        this.saved(answer);
        return call.responder.write(answer, sink);
      }
    }

    let flight = key && mode === 'default' ? this.joinable(key, call.stream) : undefined;
    const status: CacheStatus = flight ? 'coalesced' : mode === 'default' ? 'miss' : 'bypass';
    trace.cacheStatus(status);
    if (flight) trace.joined(flight.trace);
    else flight = this.launch(call, key, mode, trace);
    flight.join();
    joined = flight;
    try {
      await this.deliver(call, sink, status, flight, trace);
    } finally {
      leave();
    }
  }

  /**
   * The running flight a request for `key` may join. Coalescing stays within one delivery mode: a
   * streaming client joins only a streaming flight, since a non-streamed upstream call has nothing
   * to relay until the whole generation is done (the client would get its first byte only then,
   * which is what streaming exists to avoid); it starts its own streamed flight instead, which later
   * streaming clients join. A JSON client may join a streaming flight: it waits for the whole answer
   * either way, and the answer assembled from the stream carries every field the JSON answer has.
   */
  private joinable(key: string, stream: boolean): Flight | undefined {
    return this.flights.get(slot(key, stream)) ?? (stream ? undefined : this.flights.get(slot(key, true)));
  }

  private launch(call: ProxyCall, key: string | undefined, mode: CacheMode, trace: RequestTrace): Flight {
    const shared = key !== undefined && mode === 'default';
    const at = shared ? slot(key, call.stream) : '';
    const forget = () => {
      if (shared && this.flights.get(at) === flight) this.flights.delete(at);
    };
    const flight = new Flight(call.stream, this.opts.clock, forget, trace);
    if (shared) this.flights.set(at, flight);
    // The answer in this endpoint's stored form, computed once for every client of the flight
    // (they share the key, hence the endpoint).
    const value = flight.final.then((result) => call.responder.cacheValue(result.body, result.protocol));
    value.catch(() => undefined);
    this.values.set(flight, value);
    const first = call.route.chain[0];
    flight.final.then(
      (result) => {
        forget();
        this.spent(result);
        // Only an answer in the protocol's success shape, from the upstream the key names (never a
        // fallback's answer), is stored.
        const answeredAsKeyed = result.target.backend === first.backend && result.target.id === first.id;
        if (key && result.cacheable && answeredAsKeyed) {
          value.then((v) => this.opts.cache.set(key, encodeEntry(result.facts, v), this.opts.ttlSeconds)).catch(() => undefined);
        }
      },
      forget,
    );
    void flight.run(
      this.opts.dispatcher,
      { route: call.route, stream: call.stream, priority: call.priority, tenant: call.tenant, clientHeaders: call.clientHeaders, body: (t, p) => call.body(t, p), protocol: call.protocol, trace },
      this.opts.upstreamTimeoutMs,
    );
    return flight;
  }

  private async deliver(call: ProxyCall, sink: ResponseSink, status: CacheStatus, flight: Flight, trace: RequestTrace): Promise<void> {
    const waitStart = this.opts.clock.now();
    const finished = async (headers: Readonly<Record<string, string>>): Promise<Answer> => {
      const result = await flight.final;
      const answer = await this.answer(call, status, await (this.values.get(flight) as Promise<string>), result.facts, result, headers, trace);
      if (status === 'coalesced') this.saved(answer);
      return answer;
    };
    // A JSON client (of any flight) gets the whole answer; a streaming client always has a streaming
    // flight (it never joins a non-streamed one, see `joinable`) and follows it frame by frame.
    if (!(call.stream && flight.streaming)) {
      const result = await flight.final;
      const headers = this.timing(call, status, this.opts.clock.now() - waitStart, result.target, call.responder.upstreamHeaders(result.upstreamHeaders, result.facts));
      return call.responder.write(await finished(headers), sink);
    }
    const protocol = await flight.started;
    const by = flight.answeredBy as NonNullable<Flight['answeredBy']>;
    const headers = this.timing(call, status, this.opts.clock.now() - waitStart, by.target, call.responder.upstreamHeaders(by.headers, undefined));
    await call.responder.stream(flight, protocol, sink, headers, () => finished(headers));
  }

  /**
   * Builds the answer and records the session's turn (the turn completes now); the turn's
   * bandwidth is awaited only when the response reports it. The answer goes on the request's span.
   */
  private async answer(call: ProxyCall, status: CacheStatus, value: string, facts: AnswerFacts | undefined, result: FlightResult | undefined, headers: Readonly<Record<string, string>>, trace: RequestTrace): Promise<Answer> {
    const { clock } = this.opts;
    const responseTime = (clock.now() - call.receivedAt) / 1000;
    this.opts.latency.add(responseTime);
    let bandwidth: BandwidthStats | undefined;
    if (call.sessionId) {
      const turn = this.opts.sessions.recordTurn(call.tenant, call.sessionId, call.receivedWall);
      if (call.responder.reportsBandwidth) bandwidth = await turn;
      else void turn.catch(() => undefined);
    }
    const applied = [
      ...(status === 'hit' ? ['cache_hit'] : status === 'coalesced' ? ['coalesced'] : []),
      ...(call.route.routed ? ['routed'] : []),
      ...(result?.applied ?? []),
    ];
    const target = result?.target ?? call.route.chain[0];
    if (trace.recording) {
      const asked = call.route.chain[0];
      trace.answered(target, target.model !== asked.model || target.backend !== asked.backend, facts, value);
    }
    return {
      value,
      cache: status,
      applied,
      route: call.route,
      predictedLatency: () => {
        const meanTtftMs = this.opts.dispatcher.breakerFor(target)?.stats().meanTtftMs ?? 0;
        return meanTtftMs > 0 ? meanTtftMs / 1000 : this.opts.targetLatency;
      },
      bandwidth,
      responseTime,
      facts,
      cost: this.costOf(facts),
      headers,
    };
  }

  private spent(result: FlightResult): void {
    const { facts } = result;
    this.opts.metrics.upstreamCall(result.target.backend, 'ok', result.totalMs / 1000);
    if (!facts?.usage) return;
    const model = this.opts.catalog.label(facts.model);
    this.opts.metrics.tokens(facts.backend ?? facts.provider, model, facts.usage);
    const cost = this.costOf(facts);
    if (cost !== undefined) this.opts.metrics.cost(facts.backend ?? facts.provider, model, cost, false);
  }

  /** A hit or a coalesced answer: the upstream call it did not make is cost saved. */
  private saved(answer: Answer): void {
    if (answer.facts && answer.cost !== undefined) this.opts.metrics.cost(answer.facts.backend ?? answer.facts.provider, this.opts.catalog.label(answer.facts.model), answer.cost, true);
  }

  /** What an answer cost: at the backend model id's price when the table has one, else the model's. */
  private costOf(facts: AnswerFacts | undefined): number | undefined {
    if (!facts?.usage) return undefined;
    const atBackendPrice = facts.backendModel === undefined ? undefined : this.opts.prices.cost(facts.backendModel, facts.usage);
    return atBackendPrice ?? this.opts.prices.cost(facts.model, facts.usage);
  }

  /**
   * Counts the request's cache outcome and overhead (once per request) and returns the response
   * headers: what the upstream's client would have seen (as the responder passes it), which model
   * answered and whether that was a fallback, the x-tbo-* and Server-Timing headers; overhead is
   * time spent in TBO, not waiting upstream.
   */
  private timing(call: ProxyCall, status: CacheStatus, upstreamMs: number, servedBy: ModelRef, upstream: Readonly<Record<string, string>>): Record<string, string> {
    this.opts.metrics.cacheResult(status);
    this.opts.tenants.cacheResult(call.tenant, status);
    const overheadMs = Math.max(0, this.opts.clock.now() - call.receivedAt - upstreamMs);
    this.opts.metrics.overhead(overheadMs / 1000);
    const asked = call.route.chain[0];
    const fellBack = servedBy.model !== asked.model || servedBy.backend !== asked.backend;
    return {
      ...upstream,
      'x-tbo-model': servedBy.id,
      'x-tbo-backend': servedBy.backend,
      ...(fellBack ? { 'x-tbo-fallback': servedBy.backend === asked.backend ? `${asked.model}->${servedBy.model}` : `${asked.backend}:${asked.model}->${servedBy.backend}:${servedBy.model}` } : {}),
      'x-tbo-cache': status,
      'x-tbo-overhead-ms': overheadMs.toFixed(3),
      'server-timing': `tbo;dur=${overheadMs.toFixed(3)}, upstream;dur=${upstreamMs.toFixed(3)}`,
    };
  }
}

