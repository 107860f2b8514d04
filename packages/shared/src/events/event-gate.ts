import type { Redis } from 'ioredis';
import { JOB_INSERT_LUA, type JobInsert } from '../queues/job-insert.ts';
import { redisKeys, type RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';

const script = new LuaScript(new URL('./admit-event-10.lua', import.meta.url), {
  prelude: JOB_INSERT_LUA,
});

export type GateOutcome = 'accepted' | 'duplicate';

/**
 * Dedupe on the Persona event id at the door: the event's job and the mark that remembers
 * it as stored are written by one script, so an event is either stored and remembered, or
 * neither (a retry is then processed, never swallowed). One round trip per delivery.
 */
export class EventGate {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #dedupeTtlSeconds: number;

  constructor(redis: Redis, options: { prefix: string; dedupeTtlSeconds: number }) {
    this.#redis = redis;
    this.#keys = redisKeys(options.prefix);
    this.#dedupeTtlSeconds = options.dedupeTtlSeconds;
  }

  /** Stores the event's job unless the event was stored before; throws when Redis fails. */
  async admit(eventId: string, job: JobInsert): Promise<GateOutcome> {
    return (await script.run(
      this.#redis,
      [this.#keys.eventGate(eventId), ...job.keys],
      [this.#dedupeTtlSeconds, ...job.args],
    )) as GateOutcome;
  }
}
