/**
 * The Sentry SDK, wrapped to the little the service needs. An optional part (see `../optional.ts`):
 * loaded only when `SENTRY_DSN` is set, so a deployment without it never evaluates the SDK. Use it
 * through `../observability/sentry.ts`, which owns what is sent and how it is scrubbed.
 */
import {
  dedupeIntegration,
  defaultStackParser,
  linkedErrorsIntegration,
  makeNodeTransport,
  NodeClient,
  nodeContextIntegration,
  Scope,
  type Breadcrumb,
  type ErrorEvent,
  type SeverityLevel,
} from '@sentry/node';

export interface SentryClientOptions {
  readonly dsn: string;
  readonly release: string;
  /** @default none (Sentry shows `production`) */
  readonly environment?: string;
  /** Every event passes here last; returning null drops it. */
  readonly beforeSend: (event: ErrorEvent) => ErrorEvent | null;
  /** Every breadcrumb passes here; returning null drops it. */
  readonly beforeBreadcrumb: (breadcrumb: Breadcrumb) => Breadcrumb | null;
}

/** What one report says besides the error itself. */
export interface CaptureDetails {
  readonly tags: Readonly<Record<string, string>>;
  readonly level: Extract<SeverityLevel, 'error' | 'fatal'>;
  /** How the error reached us (Sentry's exception mechanism type). */
  readonly mechanism: string;
  /** The request it failed, as the event's request data (scrubbed by `beforeSend` like the rest). */
  readonly request?: { readonly method?: string; readonly url?: string; readonly headers?: Readonly<Record<string, string>> };
}

/** A Sentry client of this service's own: no global SDK state, nothing instrumented. */
export interface SentryClient {
  /** Queues a report; never throws. */
  capture(error: unknown, details: CaptureDetails): void;
  /** Resolves true once every queued report was sent, false at the timeout. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Flushes, then stops the client. */
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * A client that reports errors only: no tracing (the service's own OpenTelemetry setup does that;
 * `enableOpenTelemetrySetup: false`), no instrumentation of other modules
 * (`enableRuntimeChannelInjection: false`), no global handlers (the service reports crashes itself),
 * and of the default integrations only those that add no request, console or HTTP data: linked
 * errors (an error's `cause`), dedupe (a storm of one error sends it once in a row) and the Node
 * context (runtime, OS, memory). Not the request-data, HTTP, fetch, console, local-variables or
 * context-lines integrations.
 */
export function createSentryClient(opts: SentryClientOptions): SentryClient {
  const client = new NodeClient({
    dsn: opts.dsn,
    release: opts.release,
    ...(opts.environment ? { environment: opts.environment } : {}),
    integrations: [linkedErrorsIntegration(), dedupeIntegration(), nodeContextIntegration()],
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    // Sentry 10's `sendDefaultPii: false`, as Sentry 11 spells it: collect nothing about users,
    // cookies, headers, bodies, query strings, AI inputs/outputs or local variables (the scrubber
    // still checks every event: this only keeps the SDK from gathering them in the first place).
    dataCollection: {
      userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false,
      graphQL: { document: false, variables: false }, genAI: { inputs: false, outputs: false }, mcp: { inputs: false, outputs: false },
      databaseQueryData: false, queues: false, stackFrameVariables: false, frameContextLines: 0,
    },
    sendClientReports: false,
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    beforeSend: (event) => opts.beforeSend(event),
    beforeBreadcrumb: (breadcrumb) => opts.beforeBreadcrumb(breadcrumb),
  });
  const scope = new Scope();
  scope.setClient(client);
  client.init();
  return {
    capture(error, details) {
      const event = scope.clone();
      event.setTags(details.tags);
      event.setLevel(details.level);
      const { request } = details;
      if (request) event.addEventProcessor((e) => ({ ...e, request: { ...request, headers: { ...request.headers } } }));
      event.captureException(error, { data: { mechanism: { type: details.mechanism, handled: false } } });
    },
    flush: async (timeoutMs) => client.flush(timeoutMs),
    close: async (timeoutMs) => client.close(timeoutMs),
  };
}
