import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Bounds what idle or silent clients can hold: at most `maxConnections` open connections (the
 * kernel's backlog holds the rest until some close), and a connection that sends no request
 * within `firstByteTimeoutMs` of opening is closed. Once a connection has sent a request, Node's own
 * timeouts take over (headers, request, keep-alive).
 */
export function guardConnections(server: Server, opts: { readonly maxConnections: number; readonly firstByteTimeoutMs: number }): void {
  server.maxConnections = opts.maxConnections;
  const silent = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    silent.add(socket);
    // The http server destroys a socket whose timeout fires when nobody else handles it.
    socket.setTimeout(opts.firstByteTimeoutMs);
  });
  server.on('request', (req: { socket: Socket }) => {
    if (!silent.delete(req.socket)) return;
    req.socket.setTimeout(0);
  });
}
