import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { clusterSeed, isClusterUrl } from './cluster.ts';
import { LuaScript } from './lua-script.ts';

export { isClusterUrl } from './cluster.ts';

/**
 * `producer`: HTTP services. Commands fail at once while Redis is away (no offline queue,
 * a command timeout), so a request answers 503 instead of hanging.
 * `worker`: BullMQ workers. Commands wait for the connection to come back, forever.
 * `store`: the workers' own stores, as `worker`, on a connection BullMQ never uses.
 *
 * `producer` and `store` pipeline automatically: the commands that concurrent requests
 * (jobs) issue in one event-loop tick go out as one write and come back as one read, each
 * with its own reply and in order. Not `worker`: BullMQ's worker connections are reported
 * to misbehave with it (taskforcesh/bullmq#457). A connection BullMQ has loaded its scripts
 * on also makes every MULTI copy them, which is why the stores have their own.
 * Autopipelining needs every script defined before a pipeline is pending (redis/ioredis#1931):
 * ours are defined here, at creation; BullMQ defines its own on a shared connection in the
 * microtask after `ready`, before any request can reach it.
 */
type RedisRole = 'producer' | 'worker' | 'store';

export interface RedisConnectionOptions {
  /** `redis://`/`rediss://` for one server, `redis+cluster://`/`rediss+cluster://` and a seed node for a cluster. */
  url: string;
  role: RedisRole;
  name: string;
  logger?: Logger;
  /** Producer command timeout. @defaultValue 2000 */
  commandTimeoutMs?: number;
}

export function createRedis({
  url,
  role,
  name,
  logger,
  commandTimeoutMs = 2000,
}: RedisConnectionOptions): Redis {
  const common: RedisOptions = {
    connectionName: name,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5000),
  };
  const options: RedisOptions =
    role === 'producer'
      ? {
          ...common,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: commandTimeoutMs,
          enableAutoPipelining: true,
        }
      : {
          ...common,
          maxRetriesPerRequest: null,
          enableOfflineQueue: true,
          enableAutoPipelining: role === 'store',
        };
  const redis = isClusterUrl(url) ? createCluster(url, options) : new Redis(url, options);
  LuaScript.defineAll(redis);
  let lastError = '';
  const onError = (err: Error & { code?: string }, node?: string) => {
    // One line per distinct failure; reconnect attempts repeat the same error many times.
    const key = `${node ?? ''}:${err.code ?? ''}:${err.message}`;
    if (key === lastError) return;
    lastError = key;
    logger?.warn({ err, redis: name, ...(node ? { node } : {}) }, 'redis connection error');
  };
  redis.on('error', (err: Error) => onError(err));
  // A cluster reports a failing node apart from its own errors.
  redis.on('node error', (err: Error, node: string) => onError(err, node));
  redis.on('ready', () => {
    if (lastError) logger?.info({ redis: name }, 'redis connection restored');
    lastError = '';
  });
  return redis;
}

/**
 * A Redis Cluster client with the role's behaviour. The cluster keeps the offline-queue
 * choice (a producer fails at once until the slots are known) and the reconnect strategy;
 * each node connection gets the rest (BullMQ reads `maxRetriesPerRequest: null` of a
 * worker there; ioredis itself keeps node connections lazy, queued and not retrying, as a
 * lost node is found again through the slot map).
 *
 * Returned as `Redis`: a `Cluster` answers the same commands (defineCommand and EVALSHA,
 * MULTI on one slot, GET/SET/HSET…), and has `status`, the `ready`/`error` events,
 * `duplicate()` for BullMQ's blocking connections and `disconnect()`, which is all this
 * code uses. What differs is what acts on one server only (SCAN, INFO, FLUSHDB): use
 * {@link redisServers} for those. Every key lives under QUEUE_PREFIX, whose hash tag puts
 * it in one slot (the config refuses a cluster URL without one).
 */
function createCluster(url: string, options: RedisOptions): Redis {
  const { enableOfflineQueue, retryStrategy, ...nodeOptions } = options;
  const { host, port, username, password, tls } = clusterSeed(url);
  const cluster = new Cluster([{ host, port }], {
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...nodeOptions,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls: {} } : {}),
    },
  });
  return cluster as unknown as Redis;
}

/**
 * The servers behind a connection: each master of a cluster, or the one server. For the
 * commands that see only the server they run on (SCAN, INFO, DBSIZE).
 */
export function redisServers(redis: Redis): Redis[] {
  const cluster = redis as unknown as Partial<Cluster>;
  return cluster.isCluster && cluster.nodes ? cluster.nodes('master') : [redis];
}

/** Resolves true once the connection is ready, false if it is not within `timeoutMs`. */
async function waitForReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

/**
 * The connection of an HTTP service: fails fast, and is given a few seconds to come up
 * at start. A service starts even without Redis (answering 503 until it is back).
 */
export async function connectProducer(
  options: Omit<RedisConnectionOptions, 'role'>,
): Promise<Redis> {
  const redis = createRedis({ ...options, role: 'producer' });
  if (!(await waitForReady(redis, 5000))) {
    options.logger?.warn('redis is not reachable yet; answering 503 until it is');
  }
  return redis;
}

/** For a start that fails after connecting: closes the connection, then rethrows. */
export function disconnectAndThrow(redis: Redis): (err: unknown) => never {
  return (err) => {
    redis.disconnect();
    throw err;
  };
}

/** Resolves when PING answers within `timeoutMs`, rejects otherwise. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  await withTimeout(redis.ping(), timeoutMs, 'redis ping timed out');
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
