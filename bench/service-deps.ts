/**
 * express 5 and undici as the service installs them (service/node_modules), for the bench-owned
 * reference servers (and undici's WebSocket for the inspector). Only the few calls made are typed here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const requireFromService = createRequire(join(__dirname, '..', 'service', 'package.json'));

export interface ExpressRequest extends IncomingMessage {
  body: unknown;
}

export interface ExpressResponse extends ServerResponse {
  status(code: number): ExpressResponse;
  type(type: string): ExpressResponse;
  send(body: string | Buffer): ExpressResponse;
  json(body: unknown): ExpressResponse;
}

export type Handler = (req: ExpressRequest, res: ExpressResponse, next: (err?: unknown) => void) => void | Promise<void>;

export interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void;
  disable(setting: string): void;
  set(setting: string, value: unknown): void;
  post(path: string, ...handlers: Handler[]): void;
}

export interface ExpressFactory {
  (): ExpressApp;
  raw(opts: { readonly type: () => boolean; readonly limit: number }): Handler;
}

export interface UndiciAgent {
  close(): Promise<void>;
}

/** The WHATWG WebSocket undici ships (node 20 has no global one without a flag). */
export interface UndiciWebSocket {
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void, opts?: { readonly once?: boolean }): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  send(data: string): void;
  close(): void;
}

export interface Undici {
  WebSocket: new (url: string) => UndiciWebSocket;
  Agent: new (opts: { readonly connections: number; readonly keepAliveTimeout: number }) => UndiciAgent;
  request(
    url: string,
    opts: { readonly method: 'POST'; readonly headers: Record<string, string>; readonly body: Buffer | string; readonly dispatcher: UndiciAgent },
  ): Promise<{ statusCode: number; body: Readable & { text(): Promise<string> } }>;
}

export const express = requireFromService('express') as ExpressFactory;
export const undici = requireFromService('undici') as Undici;
