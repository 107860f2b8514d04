import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';

/** The jobs one status change must put on business-action queues. */
export interface FanOutPlan {
  queues: string[];
  payload: Record<string, unknown>;
}

/**
 * What a status change must fan out, and what it already has: the plan is stored with the
 * state change (by {@link RequestEvents.apply}), each queue marked as its job is added (by
 * `ProcessedEvents.markProcessed`), so that a failure between two queues neither loses nor
 * repeats a job.
 */
export class FanOutLedger {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async plan(eventId: string): Promise<FanOutPlan | null> {
    const raw = await this.#redis.get(this.#keys.fanOutPlan(eventId));
    return raw === null ? null : (JSON.parse(raw) as FanOutPlan);
  }

  /** Queues of the plan already given their job. */
  async sentQueues(eventId: string): Promise<Set<string>> {
    return new Set(await this.#redis.smembers(this.#keys.fanOutSent(eventId)));
  }
}
