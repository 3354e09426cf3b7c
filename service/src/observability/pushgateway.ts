import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Pushgateway, type PrometheusContentType } from 'prom-client';
import { systemClock, type Clock } from '../clock';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** The Pushgateway job every instance pushes under. */
export const PUSHGATEWAY_JOB = 'tbo';
/** After a failure is logged, further failures are only counted for this long (a down gateway must not flood the logs). */
export const FAILURE_LOG_EVERY_MS = 5 * 60_000;
/** Bound on one request to the gateway (shorter when the push interval is). */
const MAX_REQUEST_MS = 10_000;
/** How much of a gateway's error answer goes into a log line. */
const MAX_ERROR_CHARS = 200;
/** Hostnames that name no machine: several instances would share them. */
const ANONYMOUS_HOSTS = new Set(['', 'localhost', 'localhost.localdomain']);

/** Runs `fn` every `ms` milliseconds until the returned function is called; injected so tests need no timers. */
export type Every = (ms: number, fn: () => void) => () => void;

/** Real timers, unref'd: a pending push never keeps the process alive. */
export const realEvery: Every = (ms, fn) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * This process's value of the Pushgateway `instance` grouping label: `<hostname>-<pid>` (the pod,
 * task or container name, and the process within it), so a restarted container in the same pod
 * replaces its own series instead of adding a group. Where the hostname names no machine
 * (`localhost`, empty) a random id made at start-up is appended, or every instance would write the
 * same group. Characters outside `A-Z a-z 0-9 . _ -` become `-`, so the value needs no escaping in
 * the gateway's URL path (a `/` would need its base64 form).
 */
export function instanceId(host = hostname(), pid = process.pid, random = () => randomBytes(4).toString('hex')): string {
  const name = host.trim().toLowerCase();
  const parts = [name, String(pid), ...(ANONYMOUS_HOSTS.has(name) ? [random()] : [])].filter((p) => p !== '');
  return parts.join('-').replace(/[^A-Za-z0-9._-]/g, '-');
}

/** The gateway's URL without credentials, query or fragment: what logs may name. */
function publicTarget(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** Every form in which the URL's credentials could appear in an error message. */
function secretsOf(url: URL): string[] {
  const parts = [url.username, url.password, url.search.slice(1)].filter((s) => s !== '');
  if (!parts.length) return [];
  const forms = [url.href, ...parts].flatMap((s) => {
    try {
      return [s, decodeURIComponent(s)];
    } catch {
      return [s];
    }
  });
  return [...new Set(forms)].sort((a, b) => b.length - a.length); // longest first: the whole URL before its parts
}

export interface PushgatewayOptions {
  /** `PROMETHEUS_GATEWAY`: the gateway's base URL; may hold basic-auth credentials, never logged. */
  readonly url: string;
  /** Seconds between pushes (`TBO_METRICS_EXPORT_INTERVAL`). */
  readonly intervalSeconds: number;
  /** The `instance` grouping label. @default {@link instanceId}() */
  readonly instance?: string;
  /** @default real, unref'd timers */
  readonly every?: Every;
  /** Paces the failure logs. @default the system clock */
  readonly clock?: Clock;
}

/**
 * Pushes the service's metrics to a Prometheus Pushgateway, for deployments Prometheus cannot
 * scrape (short-lived instances, no service discovery): once at start, then every interval, under
 * job `tbo` and this instance's grouping key. Each push is a PUT, which replaces the whole group,
 * so a series this instance no longer has disappears from the gateway too. At shutdown the group is
 * deleted: the gateway would otherwise keep serving a scaled-in instance's last values forever.
 * Failures are logged (the first, then at most one summary per {@link FAILURE_LOG_EVERY_MS}) and
 * never thrown; the gateway's credentials never reach a log line.
 */
export class PushgatewayExporter {
  /** The `instance` grouping label this process pushes under. */
  readonly instance: string;
  /** The gateway, without credentials (for logs and errors). */
  readonly target: string;
  private readonly gateway: Pushgateway<PrometheusContentType>;
  private readonly params: Pushgateway.Parameters;
  private readonly secrets: string[];
  private readonly clock: Clock;
  private pending: Promise<boolean> | undefined;
  private cancel: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private failuresUnlogged = 0;
  private failing = false;
  private lastLoggedAt = -Infinity;

  constructor(
    private readonly metrics: Metrics,
    private readonly opts: PushgatewayOptions,
    private readonly logger: Logger,
  ) {
    const url = new URL(opts.url);
    this.target = publicTarget(url);
    this.secrets = secretsOf(url);
    this.instance = opts.instance ?? instanceId();
    this.clock = opts.clock ?? systemClock;
    this.params = { jobName: PUSHGATEWAY_JOB, groupings: { instance: this.instance } };
    const timeout = Math.min(MAX_REQUEST_MS, opts.intervalSeconds * 1000);
    this.gateway = new Pushgateway(opts.url, { timeout }, metrics.registry);
  }

  /** Pushes now, then every interval until {@link stop}. */
  start(): void {
    if (this.cancel || this.stopping) return;
    this.logger.info({ gateway: this.target, job: PUSHGATEWAY_JOB, instance: this.instance, interval_seconds: this.opts.intervalSeconds }, 'pushing metrics to the Pushgateway');
    void this.push();
    this.cancel = (this.opts.every ?? realEvery)(this.opts.intervalSeconds * 1000, () => void this.push());
  }

  /**
   * Replaces this instance's group on the gateway with the current metrics. One push at a time: a
   * call while one is under way joins it (a slow gateway never piles up requests).
   * @returns whether the gateway took it; failures are logged, not thrown.
   */
  push(): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    this.pending ??= this.send('push').finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * Stops pushing and deletes this instance's group (after a push under way has landed, so it
   * cannot recreate the group). Resolves when the gateway answered or the request timed out.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.cancel?.();
      await this.pending;
      await this.send('delete');
    })();
    return this.stopping;
  }

  private async send(operation: 'push' | 'delete'): Promise<boolean> {
    try {
      if (operation === 'push') {
        await this.metrics.collect();
        await this.gateway.push(this.params);
      } else {
        await this.gateway.delete(this.params);
      }
    } catch (err) {
      this.failed(operation, err);
      return false;
    }
    if (this.failing) {
      this.failing = false;
      this.logger.info({ gateway: this.target, instance: this.instance, failures_not_logged: this.failuresUnlogged }, 'pushgateway reachable again');
      this.failuresUnlogged = 0;
    }
    return true;
  }

  private failed(operation: 'push' | 'delete', err: unknown): void {
    this.failing = true;
    const now = this.clock.now();
    // The delete at shutdown is logged whatever the pace: it is the last word on this instance's series.
    if (operation === 'push' && now - this.lastLoggedAt < FAILURE_LOG_EVERY_MS) {
      this.failuresUnlogged++;
      return;
    }
    this.lastLoggedAt = now;
    this.logger.warn(
      { gateway: this.target, instance: this.instance, operation, err: this.describe(err), failures_not_logged: this.failuresUnlogged },
      operation === 'push' ? 'pushgateway push failed; retrying every metrics export interval' : 'pushgateway delete failed; this instance\'s last metrics stay on the gateway',
    );
    this.failuresUnlogged = 0;
  }

  /** The error's message and code, without the gateway's credentials, truncated. */
  private describe(err: unknown): string {
    const e = err as { message?: unknown; code?: unknown };
    let text = typeof e?.message === 'string' ? e.message : String(err);
    if (typeof e?.code === 'string' && !text.includes(e.code)) text = `${e.code}: ${text}`;
    for (const secret of this.secrets) text = text.split(secret).join('[redacted]');
    return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
  }
}
