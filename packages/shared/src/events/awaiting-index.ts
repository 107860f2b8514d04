import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';

/**
 * Submitted requests awaiting a decision, scored by when reconciliation should next ask
 * Persona about them. Settling a request adds it; a decision (in the apply script) or the
 * sweep removes it.
 */
export class AwaitingIndex {
  readonly #redis: Redis;
  readonly #key: string;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#key = keys.awaiting();
  }

  /** Requests due for a look (score at or before `before`), oldest first. */
  due(before: number, limit: number): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#key, '-inf', before, 'LIMIT', 0, limit);
  }

  /** Pushes a request's next look to `at`, only if it is still awaiting. */
  async defer(requestId: string, at: number): Promise<void> {
    await this.#redis.zadd(this.#key, 'XX', at, requestId);
  }

  async drop(requestId: string): Promise<void> {
    await this.#redis.zrem(this.#key, requestId);
  }
}
