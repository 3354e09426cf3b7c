import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from '../config/load';
import type { ServiceConfig } from '../config/settings';
import { loadOptional } from '../optional';
import type { SentryClient } from '../optional/sentry';
import type { Logger } from './logger';
import { scrubBreadcrumb, scrubEvent, type Redact } from './sentry-scrub';

/** The optional module's exports (a type only: a value import would put the SDK in the main bundle). */
type SentryModule = typeof import('../optional/sentry');

/** Bound on sending the reports still queued at shutdown or after a crash, before the process exits. */
export const FLUSH_TIMEOUT_MS = 2000;
/** Sentry's limits on a release name: 1-200 characters, no `/`, no whitespace except spaces inside, not `.` or `..`. */
const RELEASE_SHAPE = /^(?!\.{1,2}$)[^/\r\n\t\f\v]{1,200}$/;
/** Sentry's limits on an environment name: 1-64 characters, no `/`, no whitespace. */
const ENVIRONMENT_SHAPE = /^[^/\s]{1,64}$/;

/** The service package's `name@version`: the release when `SENTRY_RELEASE` is unset. */
function packageRelease(): string {
  // Bundled into the service by esbuild (the image has no package.json of its own).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { name: string; version: string };
  return `${pkg.name}@${pkg.version}`;
}

/**
 * The release and environment reports are tagged with: Sentry's own variables, `SENTRY_RELEASE`
 * (default: the service package's `name@version`) and `SENTRY_ENVIRONMENT` (default: none, which
 * Sentry shows as `production`).
 * @throws ConfigError naming the variable and its accepted shape.
 */
export function sentryIdentity(env: NodeJS.ProcessEnv): { release: string; environment?: string } {
  const problems: string[] = [];
  const release = env.SENTRY_RELEASE || packageRelease();
  if (!RELEASE_SHAPE.test(release) || release.trim() !== release) problems.push(`SENTRY_RELEASE: must be 1-200 characters without "/", line breaks, tabs or leading/trailing spaces, and not "." or ".."; got ${JSON.stringify(release)}`);
  const environment = env.SENTRY_ENVIRONMENT || undefined;
  if (environment !== undefined && !ENVIRONMENT_SHAPE.test(environment)) problems.push(`SENTRY_ENVIRONMENT: must be 1-64 characters without "/" or whitespace; got ${JSON.stringify(environment)}`);
  if (problems.length) throw new ConfigError(problems);
  return { release, ...(environment ? { environment } : {}) };
}

/** What a report says about the request an internal error failed. */
export interface FailedRequest {
  readonly requestId: string;
  /** The route as the access log and metrics name it (`/v1/messages`, or `unmatched`). */
  readonly route: string;
  /** The tenant, or the caller's kind (`admin`) when not a tenant; unset before authentication. */
  readonly tenant?: string;
  readonly method: string;
  /** The URL as received (its query string is dropped by the scrubber). */
  readonly url: string;
  /** The request's headers: the scrubber keeps only an allow-list. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * Reports internal errors (the ones that become a 500 `api_error`) and crashes to Sentry, when
 * `SENTRY_DSN` is set. Every event and breadcrumb is scrubbed before it leaves (see
 * sentry-scrub.ts): no prompt text, no request body or cookies, no header outside an allow-list,
 * no string that contains a credential the service holds. The SDK is loaded only when a DSN is set.
 */
export class ErrorReporter {
  private constructor(
    private readonly client: SentryClient,
    /** The release reports are tagged with. */
    readonly release: string,
  ) {}

  /**
   * A reporter when `config.sentryDsn` is set, else undefined (and the SDK is not loaded).
   * @param redact - the service's credential redaction (its one list of secrets)
   * @param env - where `SENTRY_RELEASE` and `SENTRY_ENVIRONMENT` are read
   * @param load - how the SDK module is loaded (the optional bundle by default)
   */
  static fromConfig(
    config: Pick<ServiceConfig, 'sentryDsn'>,
    redact: Redact,
    logger: Logger,
    env: NodeJS.ProcessEnv = process.env,
    load: () => SentryModule = () => loadOptional<SentryModule>('sentry'),
  ): ErrorReporter | undefined {
    if (!config.sentryDsn) return undefined;
    const { release, environment } = sentryIdentity(env);
    const client = load().createSentryClient({
      dsn: config.sentryDsn,
      release,
      ...(environment ? { environment } : {}),
      beforeSend: (event) => scrubEvent(event, redact),
      beforeBreadcrumb: (breadcrumb) => scrubBreadcrumb(breadcrumb, redact),
    });
    // The DSN's key is a secret setting: only its host is logged.
    logger.info({ sentry: new URL(config.sentryDsn).host, release, environment }, 'errors are reported to Sentry');
    return new ErrorReporter(client, release);
  }

  /** Reports an internal error of a request. Never throws. */
  request(error: unknown, failed: FailedRequest): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(failed.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    this.capture(error, {
      tags: { request_id: failed.requestId, route: failed.route, ...(failed.tenant ? { tenant: failed.tenant } : {}) },
      level: 'error',
      mechanism: 'tbo.internal_error',
      request: { method: failed.method, url: failed.url, headers },
    });
  }

  /** Reports a crash and waits (at most {@link FLUSH_TIMEOUT_MS}) until it was sent. Never rejects. */
  async crash(error: unknown, origin: 'uncaughtException' | 'unhandledRejection', timeoutMs = FLUSH_TIMEOUT_MS): Promise<boolean> {
    this.capture(error, { tags: { crash: origin }, level: 'fatal', mechanism: `tbo.${origin}` });
    return this.client.flush(timeoutMs).catch(() => false);
  }

  /** Sends what is queued (bounded), then stops reporting. */
  async close(timeoutMs = FLUSH_TIMEOUT_MS): Promise<void> {
    await this.client.close(timeoutMs).catch(() => false);
  }

  private capture(error: unknown, details: Parameters<SentryClient['capture']>[1]): void {
    try {
      this.client.capture(error, details);
    } catch {
      // Reporting an error must never become one.
    }
  }
}

export interface CrashHandlerOptions {
  /** @default process */
  readonly process?: NodeJS.EventEmitter;
  /** @default process.exit */
  readonly exit?: (code: number) => void;
  /** Where the error is printed first, as Node prints an uncaught one. @default console.error */
  readonly print?: (error: unknown) => void;
}

/**
 * On an uncaught exception or unhandled rejection: prints it, reports it, waits for the report to
 * be sent (at most {@link FLUSH_TIMEOUT_MS}), then exits with code 1, as Node does without handlers.
 * A second crash while the first is being reported exits at once.
 * @returns a function that removes the handlers.
 */
export function installCrashHandlers(reporter: ErrorReporter, opts: CrashHandlerOptions = {}): () => void {
  const proc = opts.process ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const print = opts.print ?? ((error: unknown) => console.error(error));
  let crashing = false;
  const handler = (origin: 'uncaughtException' | 'unhandledRejection') => (error: unknown) => {
    print(error);
    if (crashing) return exit(1);
    crashing = true;
    void reporter.crash(error, origin).finally(() => exit(1));
  };
  const onException = handler('uncaughtException');
  const onRejection = handler('unhandledRejection');
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}
