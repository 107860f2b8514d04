import { Redis } from 'ioredis';

/**
 * Whether a Redis answers PING at `url` right now: one connection attempt, no retries,
 * closed again. The one probe behind every "is that redis-server up yet?": the one-command
 * start uses it to find Redis and to wait for its own, and the tests' `SpawnedRedis` polls it.
 */
export async function redisAnswers(
  url: string,
  { connectTimeoutMs = 1500 }: { connectTimeoutMs?: number } = {},
): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: connectTimeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
