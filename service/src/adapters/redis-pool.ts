import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { BlockList, isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { ServiceConfig } from '../config/settings';

export type RedisClient = Redis | Cluster;
/**
 * `connecting` only until the first attempt fails; from then on, until a connection is ready
 * again, `disconnected` (so a tier that keeps failing reads the same between reconnect attempts).
 */
export type RedisState = 'disabled' | 'connected' | 'connecting' | 'disconnected';

/** What the pool tells a health check: its state and, while not connected, why (no secrets). */
export interface RedisHealth {
  readonly state: Exclude<RedisState, 'disabled'>;
  /** The last connection error since the tier was last connected, prefixed with `redis host:port: `. */
  readonly lastError?: string;
  /** When that error happened (ms since the epoch). */
  readonly lastErrorAt?: number;
}

const MAX_ERROR_LENGTH = 300;

type NetStream = Redis['stream'];

function ignore(): void {
  // an error on a connection being closed
}

/** A Redis command that takes longer than this fails, and the request carries on without Redis. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;

/** Where Redis is, resolved from `REDIS_URL` or the guide's `REDIS_HOST`/`REDIS_PORT`/… settings. */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
  /** PEM CA certificate(s) to trust for TLS, instead of the system roots (Node's `ca` replaces them). */
  readonly ca: string | undefined;
  readonly cluster: boolean;
}

export function redisTarget(config: ServiceConfig): RedisTarget | undefined {
  if (config.redisUrl) {
    const url = new URL(config.redisUrl);
    const db = Number(url.pathname.replace(/^\//, '') || config.redisDb);
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 6379),
      db: Number.isInteger(db) ? db : 0,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : config.redisPassword,
      tls: url.protocol === 'rediss:' || config.redisTls,
      ca: config.redisTlsCa,
      cluster: config.redisCluster,
    };
  }
  if (!config.redisHost) return undefined;
  return {
    host: config.redisHost,
    port: config.redisPort,
    db: config.redisDb,
    username: undefined,
    password: config.redisPassword,
    tls: config.redisTls,
    ca: config.redisTlsCa,
    cluster: config.redisCluster,
  };
}

/** True when the certificate lists at least one IP address in its subjectAltName. */
function hasIpSan(cert: PeerCertificate): boolean {
  return /(?:^|, )IP Address:/.test(cert.subjectaltname ?? '');
}

/** `a` and `b` are the same IP address (IPv6 in any spelling). */
function sameIp(a: string, b: string): boolean {
  const family = isIP(a);
  if (family === 0 || family !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The server identity check for a Redis whose own CA was given (`REDIS_TLS_CA_CERT`), as for
 * Memorystore for Redis with in-transit encryption. The chain has already been verified against
 * that CA alone when Node calls this (it replaces the system roots; verification is never off).
 *
 * Memorystore's client guidance is to trust the instance's own server CA (`server_ca_certs`: unique
 * per instance, valid 10 years, a second one listed from year 5 on, so trust every one listed) and
 * to connect to the instance IP (`host`); the server certificate itself is rotated every 180 days
 * (a brief disconnect, which the reconnect backoff absorbs):
 * https://cloud.google.com/memorystore/docs/redis/about-in-transit-encryption and
 * https://cloud.google.com/memorystore/docs/redis/in-transit-encryption-code-sample . Google does
 * not document the server certificate's subject or SANs; it carries the instance IP in its subject
 * CN (https://github.com/envoyproxy/ratelimit/pull/409: "GCP Memorystore which sets the CN to an IP
 * address"), and Node accepts an IP only from the IP SANs, so Node's default check refuses it.
 *
 * So: Node's standard check first (a certificate that lists the IP in its IP SANs too, or a DNS
 * host connected to by name, passes or fails exactly as by default); then, only when connecting to an IP and only when
 * the certificate lists no IP SAN at all (IP SANs, when present, alone name the server), accept
 * the certificate whose single subject CN is that same IP. Anything else is refused.
 */
export function checkRedisServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const standard = checkServerIdentity(host, cert);
  if (standard === undefined || isIP(host) === 0 || hasIpSan(cert)) return standard;
  const cn = cert.subject?.CN as string | string[] | undefined;
  const names = cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
  if (names.length === 1 && sameIp(names[0], host)) return undefined;
  return Object.assign(
    new Error(`Redis server certificate does not name ${host}: not in its IP SANs (it has none) nor its subject CN (${names.join(', ') || 'none'})`),
    { code: 'ERR_TLS_CERT_ALTNAME_INVALID', host },
  );
}

/** The TLS options of a connection to `target`: off, the system roots, or its own CA with the check above. */
export function redisTlsOptions(target: RedisTarget): ConnectionOptions | undefined {
  if (!target.tls) return undefined;
  return target.ca ? { ca: target.ca, checkServerIdentity: checkRedisServerIdentity } : {};
}

/**
 * A small round-robin pool of Redis connections (`REDIS_POOL_SIZE`). Commands fail fast while a
 * connection is down (no offline queue) and every connection reconnects by itself with backoff.
 */
export class RedisPool {
  readonly clients: readonly RedisClient[];
  private cursor = 0;
  /** Clients whose connection failed or dropped since they were last ready. */
  private readonly failing = new Set<RedisClient>();
  private lastError: { readonly message: string; readonly at: number } | undefined;

  constructor(readonly target: RedisTarget, size: number, onError: (err: Error) => void) {
    const common: RedisOptions = {
      username: target.username,
      password: target.password,
      tls: redisTlsOptions(target),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    };
    const make = (): RedisClient => {
      if (target.cluster) {
        const options: ClusterOptions = {
          redisOptions: common,
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
          // ElastiCache and Memorystore present TLS certificates for the configuration endpoint name.
          dnsLookup: (address, callback) => callback(null, address),
          slotsRefreshTimeout: 2000,
        };
        return new Cluster([{ host: target.host, port: target.port }], options);
      }
      return new Redis({ ...common, host: target.host, port: target.port, db: target.db });
    };
    this.clients = Array.from({ length: target.cluster ? 1 : Math.max(1, size) }, () => {
      const client = make();
      client.on('error', (err: Error) => {
        this.failing.add(client);
        this.lastError = { message: this.describe(err), at: Date.now() };
        onError(err);
      });
      client.on('close', () => this.failing.add(client));
      client.on('ready', () => {
        this.failing.delete(client);
        if (this.failing.size === 0) this.lastError = undefined;
      });
      return client;
    });
  }

  /** `redis host:port: message (CODE)`, never with the pool's password, at most 300 characters. */
  private describe(err: Error): string {
    const code = (err as NodeJS.ErrnoException).code;
    let message = `redis ${this.target.host}:${this.target.port}: ${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`;
    if (this.target.password) message = message.split(this.target.password).join('[redacted]');
    return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
  }

  next(): RedisClient {
    const client = this.clients[this.cursor];
    this.cursor = (this.cursor + 1) % this.clients.length;
    return client;
  }

  get state(): Exclude<RedisState, 'disabled'> {
    if (this.clients.some((c) => c.status === 'ready')) return 'connected';
    const starting = (c: RedisClient): boolean => !this.failing.has(c) && (c.status === 'connecting' || c.status === 'connect' || c.status === 'wait');
    if (this.clients.some(starting)) return 'connecting';
    return 'disconnected';
  }

  /** The state and, while not connected, the last error (for `/health/details`). */
  health(): RedisHealth {
    const state = this.state;
    if (state === 'connected' || this.lastError === undefined) return { state };
    return { state, lastError: this.lastError.message, lastErrorAt: this.lastError.at };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map((c) => {
        // A connection closed mid TLS handshake can emit a second error on its socket (the server's
        // alert) after ioredis's once-only listener has gone, which would be an uncaught exception.
        for (const node of c instanceof Cluster ? c.nodes() : [c]) (node.stream as NetStream | undefined)?.on('error', ignore);
        return c.quit().catch(() => c.disconnect());
      }),
    );
  }
}
