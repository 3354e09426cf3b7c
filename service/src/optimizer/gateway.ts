import type { CacheStore } from '../adapters/cache/types';
import type { Upstream } from '../adapters/upstream/types';
import type { Clock } from '../clock';
import { TboError, UpstreamHttpError } from '../errors';
import type { ParsedRequest, Protocol, Provider } from '../protocols/types';
import { isObject } from '../protocols/types';
import { cacheKey } from './cache-key';
import { Flight } from './flight';
import type { CacheStatus, OptimizerMetrics, ResponseSink } from './ports';

export type CacheMode = 'default' | 'no-cache' | 'no-store';

/** One proxied API call, as the HTTP layer hands it over. */
export interface ProxyCall {
  readonly protocol: Protocol;
  readonly request: ParsedRequest;
  readonly rawBody: Buffer;
  readonly tenant: string;
  readonly cacheMode: CacheMode;
  readonly clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Clock reading when the request arrived. */
  readonly receivedAt: number;
}

/** A provider TBO can call: its HTTP client and the service's key for it. */
export interface ProviderLink {
  readonly upstream: Upstream;
  readonly apiKey: string;
}

export interface GatewayOptions {
  readonly cache: CacheStore;
  readonly providers: Partial<Record<Provider, ProviderLink>>;
  readonly clock: Clock;
  readonly metrics: OptimizerMetrics;
  readonly ttlSeconds: number;
  readonly upstreamTimeoutMs: number;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * The optimizer's front door for proxied calls: exact-match cache, request coalescing, and the
 * upstream call, with every answer delivered in the form the client asked for.
 */
export class Gateway {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly opts: GatewayOptions) {}

  /** Number of upstream calls currently shared by coalesced requests. */
  get inFlight(): number {
    return this.flights.size;
  }

  async handle(call: ProxyCall, sink: ResponseSink): Promise<void> {
    const { protocol, request } = call;
    const link = this.opts.providers[protocol.provider];
    if (!link) {
      throw new TboError('not_configured', `this TBO service has no ${protocol.apiKeyEnv}: set ${protocol.apiKeyEnv} on the service to use ${protocol.provider} models`);
    }
    const key = call.cacheMode === 'no-store' ? undefined : cacheKey(call.tenant, protocol.upstreamPath, request.body);

    if (key && call.cacheMode === 'default') {
      const hit = await this.opts.cache.get(key, this.opts.ttlSeconds);
      if (hit) return this.deliverFinal(call, sink, 'hit', hit.value, this.opts.clock.now());
    }

    let flight = key && call.cacheMode === 'default' ? this.flights.get(key) : undefined;
    const status: CacheStatus = flight ? 'coalesced' : call.cacheMode === 'default' ? 'miss' : 'bypass';
    if (!flight) flight = this.launch(call, link, key);
    flight.join();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      flight.release();
    };
    sink.onAbort(release);
    try {
      await this.deliver(call, sink, status, flight);
    } finally {
      release();
    }
  }

  private launch(call: ProxyCall, link: ProviderLink, key: string | undefined): Flight {
    const { protocol, request } = call;
    const shared = key !== undefined && call.cacheMode === 'default';
    const forget = () => {
      if (shared && this.flights.get(key) === flight) this.flights.delete(key);
    };
    const flight = new Flight(protocol, request.stream, this.opts.clock, forget);
    if (shared) this.flights.set(key, flight);
    flight.final.then(
      (body) => {
        forget();
        this.record(call, flight, 'ok', body);
        if (key) void this.opts.cache.set(key, body, this.opts.ttlSeconds);
      },
      (err: Error) => {
        forget();
        this.record(call, flight, err instanceof UpstreamHttpError ? String(err.status) : err instanceof TboError ? err.kind : 'error');
      },
    );
    void flight.run(
      link.upstream,
      {
        provider: protocol.provider,
        path: protocol.upstreamPath,
        headers: protocol.upstreamHeaders(link.apiKey, call.clientHeaders),
        body: protocol.upstreamBody(request, call.rawBody),
      },
      this.opts.upstreamTimeoutMs,
    );
    return flight;
  }

  private record(call: ProxyCall, flight: Flight, outcome: string, body?: string): void {
    const { metrics } = this.opts;
    metrics.upstreamCall(call.protocol.provider, outcome, flight.totalMs / 1000);
    if (body === undefined) return;
    try {
      const parsed: unknown = JSON.parse(body);
      const usage = isObject(parsed) ? call.protocol.usage(parsed) : undefined;
      const model = isObject(parsed) && typeof parsed.model === 'string' ? parsed.model : call.request.model;
      if (usage) metrics.tokens(call.protocol.provider, model, usage);
    } catch {
      // Not JSON: nothing to count.
    }
  }

  private async deliver(call: ProxyCall, sink: ResponseSink, status: CacheStatus, flight: Flight): Promise<void> {
    const waitStart = this.opts.clock.now();
    if (!(call.request.stream && flight.streaming)) {
      const body = await flight.final;
      return this.deliverFinal(call, sink, status, body, waitStart);
    }
    await flight.started;
    const upstreamMs = this.opts.clock.now() - waitStart;
    sink.startStream({ ...STREAM_HEADERS, ...this.timing(call, status, upstreamMs) });
    await new Promise<void>((resolve) => {
      const unfollow = flight.follow({
        frame: (raw, optional) => {
          if (!optional || call.request.includeUsage) sink.write(raw);
        },
        end: (err) => {
          if (err) sink.write(call.protocol.streamErrorFrame(err instanceof TboError ? err.kind : 'upstream_unavailable', err.message));
          sink.end();
          resolve();
        },
      });
      sink.onAbort(() => {
        unfollow();
        resolve();
      });
    });
  }

  private deliverFinal(call: ProxyCall, sink: ResponseSink, status: CacheStatus, body: string, waitStart: number): void {
    const headers = this.timing(call, status, this.opts.clock.now() - waitStart);
    if (call.request.stream) {
      sink.startStream({ ...STREAM_HEADERS, ...headers });
      sink.write(call.protocol.synthesizeStream(body, call.request.includeUsage));
      sink.end();
    } else {
      sink.json(200, body, headers);
    }
  }

  /** The x-tbo-* and Server-Timing headers; overhead is time spent in TBO, not waiting upstream. */
  private timing(call: ProxyCall, status: CacheStatus, upstreamMs: number): Record<string, string> {
    this.opts.metrics.cacheResult(status);
    const overheadMs = Math.max(0, this.opts.clock.now() - call.receivedAt - upstreamMs);
    this.opts.metrics.overhead(overheadMs / 1000);
    return {
      'x-tbo-cache': status,
      'x-tbo-overhead-ms': overheadMs.toFixed(3),
      'server-timing': `tbo;dur=${overheadMs.toFixed(3)}, upstream;dur=${upstreamMs.toFixed(3)}`,
    };
  }
}
