import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { MemoryCache } from './adapters/cache/memory';
import { RedisCache } from './adapters/cache/redis';
import { EntrySigner, signingKey } from './adapters/cache/signer';
import { TieredCache } from './adapters/cache/tiered';
import { RedisPool, redisTarget } from './adapters/redis-pool';
import { CloudUpstreams } from './adapters/upstream/cloud';
import { HttpUpstream } from './adapters/upstream/http-upstream';
import type { Upstream } from './adapters/upstream/types';
import { realSleep, systemClock, type Clock, type Sleep } from './clock';
import { BACKENDS, BACKEND_FORMAT, isPublicApi, parseRouteList, type Backend } from './config/backends';
import { CACHE_TTL_SECONDS, type ServiceConfig } from './config/settings';
import { modelResolver } from './config/model-ids';
import { createAdminApp, createApp, type AppContext } from './http/app';
import { BodyBudget } from './http/body-budget';
import { guardConnections } from './http/connections';
import { priorityCeilings } from './http/priority-policy';
import { Authenticator } from './http/auth';
import { TenantRateLimiter } from './http/rate-limit';
import { Dispatcher, type ProviderLink } from './optimizer/dispatcher';
import { Gateway } from './optimizer/gateway';
import { HealthChecker } from './optimizer/health';
import { laneOptions, PriorityLanes } from './optimizer/lanes';
import { LatencyWindow } from './optimizer/latency-window';
import { ModelDirectory } from './optimizer/model-directory';
import { MemoryOwnerStore, RedisOwnerStore, ResourceOwners } from './optimizer/ownership';
import { Passthrough } from './optimizer/passthrough';
import { parseCachePolicy, type CachePolicy } from './optimizer/cache-policy';
import { ModelCatalog } from './optimizer/models';
import { PriceTable } from './optimizer/pricing';
import { performanceReport } from './optimizer/report';
import { parseModelList, Router } from './optimizer/routing';
import { MemoryTurnStore, RedisTurnStore, SessionTracker } from './optimizer/sessions';
import { TenantStats } from './optimizer/tenant-stats';
import { anthropic } from './protocols/anthropic';
import { openai } from './protocols/openai';
import { EmfExporter } from './observability/emf';
import { createLogger, type Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { startTracing, type Tracing } from './observability/tracing';
import { PushgatewayExporter } from './observability/pushgateway';
import { ErrorReporter } from './observability/sentry';
import type { Principal } from './http/auth';

/** How long connections stay open after SIGTERM before idle ones are closed. */
const IDLE_CONNECTION_GRACE_MS = 2000;
const IDLE_SWEEP_MS = 100;
/** How long a provider's model list is served before it is fetched again (new models show up within this). */
const MODEL_LIST_TTL_MS = 60_000;
/** Bound on one model-list call (the upstream timeout is sized for long generations). */
const MODEL_LIST_TIMEOUT_MS = 30_000;

/** Collaborators a test (or an embedding program) may replace. */
export interface ServiceDeps {
  readonly clock?: Clock;
  /** How retries wait; default real timers. */
  readonly sleep?: Sleep;
  /** Jitter source in [0, 1); default Math.random. */
  readonly random?: () => number;
  readonly logger?: Logger;
  /**
   * Upstreams by backend; default: HTTP clients for the public APIs' base URLs, Bedrock and Vertex
   * clients for the routes that use them.
   */
  readonly upstreams?: Partial<Record<Backend, Upstream>>;
  /** Where request spans go; default: as the process's OTEL_* environment configures it (off without an endpoint). */
  readonly tracing?: Tracing;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The whole service: wiring, listening and graceful shutdown. */
export class TboService {
  readonly metrics = new Metrics();
  readonly logger: Logger;
  readonly gateway: Gateway;
  readonly dispatcher: Dispatcher;
  readonly sessions: SessionTracker;
  readonly lanes: PriorityLanes;
  readonly redis: RedisPool | undefined;
  /** The public listener: the API, /health and /ready. */
  readonly server: Server;
  /** The admin listener: /metrics and /health/details (plus /health and /ready). */
  readonly adminServer: Server;
  readonly emf: EmfExporter | undefined;
  /** OpenTelemetry traces (the standard OTEL_* variables); a no-op when off. */
  readonly tracing: Tracing;
  /** Pushes the metrics to a Prometheus Pushgateway (`PROMETHEUS_GATEWAY`). */
  readonly pushgateway: PushgatewayExporter | undefined;
  /** Reports internal errors and crashes to Sentry (`SENTRY_DSN`). */
  readonly errors: ErrorReporter | undefined;
  private readonly upstreams: Upstream[] = [];
  private draining = false;
  private inFlight = 0;

  constructor(readonly config: ServiceConfig, deps: ServiceDeps = {}) {
    const clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? createLogger(config.logLevel, config.serviceName);
    this.tracing = deps.tracing ?? startTracing(process.env, { serviceName: config.serviceName, traceContent: config.traceContent, logger: this.logger });
    this.emf = config.metricsEmf
      ? new EmfExporter(this.metrics, { namespace: config.metricsNamespace, service: config.serviceName, intervalSeconds: config.metricsExportInterval })
      : undefined;
    this.pushgateway = config.prometheusGateway
      ? new PushgatewayExporter(this.metrics, { url: config.prometheusGateway, intervalSeconds: config.metricsExportInterval }, this.logger)
      : undefined;
    const auth = new Authenticator(config);
    if (auth.open) this.logger.warn({ host: config.host }, 'client authentication is off (no TBO_API_KEYS or JWT_SECRET_KEY)');

    const target = redisTarget(config);
    let lastRedisError = '';
    this.redis = target
      ? new RedisPool(target, config.redisPoolSize, (err) => {
          if (err.message !== lastRedisError) this.logger.warn({ err: err.message }, 'redis error; serving from the memory tier');
          lastRedisError = err.message;
        })
      : undefined;

    // The deployment's own credentials (not its clients'): what a derived cache-signing key comes from.
    const credentials = [config.anthropicApiKey, config.openaiApiKey, config.jwtSecretKey, target?.password];
    const memory = new MemoryCache({ maxEntries: config.cacheSize, maxBytes: config.cacheMaxBytes, clock });
    const signer = new EntrySigner(signingKey(config.cacheSigningKey, credentials, config.redisKeyPrefix));
    const shared = this.redis && new RedisCache(this.redis, this.metrics.cacheObserver, config.redisKeyPrefix, signer, (reason) => this.metrics.cacheRejection(reason));
    const cache = new TieredCache(memory, shared, this.metrics.cacheObserver, clock);

    const timeoutMs = config.upstreamTimeout * 1000;
    const http = { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs, connections: config.maxConcurrentRequests };
    const tierLists = { fast: config.modelsFast, balanced: config.modelsBalanced, strongest: config.modelsStrongest };
    const routedBackends = new Set(Object.values(tierLists).flatMap((list) => parseRouteList(list).map((r) => r.backend)));
    const resolve = modelResolver(config);
    const clouds = new CloudUpstreams(config, http);
    const link = (backend: Backend): ProviderLink | undefined => {
      const protocol = BACKEND_FORMAT[backend] === 'anthropic' ? anthropic : openai;
      let apiKey = '';
      if (isPublicApi(backend)) {
        // A public API is called with the service's key; without one it is not called at all.
        const key = backend === 'anthropic' ? config.anthropicApiKey : config.openaiApiKey;
        if (!key) return undefined;
        apiKey = key;
      } else if (!routedBackends.has(backend)) return undefined; // a cloud platform only when a route uses it
      const upstream = deps.upstreams?.[backend]
        ?? (backend === 'anthropic' ? new HttpUpstream(config.anthropicBaseUrl, http)
          : backend === 'openai' ? new HttpUpstream(config.openaiBaseUrl, http)
          : clouds.create(backend));
      this.upstreams.push(upstream);
      return { protocol, upstream, apiKey };
    };
    const links: Partial<Record<Backend, ProviderLink>> = Object.fromEntries(BACKENDS.flatMap((b) => {
      const made = link(b);
      return made ? [[b, made]] : [];
    }));
    const available = new Set(BACKENDS.filter((b) => links[b]));
    const tiers = { fast: parseModelList(config.modelsFast, resolve), balanced: parseModelList(config.modelsBalanced, resolve), strongest: parseModelList(config.modelsStrongest, resolve) };
    const prices = new PriceTable(config.modelPrices);
    const catalog = new ModelCatalog(
      Object.values(tiers).flatMap((refs) => refs.map((r) => r.model)),
      prices.models,
      config.modelsAllowed?.split(','),
    );
    const router = new Router(tiers, config.fallback, available, catalog, config.fallbackNamed, resolve);
    this.lanes = new PriorityLanes(
      laneOptions(config, auth.singleTenant),
      clock,
      (length, waitedMs) => this.metrics.queue(length, waitedMs === undefined ? undefined : waitedMs / 1000),
    );
    this.dispatcher = new Dispatcher({
      links,
      lanes: this.lanes,
      clock,
      sleep: deps.sleep ?? realSleep,
      random: deps.random ?? Math.random,
      metrics: this.metrics,
      breaker: {
        ttftThresholdMs: config.circuitBreakerThreshold * 1000,
        maxErrorRate: config.breakerErrorRate,
        windowSize: config.breakerWindow,
        cooldownMs: config.breakerCooldown * 1000,
        probesToClose: 3,
      },
      backoff: { baseMs: 250, capMs: 8000 },
      maxRetries: config.maxRetries,
      ttftTimeoutMs: config.ttftTimeout * 1000,
      ttftMaxInputBytes: config.breakerTtftMaxInputBytes,
      catalog,
    });
    const idleMs = config.sessionIdleTimeout * 1000;
    const memoryTurns = new MemoryTurnStore(idleMs, clock);
    this.sessions = new SessionTracker(this.redis ? new RedisTurnStore(this.redis, idleMs, clock, config.redisKeyPrefix) : memoryTurns, memoryTurns, idleMs, clock);
    const latency = new LatencyWindow();
    const tenants = new TenantStats();
    this.gateway = new Gateway({
      cache,
      dispatcher: this.dispatcher,
      sessions: this.sessions,
      prices,
      latency,
      clock,
      metrics: this.metrics,
      ttlSeconds: CACHE_TTL_SECONDS[config.optimizationLevel],
      upstreamTimeoutMs: timeoutMs,
      targetLatency: config.targetLatency,
      catalog,
      tenants,
      sampledPolicy: parseCachePolicy(config.cacheSampled) as CachePolicy,
    });
    this.metrics.onCollect(async () => {
      const aggregate = this.sessions.aggregate();
      this.metrics.bandwidthEfficiency.set(aggregate.turnsPerSecond);
      this.metrics.activeSessions.set(await this.sessions.activeSessions());
      const redis = this.redis?.state ?? 'disabled';
      this.metrics.redisUp.set(redis === 'disabled' ? -1 : redis === 'connected' ? 1 : 0);
    });
    const health = new HealthChecker({
      dispatcher: this.dispatcher,
      router,
      sessions: this.sessions,
      cacheCounts: () => ({ hits: this.metrics.cacheCounts.answered, lookups: this.metrics.cacheCounts.lookups }),
      clock,
      intervalMs: config.healthCheckInterval * 1000,
      redis: this.redis?.health.bind(this.redis),
    });

    // Every credential the service holds, the Redis password from REDIS_URL included, is redacted from upstream text.
    const held = [...credentials, config.redisPassword, config.cacheSigningKey].filter((v): v is string => !!v);
    const secretPattern = held.length ? new RegExp(held.map(escapeRegExp).join('|'), 'g') : undefined;
    const redact = (text: string) => (secretPattern ? text.replace(secretPattern, '[redacted]') : text);
    this.errors = ErrorReporter.fromConfig(config, redact, this.logger);

    const context: AppContext = {
      config,
      clock,
      gateway: this.gateway,
      router,
      health,
      owners: new ResourceOwners(new MemoryOwnerStore(clock), this.redis && new RedisOwnerStore(this.redis, config.redisKeyPrefix)),
      passthrough: new Passthrough({ dispatcher: this.dispatcher, clock, metrics: this.metrics, timeoutMs }),
      models: new ModelDirectory({ dispatcher: this.dispatcher, clock, catalog, available: new Set((['anthropic', 'openai'] as const).filter((p) => available.has(p))), ttlMs: MODEL_LIST_TTL_MS, timeoutMs: Math.min(timeoutMs, MODEL_LIST_TIMEOUT_MS) }),
      performance: (principal: Principal) =>
        performanceReport(principal.kind === 'admin' ? 'global' : { tenant: principal.tenant }, {
          cache, counts: this.metrics.cacheCounts, tenants, latency, targetLatency: config.targetLatency, sessions: this.sessions, dispatcher: this.dispatcher, routed: router.models,
        }),
      priorityCeiling: priorityCeilings(config.tenantPriorities),
      auth,
      bodies: new BodyBudget(config.maxInflightBodyBytes, (bytes) => this.metrics.inflightBodyBytes.set(bytes)),
      limiter: new TenantRateLimiter(config.rateLimitPerMinute, config.redisKeyPrefix, this.redis?.clients[0]),
      metrics: this.metrics,
      logger: this.logger,
      tracing: this.tracing,
      errors: this.errors,
      redact,
      readiness: () => {
        const redis = this.redis?.state ?? 'disabled';
        return { ready: !this.draining, cache: { memory: { entries: cache.size, capacity: cache.capacity }, redis } };
      },
      track: (delta) => {
        this.inFlight += delta;
      },
      isDraining: () => this.draining,
    };
    this.server = createServer(createApp(context));
    this.server.keepAliveTimeout = config.keepAliveTimeout * 1000; // above the load balancer's idle timeout
    // Receiving a request (headers, then body) is bounded; sending a long stream back is not.
    this.server.headersTimeout = 20_000;
    this.server.requestTimeout = 60_000;
    guardConnections(this.server, { maxConnections: config.maxConnections, firstByteTimeoutMs: config.firstByteTimeout * 1000 });
    this.adminServer = createServer(createAdminApp(context));
    guardConnections(this.adminServer, { maxConnections: 64, firstByteTimeoutMs: config.firstByteTimeout * 1000 });
  }

  /** Starts both listeners; resolves with the public listener's address (see {@link adminAddress}). */
  async listen(): Promise<AddressInfo> {
    this.server.listen(this.config.port, this.config.host);
    this.adminServer.listen(this.config.adminPort, this.config.host);
    await Promise.all([once(this.server, 'listening'), once(this.adminServer, 'listening')]);
    const address = this.server.address() as AddressInfo;
    this.emf?.start();
    this.pushgateway?.start();
    this.logger.info({ host: address.address, port: address.port, admin_port: this.adminAddress.port, redis: this.redis ? 'configured' : 'off' }, 'tbo listening');
    return address;
  }

  /** Where the admin listener listens (after {@link listen}). */
  get adminAddress(): AddressInfo {
    return this.adminServer.address() as AddressInfo;
  }

  /**
   * Stops taking work and lets in-flight requests and streams finish, then closes. The listener
   * closes at once; open connections get a short grace first, because a load balancer may be
   * sending a request on one at this moment and closing it under that request would fail it.
   * Responses from now on say `Connection: close`, so busy connections end after their next
   * response; after the grace, idle ones are closed, and the drain ends when every connection has
   * closed or at the drain timeout (`drainTimeoutMs`, default from config).
   */
  async shutdown(reason: string, drainTimeoutMs = this.config.drainTimeout * 1000): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.logger.info({ reason, in_flight: this.inFlight }, 'draining');
    const started = Date.now();
    const allClosed = new Promise<void>((resolve) => NetServer.prototype.close.call(this.server, () => resolve()));
    const within = async (ms: number) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
      clearTimeout(timer);
    };
    await within(Math.min(IDLE_CONNECTION_GRACE_MS, drainTimeoutMs));
    // From here on, a connection is closed as soon as it is idle (e.g. when its stream ends).
    this.server.closeIdleConnections();
    const sweeper = setInterval(() => this.server.closeIdleConnections(), IDLE_SWEEP_MS);
    await within(drainTimeoutMs - (Date.now() - started));
    clearInterval(sweeper);
    this.server.closeAllConnections();
    await allClosed;
    this.adminServer.closeAllConnections();
    await new Promise<void>((resolve) => this.adminServer.close(() => resolve()));
    await Promise.all([this.redis?.close(), this.emf?.stop(), this.pushgateway?.stop(), this.errors?.close(), this.tracing.shutdown(), ...this.upstreams.map((u) => u.close())]);
    this.logger.info({ in_flight: this.inFlight }, 'stopped');
    this.logger.flush();
  }
}
