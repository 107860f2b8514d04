import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Which one process of a fleet reports the figures every process could read from Redis
 * (queue depths, the limiter's view), so that N workers do not multiply a gauge. A lease in
 * Redis, renewed at a third of its life; another process takes over once it lapses.
 */
export class MetricsLeader {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #token = randomUUID();
  #leader = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(redis: Redis, key: string, ttlMs = 15_000) {
    this.#redis = redis;
    this.#key = key;
    this.#ttlMs = ttlMs;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    const tick = () => void this.#renew().catch(() => (this.#leader = false));
    tick();
    this.#timer = setInterval(tick, this.#ttlMs / 3);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (!this.#leader) return;
    this.#leader = false;
    await this.#redis
      .eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        1,
        this.#key,
        this.#token,
      )
      .catch(() => undefined);
  }

  async #renew(): Promise<void> {
    const held = (await this.#redis.eval(
      `local cur = redis.call('GET', KEYS[1])
       if cur == ARGV[1] or not cur then
         redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
         return 1
       end
       return 0`,
      1,
      this.#key,
      this.#token,
      this.#ttlMs,
    )) as number;
    this.#leader = held === 1;
  }
}
