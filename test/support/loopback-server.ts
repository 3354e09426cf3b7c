/**
 * The HTTP lifecycle every loopback fake shares (fake-upstream.ts, fake-bedrock.ts, fake-vertex.ts,
 * fake-gce-metadata.ts, fake-aws-credentials.ts): a node:http server on 127.0.0.1 that keeps track
 * of its open sockets, so `close()` ends at once even while clients hold keep-alive connections or
 * a stalled response; plus reading a request body and parsing it as JSON without throwing.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';

/** Answers one request; a returned promise that rejects goes to {@link LoopbackServerOptions.onError}. */
export type LoopbackHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface LoopbackServerOptions {
  /**
   * Answers a request whose handler's promise rejected before it sent headers (a bug in the fake,
   * reported in the fake's own error shape). Once headers are out, the response is destroyed
   * instead, since no status can be sent any more.
   * @default destroys the response
   */
  readonly onError?: (res: http.ServerResponse, err: unknown) => void;
}

/**
 * A node:http server bound to 127.0.0.1 that a fake holds and hands its requests to. It listens on
 * a free port unless given one, and `close()` destroys the sockets still open so that it never
 * waits for clients.
 */
export class LoopbackServer {
  private readonly sockets = new Set<Socket>();
  private readonly server: http.Server;

  constructor(handler: LoopbackHandler, opts: LoopbackServerOptions = {}) {
    this.server = http.createServer((req, res) => {
      const pending = handler(req, res);
      if (!(pending instanceof Promise)) return;
      pending.catch((err: unknown) => {
        if (res.headersSent || opts.onError === undefined) res.destroy();
        else opts.onError(res, err);
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** The port it listens on, or -1 before `listen()` and after `close()`. */
  get port(): number {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address.port : -1;
  }

  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening on 127.0.0.1; rejects with the server's error (e.g. EADDRINUSE). @param port 0 (the default) for a free one */
  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  /** Stops accepting connections, destroys the open ones and resolves once the server has closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/** The whole request body as bytes (rejects if the client goes away mid-body). */
export async function readBytes(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The whole request body as UTF-8 text (rejects if the client goes away mid-body). */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

/** `raw` parsed as JSON, or `undefined` when it is not valid JSON (the empty string included). */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
