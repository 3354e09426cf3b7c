import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Clock } from '../clock';
import type { ServiceConfig } from '../config/settings';
import { PROBE_PATHS } from '../config/settings';
import { TboError } from '../errors';
import type { Gateway } from '../optimizer/gateway';
import type { HealthChecker } from '../optimizer/health';
import type { Router } from '../optimizer/routing';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { anthropic } from '../protocols/anthropic';
import { openai } from '../protocols/openai';
import type { Authenticator } from './auth';
import { bodyTooLarge, protocolFor, sendError, toTboError } from './error-response';
import { collaborateRoute } from './collaborate-route';
import { proxyRoute } from './proxy-route';
import type { TenantRateLimiter } from './rate-limit';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppContext {
  readonly config: ServiceConfig;
  readonly clock: Clock;
  readonly gateway: Gateway;
  readonly router: Router;
  readonly health: HealthChecker;
  /** The `/v1/performance` report. */
  readonly performance: () => Promise<Record<string, unknown>>;
  readonly auth: Authenticator;
  readonly limiter: TenantRateLimiter;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Removes the service's credentials from text that came from an upstream. */
  readonly redact: (text: string) => string;
  /** Readiness body; `ready` false while draining. */
  readonly readiness: () => { readonly ready: boolean } & Record<string, unknown>;
  /** Called when a request starts and when it ends (for graceful drain). */
  readonly track: (delta: 1 | -1) => void;
  readonly isDraining: () => boolean;
}

/** The HTTP layer: routes, auth, limits, and errors in the caller's API shape. */
export function createApp(ctx: AppContext): express.Express {
  const { config, clock, metrics, logger } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = clock.now();
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.locals.requestId = id;
    res.locals.receivedAt = started;
    res.setHeader('x-request-id', id);
    if (ctx.isDraining()) res.setHeader('connection', 'close');
    ctx.track(1);
    res.once('close', () => {
      ctx.track(-1);
      const route = (res.locals.route as string | undefined) ?? (req.route ? String(req.route.path) : 'unmatched');
      const seconds = (clock.now() - started) / 1000;
      metrics.request(req.method, route, res.statusCode, seconds);
      logger.info({ req_id: id, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, tenant: res.locals.tenant, cache: res.getHeader('x-tbo-cache'), aborted: !res.writableFinished || undefined }, 'request');
    });
    next();
  });

  app.get(PROBE_PATHS.liveness, (_req, res) => {
    res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  });
  app.get(PROBE_PATHS.readiness, (_req, res) => {
    const body = ctx.readiness();
    res.status(body.ready ? 200 : 503).json({ status: body.ready ? 'ready' : 'draining', ...body });
  });
  app.get(`${PROBE_PATHS.liveness}/details`, async (_req, res) => {
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

  const v1 = express.Router();
  // One gate for every API call: who is calling, within their limit, with a body we accept.
  v1.use(async (req: Request, res: Response, next: NextFunction) => {
    const tenant = await ctx.auth.tenantOf(req.headers);
    res.locals.tenant = tenant;
    await ctx.limiter.consume(tenant);
    // Refuse a declared oversize body at once (the body parser would first read it all), and close
    // the connection rather than read the rest.
    if (Number(req.headers['content-length']) > config.maxBodyBytes) {
      res.setHeader('connection', 'close');
      throw bodyTooLarge(config.maxBodyBytes);
    }
    next();
  });
  v1.use(express.raw({ type: () => true, limit: config.maxBodyBytes }));
  const deps = { gateway: ctx.gateway, router: ctx.router, clock };
  v1.post('/messages', proxyRoute('/v1/messages', anthropic, deps));
  v1.post('/chat/completions', proxyRoute('/v1/chat/completions', openai, deps));
  v1.post('/collaborate', collaborateRoute(deps));
  v1.get('/performance', async (_req: Request, res: Response) => {
    res.locals.route = '/v1/performance';
    res.json(await ctx.performance());
  });
  app.use('/v1', v1);

  app.use((req: Request) => {
    throw new TboError('not_found', `no route for ${req.method} ${req.path}`);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toTboError(err);
    if (error instanceof TboError && error.kind === 'internal') logger.error({ err, req_id: res.locals.requestId }, 'unhandled error');
    sendError(res, protocolFor(req), error, String(res.locals.requestId ?? ''), ctx.redact);
  });
  return app;
}
