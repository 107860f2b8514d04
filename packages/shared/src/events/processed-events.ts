import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import type { EventSummary } from '../webhooks/envelope.ts';

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

  /** Remembers the event as processed for the dedupe window and drops its fan-out ledger. */
  async markProcessed(eventId: string): Promise<void> {
    // In this order, sent together by autopipelining: the mark carries its own TTL, and a
    // ledger left behind by a crash in between expires with the dedupe window.
    await Promise.all([
      this.#redis.set(this.#keys.eventDone(eventId), '1', 'EX', this.#ttl),
      this.#redis.del(this.#keys.fanOutPlan(eventId), this.#keys.fanOutSent(eventId)),
    ]);
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
