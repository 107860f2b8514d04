import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/**
 * `producer`: HTTP services. Commands fail at once while Redis is away (no offline queue,
 * a command timeout), so a request answers 503 instead of hanging.
 * `worker`: BullMQ workers. Commands wait for the connection to come back, forever.
 */
type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
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
        }
      : { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true };
  const redis = new Redis(url, options);
  let lastError = '';
  redis.on('error', (err: Error & { code?: string }) => {
    // One line per distinct failure; reconnect attempts repeat the same error many times.
    const key = `${err.code ?? ''}:${err.message}`;
    if (key === lastError) return;
    lastError = key;
    logger?.warn({ err, redis: name }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (lastError) logger?.info({ redis: name }, 'redis connection restored');
    lastError = '';
  });
  return redis;
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
