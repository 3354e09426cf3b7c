import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ServiceConfig } from '../config/settings';

export type RedisClient = Redis | Cluster;
export type RedisState = 'disabled' | 'connected' | 'connecting' | 'disconnected';

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
  /** PEM CA to trust for TLS, in addition to the system roots. */
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

/**
 * A small round-robin pool of Redis connections (`REDIS_POOL_SIZE`). Commands fail fast while a
 * connection is down (no offline queue) and every connection reconnects by itself with backoff.
 */
export class RedisPool {
  readonly clients: readonly RedisClient[];
  private cursor = 0;

  constructor(readonly target: RedisTarget, size: number, onError: (err: Error) => void) {
    const common: RedisOptions = {
      username: target.username,
      password: target.password,
      tls: target.tls ? (target.ca ? { ca: target.ca } : {}) : undefined,
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
      client.on('error', onError);
      return client;
    });
  }

  next(): RedisClient {
    const client = this.clients[this.cursor];
    this.cursor = (this.cursor + 1) % this.clients.length;
    return client;
  }

  get state(): RedisState {
    if (this.clients.some((c) => c.status === 'ready')) return 'connected';
    if (this.clients.some((c) => c.status === 'connecting' || c.status === 'connect' || c.status === 'wait')) return 'connecting';
    return 'disconnected';
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
