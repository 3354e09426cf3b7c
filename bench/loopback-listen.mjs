/**
 * Preload (`node --import`) for servers that have no host option, such as the Portkey gateway:
 * every TCP listen() in the process binds to 127.0.0.1, whatever host it asked for. Unix-socket
 * and handle listens are left alone. The bench checks the result in /proc/net/tcp{,6}.
 */
import net from 'node:net';

const HOST = '127.0.0.1';
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    if (first.path === undefined && first.handle === undefined && first._handle === undefined && first.fd === undefined) {
      args[0] = { ...first, host: HOST };
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback]): keep the port and the callback, force the host.
    const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
    args = callback ? [first, HOST, callback] : [first, HOST];
  }
  return listen.apply(this, args);
};
