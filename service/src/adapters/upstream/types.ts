import type { Readable } from 'node:stream';
import type { Provider } from '../../protocols/types';

export interface UpstreamRequest {
  readonly provider: Provider;
  readonly path: string;
  /** @default 'POST' (a GET or DELETE sends no body) */
  readonly method?: 'GET' | 'POST' | 'DELETE';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
  readonly signal: AbortSignal;
  /**
   * The backend's concrete model id of a routed call (cloud platforms put it in the URL); empty for
   * calls that name no model (model lists, batches).
   */
  readonly model?: string;
  /** True when the client asked for a stream (cloud platforms call a different operation). */
  readonly stream?: boolean;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

/**
 * A backend, spoken to in its wire format's terms (`provider`): a request in that format goes in,
 * a response in that format (its JSON, its SSE stream, its error shape) comes out, whatever the
 * backend speaks itself. Connection failures reject; HTTP errors resolve with their status.
 */
export interface Upstream {
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
