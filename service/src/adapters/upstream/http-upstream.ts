import { Agent, request } from 'undici';
import type { Upstream, UpstreamRequest, UpstreamResponse } from './types';

/**
 * An upstream over HTTP/1.1 keep-alive connections (undici), one base URL per instance, with as
 * many connections as the priority lanes let calls through at once (`connections` =
 * `TBO_MAX_CONCURRENT_REQUESTS`). Every call holds a lane slot until its response is consumed and
 * nobody bypasses the lanes, so undici's own queue never holds a request: requests wait only in the
 * lanes, where they are seen, bounded and ordered.
 */
export class HttpUpstream implements Upstream {
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(baseUrl: string, opts: { readonly connections?: number; readonly headersTimeoutMs: number; readonly bodyTimeoutMs: number }) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.agent = new Agent({
      connections: opts.connections ?? 256,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
    });
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const res = await request(this.origin + this.basePath + req.path, {
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.method === 'GET' || req.method === 'DELETE' ? undefined : req.body,
      signal: req.signal,
      dispatcher: this.agent,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
