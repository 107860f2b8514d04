import type { Redis } from 'ioredis';
import { JOB_INSERT_LUA, type OwedJob } from '../queues/job-insert.ts';
import { LuaScript } from '../redis/lua-script.ts';
import type { RedisKeys } from '../redis/keys.ts';
import type { EventSummary } from '../webhooks/envelope.ts';

const markScript = new LuaScript(new URL('./mark-processed-n.lua', import.meta.url), {
  prelude: JOB_INSERT_LUA,
});

/** Unrouted events kept for inspection, newest first. */
const UNROUTED_KEPT = 10_000;

/** Which events were processed (the workers' dedupe), and a record of those routed nowhere. */
export class ProcessedEvents {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #ttl: number;

  constructor(redis: Redis, keys: RedisKeys, dedupeTtlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttl = dedupeTtlSeconds;
  }

  async isProcessed(eventId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.eventDone(eventId))) === 1;
  }

  /**
   * Adds the business jobs the event still owes (each marked sent in its ledger), remembers
   * the event as processed for the dedupe window and drops its ledger: one script, one
   * round trip.
   */
  async markProcessed(eventId: string, owed: readonly OwedJob[] = []): Promise<void> {
    await markScript.run(
      this.#redis,
      [
        this.#keys.eventDone(eventId),
        this.#keys.fanOutPlan(eventId),
        this.#keys.fanOutSent(eventId),
        ...owed.flatMap((o) => o.job.keys),
      ],
      [this.#ttl, ...owed.flatMap((o) => [o.queue, ...o.job.args])],
    );
  }

  /** Events that name no transaction of ours, or whose names we do not route: ids and names only. */
  async recordUnrouted(summary: EventSummary, reason: string): Promise<void> {
    const key = this.#keys.unrouted();
    const entry = {
      event_id: summary.eventId,
      name: summary.name,
      reason,
      at: new Date().toISOString(),
    };
    await this.#redis
      .multi()
      .lpush(key, JSON.stringify(entry))
      .ltrim(key, 0, UNROUTED_KEPT - 1)
      .expire(key, this.#ttl)
      .exec();
  }
}
