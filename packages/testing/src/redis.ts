import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectProducer, isClusterUrl, redisServers } from '@pp/shared';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue/key prefix of the test's own, so tests never see each other's keys. */
export const uniquePrefix = (label = 't'): string => `${label}-${randomBytes(5).toString('hex')}`;

/** Every key under a prefix, on every server behind the connection (each master of a cluster). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const server of redisServers(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes every key under a prefix (test cleanup), on one Redis or a whole cluster. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  if (!isClusterUrl(url)) {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      const keys = await keysUnder(redis, prefix);
      for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
    } finally {
      redis.disconnect();
    }
    return;
  }
  const cluster = await connectProducer({ url, name: 'test-cleanup', commandTimeoutMs: 5000 });
  try {
    // One UNLINK per key: a cluster refuses a command on keys of several slots.
    const keys = await keysUnder(cluster, prefix);
    await Promise.all(keys.map((key) => cluster.unlink(key)));
  } finally {
    cluster.disconnect();
  }
}
