/**
 * A pass-through HTTP proxy on 127.0.0.1 between TBO and the fake upstream that injects faults for
 * one model while every other model stays healthy (the fake upstream's `failNext`/`stallNext` hit
 * whatever call comes next, fallback models included):
 *
 * - `fail(model, specs)`: each call for the model gets the next error of the cycle (status,
 *   `retry-after`, the provider's own error body), so one request's retries meet 529 and 500
 *   before the breaker has had time to open, and a 429 ends them (TBO backs the model off for its
 *   `retry-after` rather than retry it; the proxy records every body that comes back after a 429);
 * - `stall(model, true)`: calls for the model are read and never answered (no status line, no
 *   first token) until the caller gives up.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { anthropicProvider } from '../support/fake-anthropic';
import type { FailureSpec } from '../support/fake-upstream';
import { openaiProvider } from '../support/fake-openai';

export interface FaultProxy {
  readonly url: string;
  /** Calls for `model` fail with `specs` in turn, one per call; `undefined` passes them through again. */
  fail(model: string, specs: readonly FailureSpec[] | undefined): void;
  /** Calls for `model` stall from now on (true) or pass through again (false). */
  stall(model: string, on: boolean): void;
  /** Error answers sent so far, by status. */
  readonly failed: Readonly<Record<number, number>>;
  /** Request bodies that got an error answer more than once (the caller retried them). */
  readonly failedAgain: number;
  /** Each call whose body had already been answered 429 (a retry into the rate limit), in order. */
  readonly resentAfter429: readonly string[];
  /** Calls for a failing model, in arrival order: when (Date.now()), and the status it got. */
  readonly failingCalls: readonly { readonly at: number; readonly model: string; readonly status: number }[];
  /** Calls that were stalled so far. */
  readonly stalled: number;
  /** Stalled calls whose caller has not hung up yet (TBO should cancel every one). */
  readonly stalledOpen: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const failing = new Map<string, { readonly specs: readonly FailureSpec[]; next: number }>();
  const stalling = new Set<string>();
  const sockets = new Set<Socket>();
  const failed: Record<number, number> = {};
  const failedBodies = new Map<string, number>();
  const rateLimited = new Set<string>();
  const resentAfter429: string[] = [];
  const failingCalls: { at: number; model: string; status: number }[] = [];
  let stalled = 0;
  let stalledOpen = 0;

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    delete headers.connection;
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
      const back = { ...up.headers };
      for (const hop of ['connection', 'keep-alive', 'transfer-encoding']) delete back[hop];
      res.writeHead(up.statusCode ?? 502, back);
      up.pipe(res);
      up.once('error', () => res.destroy());
    });
    out.once('error', () => res.destroy());
    res.once('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    out.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      if (rateLimited.has(text)) resentAfter429.push(text);
      let model = '';
      try {
        model = String((JSON.parse(text) as { model?: unknown }).model);
      } catch {
        // not JSON: pass through
      }
      if (stalling.has(model)) {
        stalled++;
        stalledOpen++;
        res.once('close', () => stalledOpen--);
        return; // never answer
      }
      const failure = failing.get(model);
      if (failure) {
        const spec = failure.specs[failure.next++ % failure.specs.length];
        failed[spec.status] = (failed[spec.status] ?? 0) + 1;
        failedBodies.set(text, (failedBodies.get(text) ?? 0) + 1);
        if (spec.status === 429) rateLimited.add(text);
        failingCalls.push({ at: Date.now(), model, status: spec.status });
        const provider = req.url?.startsWith('/v1/chat/') ? openaiProvider : anthropicProvider;
        const payload = JSON.stringify(provider.error(spec.status));
        res.writeHead(spec.status, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          ...(spec.retryAfter !== undefined ? { 'retry-after': String(spec.retryAfter) } : {}),
        });
        res.end(payload);
        return;
      }
      forward(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    fail(model, specs) {
      if (specs?.length) failing.set(model, { specs, next: 0 });
      else failing.delete(model);
    },
    stall(model, on) {
      if (on) stalling.add(model);
      else stalling.delete(model);
    },
    failed,
    get failedAgain() {
      return [...failedBodies.values()].filter((n) => n > 1).length;
    },
    resentAfter429,
    failingCalls,
    get stalled() {
      return stalled;
    },
    get stalledOpen() {
      return stalledOpen;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}
