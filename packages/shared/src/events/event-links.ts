import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';
import type { EventSummary } from '../webhooks/envelope.ts';

const takeScript = new LuaScript(new URL('./take-n.lua', import.meta.url));

export interface EventLinksOptions {
  /** How long parked and late events are kept (the dedupe window). */
  waitTtlSeconds: number;
  /** How long a verification's or report's link to its transaction is kept. */
  retentionSeconds: number;
  /** How long a transaction proven another program's is remembered (the link timeout). */
  foreignTtlSeconds: number;
}

/**
 * How events find their request: verifications and reports linked to their transaction,
 * events parked until a link exists, events kept after the link timeout, and the
 * transactions (and objects) of other programs on the same Persona environment.
 */
export class EventLinks {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #o: EventLinksOptions;

  constructor(redis: Redis, keys: RedisKeys, options: EventLinksOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#o = options;
  }

  /** Remembers which transaction these verifications and reports belong to. */
  async linkObjects(transactionId: string, objects: readonly { id: string }[]): Promise<void> {
    // One command each (every SET carries its TTL), sent together by autopipelining.
    await Promise.all(
      objects.map((o) =>
        this.#redis.set(this.#keys.objectLink(o.id), transactionId, 'EX', this.#o.retentionSeconds),
      ),
    );
  }

  transactionForObject(objectId: string): Promise<string | null> {
    return this.#redis.get(this.#keys.objectLink(objectId));
  }

  /** An event parked until `linkId` (a transaction, or a verification or report) is linked. */
  async addPending(linkId: string, eventId: string): Promise<void> {
    const key = this.#keys.pending(linkId);
    await this.#redis.multi().sadd(key, eventId).expire(key, this.#o.waitTtlSeconds).exec();
  }

  /** Whether the event is still parked on `linkId` (no link has released it yet). */
  async isPending(linkId: string, eventId: string): Promise<boolean> {
    return (await this.#redis.sismember(this.#keys.pending(linkId), eventId)) === 1;
  }

  /** The events parked on these ids, now released. */
  async takePending(...linkIds: string[]): Promise<string[]> {
    const replies = await this.#take(linkIds.map(this.#keys.pending), 'smembers');
    return replies.flat();
  }

  /** An event that waited past the link timeout, kept in case `linkId` is linked later. */
  async keepLate(linkId: string, summary: EventSummary): Promise<void> {
    const key = this.#keys.late(linkId);
    await this.#redis
      .multi()
      .hset(key, summary.eventId, JSON.stringify(summary))
      .expire(key, this.#o.waitTtlSeconds)
      .exec();
  }

  /** The events kept late on these ids, now taken (as stored: parse before use). */
  async takeLate(...linkIds: string[]): Promise<EventSummary[]> {
    const replies = await this.#take(linkIds.map(this.#keys.late), 'hvals');
    return replies.flat().map((raw) => JSON.parse(raw) as EventSummary);
  }

  /**
   * Another program's transaction, and its verifications and reports: their events are
   * dropped. The transaction's mark lists its objects, so that taking it takes theirs too.
   */
  async markForeign(transactionId: string, objectIds: readonly string[]): Promise<void> {
    const m = this.#redis.multi();
    const ttl = this.#o.foreignTtlSeconds;
    m.set(this.#keys.foreign(transactionId), JSON.stringify(objectIds), 'EX', ttl);
    for (const id of objectIds) m.set(this.#keys.foreign(id), '1', 'EX', ttl);
    await m.exec();
  }

  async isForeign(id: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.foreign(id))) === 1;
  }

  /**
   * True (once) when the transaction had been taken for another program's; its mark and its
   * objects' marks are dropped.
   */
  async takeForeign(transactionId: string): Promise<boolean> {
    const mark = await this.#redis.getdel(this.#keys.foreign(transactionId));
    if (mark === null) return false;
    // A mark written before marks listed their objects holds '1'.
    const objectIds: unknown = JSON.parse(mark);
    if (Array.isArray(objectIds) && objectIds.length > 0) {
      await this.#redis.del(...objectIds.map((id) => this.#keys.foreign(String(id))));
    }
    return true;
  }

  /** Reads every key's members (a set's or a hash's values) and deletes the keys, atomically. */
  async #take(keys: string[], read: 'smembers' | 'hvals'): Promise<string[][]> {
    if (keys.length === 0) return [];
    return (await takeScript.run(this.#redis, keys, [read])) as string[][];
  }
}
