import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys, type RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';

const script = new LuaScript(new URL('./event-gate-1.lua', import.meta.url));

export type ClaimResult = 'claimed' | 'enqueued' | 'in_flight';

/**
 * Two-phase dedupe on the Persona event id (trigger.dev's gate, with the claim told apart
 * from the stored event): claim, enqueue, confirm. A claim left by a receiver that died
 * before enqueuing expires after `claimTtlMs`, so Persona's retry is processed, not
 * swallowed; only a confirmed event is ever answered as a duplicate.
 */
export class EventGate {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #claimTtlMs: number;
  readonly #dedupeTtlSeconds: number;

  constructor(
    redis: Redis,
    options: { prefix: string; claimTtlMs: number; dedupeTtlSeconds: number },
  ) {
    this.#redis = redis;
    this.#keys = redisKeys(options.prefix);
    this.#claimTtlMs = options.claimTtlMs;
    this.#dedupeTtlSeconds = options.dedupeTtlSeconds;
  }

  /** Returns the nonce to confirm or release with, and what the gate said. */
  async claim(eventId: string): Promise<{ result: ClaimResult; nonce: string }> {
    const nonce = randomUUID();
    const result = (await script.run(
      this.#redis,
      [this.#keys.eventGate(eventId)],
      ['claim', nonce, this.#claimTtlMs],
    )) as ClaimResult;
    return { result, nonce };
  }

  async confirm(eventId: string, nonce: string): Promise<void> {
    await script.run(
      this.#redis,
      [this.#keys.eventGate(eventId)],
      ['confirm', nonce, this.#dedupeTtlSeconds],
    );
  }

  async release(eventId: string, nonce: string): Promise<void> {
    await script.run(this.#redis, [this.#keys.eventGate(eventId)], ['release', nonce, 0]);
  }
}

export type GateOutcome = 'accepted' | 'duplicate' | 'in_flight';

/**
 * The one way an event enters the events queue: claim its id, enqueue, confirm. Throws when
 * Redis fails (the claim released, so that a retry is processed, not taken for a
 * duplicate); `deadline` bounds each Redis step.
 */
export async function admitEvent(
  gate: EventGate,
  eventId: string,
  enqueue: () => Promise<void>,
  deadline: <T>(work: Promise<T>) => Promise<T> = (work) => work,
): Promise<GateOutcome> {
  const claim = await deadline(gate.claim(eventId));
  if (claim.result === 'enqueued') return 'duplicate';
  if (claim.result === 'in_flight') return 'in_flight';
  try {
    await deadline(enqueue());
  } catch (err) {
    await deadline(gate.release(eventId, claim.nonce)).catch(() => undefined);
    throw err;
  }
  // Should this fail, the event is stored but not yet remembered as stored: a retry finds
  // the job (the job id is the event id) and the worker dedupes it.
  await deadline(gate.confirm(eventId, claim.nonce));
  return 'accepted';
}
