import { Agent, request } from 'undici';
import { TboError } from '../../errors';
import type { Upstream, UpstreamRequest, UpstreamResponse } from './types';

/**
 * An upstream over HTTP/1.1 keep-alive connections (undici), one base URL per instance. It never
 * queues: a call beyond its connections is refused at once (the priority lanes in front of it are
 * where requests wait, where they can be seen, bounded and ordered).
 */
export class HttpUpstream implements Upstream {
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly connections: number;
  private inFlight = 0;

  constructor(baseUrl: string, opts: { readonly connections?: number; readonly headersTimeoutMs: number; readonly bodyTimeoutMs: number }) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.connections = opts.connections ?? 256;
    this.agent = new Agent({
      connections: this.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
    });
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    if (this.inFlight >= this.connections) throw new TboError('overloaded', `all ${this.connections} connections to the ${req.provider} API are busy; retry shortly`, { retryAfterSeconds: 1 });
    this.inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.inFlight--;
    };
    try {
      const res = await request(this.origin + this.basePath + req.path, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: req.signal,
        dispatcher: this.agent,
      });
      res.body.once('close', finish);
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      finish();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
