/**
 * A small HTTP client for the topology test: keep-alive agents per client source address (nginx
 * limits per client IP, and all of 127.0.0.0/8 is loopback), whole bodies, timings, a deadline.
 */
import * as http from 'node:http';

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Date.now() when the request was sent and when the response ended. */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface SendOptions {
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  /** Client source address. @default 127.0.0.1 */
  readonly from?: string;
  /** @default 15000 ms */
  readonly timeoutMs?: number;
}

const agents = new Map<string, http.Agent>();

function agentFor(from: string): http.Agent {
  let agent = agents.get(from);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, localAddress: from });
    agents.set(from, agent);
  }
  return agent;
}

/** Sends one request to 127.0.0.1:port; rejects on a socket error or the deadline. */
export function send(port: number, opts: SendOptions): Promise<Reply> {
  const payload = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  const headers: Record<string, string> = { ...opts.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const startedAt = Date.now();
  return new Promise<Reply>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? (payload === undefined ? 'GET' : 'POST'), path: opts.path, headers, agent: agentFor(opts.from ?? '127.0.0.1') },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('aborted', () => reject(new Error(`${opts.path}: response aborted after ${Buffer.concat(chunks).length} bytes`)));
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), startedAt, endedAt: Date.now() }),
        );
      },
    );
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error(`${opts.path}: no answer within ${opts.timeoutMs ?? 15_000} ms`)));
    req.once('error', reject);
    req.end(payload);
  });
}

/** Closes every keep-alive connection the client holds. */
export function closeClients(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; results in order. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
