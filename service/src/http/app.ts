import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Clock } from '../clock';
import type { ServiceConfig } from '../config/settings';
import { PROBE_PATHS } from '../config/settings';
import { TboError } from '../errors';
import type { Gateway } from '../optimizer/gateway';
import type { HealthChecker } from '../optimizer/health';
import type { ModelDirectory } from '../optimizer/model-directory';
import type { ResourceOwners } from '../optimizer/ownership';
import type { Passthrough } from '../optimizer/passthrough';
import type { Router } from '../optimizer/routing';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ErrorReporter } from '../observability/sentry';
import { NO_TRACE, type Tracing } from '../observability/tracing';
import { anthropic } from '../protocols/anthropic';
import { countTokens, embeddings, moderations } from '../protocols/endpoints';
import { openai } from '../protocols/openai';
import type { Authenticator, Principal } from './auth';
import type { BodyBudget } from './body-budget';
import { mountBatches } from './batches-route';
import { bodyTooLarge, protocolFor, sendError, toTboError } from './error-response';
import { collaborateRoute } from './collaborate-route';
import { endpointRoute } from './endpoint-route';
import { modelRoutes } from './models-route';
import { proxyRoute } from './proxy-route';
import { mountResponses } from './responses-route';
import type { TenantRateLimiter } from './rate-limit';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppContext {
  readonly config: ServiceConfig;
  readonly clock: Clock;
  readonly gateway: Gateway;
  readonly router: Router;
  readonly health: HealthChecker;
  /** The providers' model lists (`GET /v1/models`). */
  readonly models: ModelDirectory;
  /** Who created which upstream object (message batches, stored responses). */
  readonly owners: ResourceOwners;
  /** Calls to upstream object APIs (batches, stored responses), through the lanes. */
  readonly passthrough: Passthrough;
  /** The `/v1/performance` report: one tenant's view, or the global view for an admin. */
  readonly performance: (principal: Principal) => Promise<Record<string, unknown>>;
  /** The highest priority (lowest number) a tenant may ask for. */
  readonly priorityCeiling: (tenant: string) => number;
  readonly auth: Authenticator;
  readonly limiter: TenantRateLimiter;
  /** Request-body bytes in flight, bounded. */
  readonly bodies: BodyBudget;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Where API requests' spans go ({@link NO_TRACE} for every request when tracing is off). */
  readonly tracing: Tracing;
  /** Where internal errors (500 `api_error`) are reported (Sentry, with `SENTRY_DSN`); none when undefined. */
  readonly errors?: ErrorReporter;
  /** Removes the service's credentials from text that came from an upstream. */
  readonly redact: (text: string) => string;
  /** Readiness body; `ready` false while draining. */
  readonly readiness: () => { readonly ready: boolean } & Record<string, unknown>;
  /** Called when a request starts and when it ends (for graceful drain). */
  readonly track: (delta: 1 | -1) => void;
  readonly isDraining: () => boolean;
}

/** The route a request is counted, logged and reported under (a handler may name it; `unmatched` when none matched). */
function routeOf(req: Request, res: Response): string {
  return (res.locals.route as string | undefined) ?? (req.route ? String(req.route.path) : 'unmatched');
}

/** Counts, logs and traces every request (when it ends), and tracks it for the graceful drain. */
function accessLog(ctx: AppContext) {
  const { clock, metrics, logger, tracing } = ctx;
  return (req: Request, res: Response, next: NextFunction) => {
    const started = clock.now();
    // API calls get a span (continuing the client's traceparent); probes do not.
    const trace = tracing.enabled && req.url.startsWith('/v1/') ? tracing.request(req.method, req.path, req.headers) : NO_TRACE;
    res.locals.trace = trace;
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.locals.requestId = id;
    res.locals.receivedAt = started;
    // TBO's own id: always in x-tbo-request-id; in x-request-id until an upstream answer brings its own
    // (the SDKs report the upstream's request id, the key of a support ticket with the provider).
    res.setHeader('x-tbo-request-id', id);
    res.setHeader('x-request-id', id);
    if (ctx.isDraining()) res.setHeader('connection', 'close');
    ctx.track(1);
    res.once('close', () => {
      ctx.track(-1);
      const route = routeOf(req, res);
      const seconds = (clock.now() - started) / 1000;
      metrics.request(req.method, route, res.statusCode, seconds);
      trace.end(res.statusCode, res.locals.route as string | undefined, !res.writableFinished);
      const principal = res.locals.principal as Principal | undefined;
      logger.info({
        req_id: id, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10,
        tenant: principal?.kind === 'tenant' ? principal.tenant : principal?.kind, user: principal?.kind === 'tenant' ? principal.user : undefined,
        cache: res.getHeader('x-tbo-cache'), aborted: !res.writableFinished || undefined,
      }, 'request');
    });
    next();
  };
}

/** Liveness and readiness: on both listeners (load balancers probe the public one). */
function probes(app: express.Express, ctx: AppContext): void {
  app.get(PROBE_PATHS.liveness, (_req, res) => {
    res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  });
  app.get(PROBE_PATHS.readiness, (_req, res) => {
    const body = ctx.readiness();
    res.status(body.ready ? 200 : 503).json({ status: body.ready ? 'ready' : 'draining', ...body });
  });
}

function notFound(req: Request): never {
  throw new TboError('not_found', `no route for ${req.method} ${req.path}`);
}

function errorHandler(ctx: AppContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toTboError(err);
    if (error instanceof TboError && error.kind === 'internal') {
      ctx.logger.error({ err, req_id: res.locals.requestId }, 'unhandled error');
      // Also after a stream's headers went out (the client then sees the stream end early).
      const principal = res.locals.principal as Principal | undefined;
      ctx.errors?.request(error.cause ?? error, {
        requestId: String(res.locals.requestId ?? ''),
        route: routeOf(req, res),
        tenant: principal?.kind === 'tenant' ? principal.tenant : principal?.kind,
        method: req.method,
        url: req.originalUrl,
        headers: req.headers,
      });
    }
    // An answer given before the body was read closes the connection: draining an unread body
    // (possibly gigabytes from a caller without credentials) to keep the connection is not worth it.
    // Except "come back shortly" (the body budget is full) for a body of declared size: it is
    // within the limit and authenticated, reading it to discard costs no memory, while closing under
    // a client still sending would reset the connection before it reads the 503. A chunked body has
    // no bound to drain to, so it still closes.
    const drainable = error instanceof TboError && error.kind === 'overloaded' && req.headers['content-length'] !== undefined;
    if (!req.complete && !drainable) res.setHeader('connection', 'close');
    sendError(res, protocolFor(req), error, String(res.locals.requestId ?? ''), ctx.redact);
  };
}

function bare(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  return app;
}

/**
 * The admin listener's app: metrics and the detailed health check. Only the cluster's monitoring
 * reaches it; load balancers never route to it.
 */
export function createAdminApp(ctx: AppContext): express.Express {
  const { config, metrics } = ctx;
  const app = bare();
  probes(app, ctx);
  app.get(PROBE_PATHS.healthDetails, async (_req, res) => {
    const report = await ctx.health.check();
    res.status(report.status === 'unhealthy' ? 503 : 200).json(report);
  });
  if (config.enableMetrics) {
    app.get(PROBE_PATHS.metrics, async (_req, res) => {
      await metrics.collect();
      res.setHeader('content-type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    });
  }
  app.use(notFound);
  app.use(errorHandler(ctx));
  return app;
}

/** The tenant of an API call; admin credentials are for reports, not for model calls. */
function tenantOf(res: Response): string {
  const principal = res.locals.principal as Principal;
  if (principal.kind !== 'tenant') throw new TboError('permission', 'admin credentials may read /v1/performance only; call the model APIs with a tenant API key or JWT');
  return principal.tenant;
}

/** The public listener's app: the API, liveness and readiness. Routes, auth, limits, and errors in the caller's API shape. */
export function createApp(ctx: AppContext): express.Express {
  const { config, clock } = ctx;
  const app = bare();
  app.use(accessLog(ctx));
  probes(app, ctx);

  const v1 = express.Router();
  // One gate for every API call: a body we accept, who is calling, within their limit.
  v1.use(async (req: Request, res: Response, next: NextFunction) => {
    // Refuse a declared oversize body first, before any other work (the body parser would read it
    // all); the error handler closes the connection rather than read the rest.
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (declared !== undefined && declared > config.maxBodyBytes) throw bodyTooLarge(config.maxBodyBytes);
    const principal = await ctx.auth.principalOf(req.headers);
    res.locals.principal = principal;
    await ctx.limiter.consume(principal.kind === 'tenant' ? principal.tenant : 'admin:');
    // Held from before the body is read until the response ends (the body lives that long).
    const hasBody = declared !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (hasBody) res.once('close', ctx.bodies.reserve(Number.isFinite(declared) ? (declared as number) : config.maxBodyBytes));
    next();
  });
  v1.use(express.raw({ type: () => true, limit: config.maxBodyBytes }));
  const deps = { gateway: ctx.gateway, router: ctx.router, clock, tenantOf, priorityCeiling: ctx.priorityCeiling };
  v1.post('/messages', proxyRoute('/v1/messages', anthropic, deps));
  v1.post('/chat/completions', proxyRoute('/v1/chat/completions', openai, deps));
  v1.post('/messages/count_tokens', endpointRoute(countTokens, deps));
  v1.post('/embeddings', endpointRoute(embeddings, deps));
  v1.post('/moderations', endpointRoute(moderations, deps));
  const models = modelRoutes(ctx.models, deps);
  v1.get('/models', models.list);
  v1.get('/models/:id', models.retrieve);
  const owned = { ...deps, owners: ctx.owners, passthrough: ctx.passthrough };
  mountBatches(v1, owned);
  mountResponses(v1, owned);
  v1.post('/collaborate', collaborateRoute(deps));
  v1.get('/performance', async (_req: Request, res: Response) => {
    res.locals.route = '/v1/performance';
    res.json(await ctx.performance(res.locals.principal as Principal));
  });
  app.use('/v1', v1);
  app.use(notFound);
  app.use(errorHandler(ctx));
  return app;
}
