import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Asks the kernel for a free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`freePort: unexpected server address ${String(address)}`);
  }
  return address.port;
}

export interface WaitForOptions {
  /** Give up after this long. @default 10000 ms */
  readonly timeoutMs?: number;
  /** Pause between attempts. @default 25 ms */
  readonly intervalMs?: number;
  /** Named in the timeout error. @default 'condition' */
  readonly what?: string;
}

/**
 * Polls `fn` until it returns true, or throws once the deadline passes.
 * A throwing `fn` counts as "not yet"; its last error is quoted in the timeout message.
 */
export async function waitFor(
  fn: () => Promise<boolean> | boolean,
  opts: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const what = opts.what ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await fn()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : `; last error: ${errorMessage(lastError)}`;
      throw new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(intervalMs);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
