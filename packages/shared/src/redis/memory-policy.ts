import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redisServers } from './connection.ts';

/**
 * An evicting Redis drops keys when it is full: a job, a record, a dedupe marker. An
 * evicted job is a request accepted with 202 and never done, so every service refuses one.
 */
export class EvictingRedisError extends Error {
  readonly policy: string;

  constructor(policy: string) {
    super(
      `Redis maxmemory-policy is ${policy}: an evicting Redis loses accepted work; ` +
        `set maxmemory-policy noeviction (and a maxmemory) before starting`,
    );
    this.name = 'EvictingRedisError';
    this.policy = policy;
  }
}

/** `maxmemory` and `maxmemory-policy` from INFO memory, which needs no CONFIG rights. */
async function memorySettings(server: Redis): Promise<{ policy: string; maxmemory: number }> {
  const info = await server.info('memory');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  return { policy: field('maxmemory_policy') ?? 'unknown', maxmemory: Number(field('maxmemory')) };
}

/**
 * Reads every server's memory settings: throws {@link EvictingRedisError} for any policy
 * but `noeviction`, warns when no `maxmemory` is set (Redis then grows until the machine
 * kills it, which loses as much as eviction does).
 */
async function checkMemoryPolicy(redis: Redis, logger: Logger): Promise<void> {
  for (const server of redisServers(redis)) {
    const { policy, maxmemory } = await memorySettings(server);
    if (policy !== 'noeviction') throw new EvictingRedisError(policy);
    if (!maxmemory) {
      logger.warn(
        'Redis has no maxmemory: set one (with maxmemory-policy noeviction) so that a full ' +
          'Redis refuses writes, which the services answer with 503, instead of being killed',
      );
    }
  }
}

/**
 * Checks the memory policy now if Redis is up (rejecting when it evicts, so that a start
 * fails), and again each time the connection comes back (a restarted Redis may carry
 * another configuration): `onRefused` is told then, and a running service stops.
 */
export async function guardMemoryPolicy(
  redis: Redis,
  { logger, onRefused }: { logger: Logger; onRefused: (err: EvictingRedisError) => void },
): Promise<void> {
  const check = async (): Promise<void> => {
    try {
      await checkMemoryPolicy(redis, logger);
    } catch (err) {
      if (err instanceof EvictingRedisError) throw err;
      logger.warn({ err }, 'could not read the Redis memory policy (INFO memory)');
    }
  };
  redis.on('ready', () => void check().catch(onRefused));
  if (redis.status === 'ready') await check();
}
