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
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

/** A provider's HTTP API. Connection failures reject; HTTP errors resolve with their status. */
export interface Upstream {
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
