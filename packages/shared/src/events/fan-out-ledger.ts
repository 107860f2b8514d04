import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';

const markSentScript = new LuaScript(new URL('./mark-sent-1.lua', import.meta.url));

/** The jobs one status change must put on business-action queues. */
export interface FanOutPlan {
  queues: string[];
  payload: Record<string, unknown>;
}

/**
 * What a status change must fan out, and what it already has: the plan is stored with the
 * state change (by {@link RequestEvents.apply}), each queue marked once its job is added, so
 * that a crash between two queues neither loses nor repeats a job.
 */
export class FanOutLedger {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #ttl: number;

  constructor(redis: Redis, keys: RedisKeys, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttl = ttlSeconds;
  }

  async plan(eventId: string): Promise<FanOutPlan | null> {
    const raw = await this.#redis.get(this.#keys.fanOutPlan(eventId));
    return raw === null ? null : (JSON.parse(raw) as FanOutPlan);
  }

  /** Queues of the plan already given their job. */
  async sentQueues(eventId: string): Promise<Set<string>> {
    return new Set(await this.#redis.smembers(this.#keys.fanOutSent(eventId)));
  }

  async markSent(eventId: string, queue: string): Promise<void> {
    await markSentScript.run(this.#redis, [this.#keys.fanOutSent(eventId)], [queue, this.#ttl]);
  }
}
