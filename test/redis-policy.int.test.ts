import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceProcess, SpawnedRedis, uniquePrefix } from '@pp/testing';
import { PERSONA_KEY, WEBHOOK_SECRET } from './harness.ts';

/** Each service as production starts it, on its own free ports, against `redisUrl`. */
function services(redisUrl: string): ServiceProcess[] {
  const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: uniquePrefix('policy') };
  return [
    new ServiceProcess('api-gateway', {
      ...env,
      GATEWAY_PORT: '0',
      GATEWAY_API_KEYS: 'policy-test-token-0001',
    }),
    new ServiceProcess('webhook-receiver', {
      ...env,
      WEBHOOK_RECEIVER_PORT: '0',
      PERSONA_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    }),
    new ServiceProcess('workers', { ...env, WORKER_HTTP_PORT: '0', PERSONA_API_KEY: PERSONA_KEY }),
  ];
}

describe('an evicting Redis loses accepted work, so no service runs on one', () => {
  let redis: SpawnedRedis | undefined;
  let procs: ServiceProcess[] = [];

  afterEach(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await redis?.stop();
    procs = [];
    redis = undefined;
  });

  it('When maxmemory-policy is allkeys-lru, then every service refuses to start and names the policy', async () => {
    redis = await SpawnedRedis.start(['--maxmemory-policy', 'allkeys-lru']);
    procs = services(redis.url);
    for (const proc of procs) {
      expect(await proc.exited()).toBe(1);
      expect(proc.logs.text).toContain('Redis maxmemory-policy is allkeys-lru');
    }
  });

  it('When Redis is noeviction without a maxmemory, then every service starts and warns', async () => {
    redis = await SpawnedRedis.start(['--maxmemory-policy', 'noeviction']);
    procs = services(redis.url);
    for (const proc of procs) {
      await proc.waitForLine(/Redis has no maxmemory/);
      await proc.waitForLine(/listening|workers started/);
    }
  });

  it('When Redis comes back evicting, then a running service stops instead of serving on it', async () => {
    redis = await SpawnedRedis.start(['--maxmemory-policy', 'noeviction', '--maxmemory', '64mb']);
    procs = services(redis.url);
    await Promise.all(procs.map((p) => p.waitForLine(/listening|workers started/)));
    expect(procs.map((p) => p.logs.text).join('')).not.toContain('no maxmemory');

    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    // Every connection drops and reconnects, as after a Redis restart.
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    admin.disconnect();
    for (const proc of procs) {
      expect(await proc.exited()).toBe(1);
      expect(proc.logs.text).toContain('Redis maxmemory-policy is volatile-lru');
    }
  });
});
