import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/keys.ts';

/** Persona keeps events 30 days: a cursor older than that points at nothing. */
const CURSOR_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Where the event-stream sweep has got to in Persona's event stream, and the lock that keeps
 * two runs (on two worker processes) from walking it at once. The cursor is opaque here.
 */
export class SweepCursorStore {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #lockKey: string;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    const keys = redisKeys(options.prefix);
    this.#key = keys.sweepCursor();
    this.#lockKey = keys.sweepLock();
  }

  async load<T>(empty: T): Promise<T> {
    const raw = await this.#redis.get(this.#key);
    return raw === null ? empty : (JSON.parse(raw) as T);
  }

  async save(cursor: unknown): Promise<void> {
    await this.#redis.set(this.#key, JSON.stringify(cursor), 'EX', CURSOR_TTL_SECONDS);
  }

  /** The lock's token, or null when another run holds it. It expires after `ms`. */
  async lock(ms: number): Promise<string | null> {
    const token = randomUUID();
    return (await this.#redis.set(this.#lockKey, token, 'PX', ms, 'NX')) === 'OK' ? token : null;
  }

  async unlock(token: string): Promise<void> {
    await this.#redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      this.#lockKey,
      token,
    );
  }
}
