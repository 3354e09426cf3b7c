/**
 * A minimal Chrome DevTools Protocol client for a process started with `--inspect=127.0.0.1:0`:
 * used only to force a full garbage collection and read the V8 heap, so retained memory can be
 * told apart from garbage V8 has not collected yet. No session is attached while load runs.
 */
import { undici, type UndiciWebSocket } from './service-deps';

/** The `ws://127.0.0.1:…` URL node prints on stderr when started with --inspect. */
export function inspectorUrl(stderr: string): string {
  const match = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(stderr);
  if (!match) throw new Error(`no inspector URL in the process's stderr: ${stderr.slice(0, 300)}`);
  return match[1];
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: UndiciWebSocket) {
    ws.addEventListener('message', (event) => {
      const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message?: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`inspector: ${msg.error.message ?? 'error'}`));
      else p?.resolve(msg.result);
    });
  }

  static connect(url: string): Promise<Inspector> {
    const ws = new undici.WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(new Inspector(ws)), { once: true });
      ws.addEventListener('error', () => reject(new Error(`inspector: cannot connect to ${url}`)), { once: true });
    });
  }

  call(method: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: ${method} timed out`));
      }, 30_000);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method }));
    });
  }

  /** Two full collections (the second catches what finalizers of the first released), then V8's used heap in bytes. */
  async heapUsedAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const usage = (await this.call('Runtime.getHeapUsage')) as { usedSize?: number };
    if (typeof usage.usedSize !== 'number') throw new Error('inspector: Runtime.getHeapUsage gave no usedSize');
    return usage.usedSize;
  }

  close(): void {
    this.ws.close();
  }
}
