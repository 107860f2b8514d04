import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.ts';
import type { EventSummary } from '../webhooks/envelope.ts';

const applyScript = new LuaScript(new URL('./apply-event-5.lua', import.meta.url));

/** What one event did to a request's state. */
export interface ApplyResult {
  /** The event was newer than what we had, and its status is now recorded. */
  applied: boolean;
  /** ...and the status differs from the previous one. */
  changed: boolean;
  previous: string | null;
}

/** The jobs one status change must put on business-action queues. */
export interface FanOutPlan {
  queues: string[];
  payload: Record<string, unknown>;
}

/** A verification or report linked to a request, with its latest status. */
export interface LinkedObject {
  id: string;
  type: string;
  status: string;
  occurred_at: string;
  event_id: string;
}

/** One event applied to (or recorded for) a request. */
export interface HistoryEntry {
  event_id: string;
  name: string;
  status: string;
  object_type: string;
  object_id: string;
  occurred_at: string;
  applied: boolean;
}

export interface EventStateStoreOptions {
  prefix: string;
  /** How long a processed event id is remembered. @defaultValue 7 days */
  dedupeTtlSeconds?: number;
  /** How long links and indexes are kept. @defaultValue 30 days */
  retentionSeconds?: number;
  /** How long a transaction (and its objects) proven another program's is remembered. @defaultValue 12 h */
  foreignTtlSeconds?: number;
}

const ms = (iso: string | null): number => {
  const t = iso === null ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : -1;
};

/**
 * What Persona's events tell us about each request: its transaction's status, its
 * verifications and reports, the history of events, and the bookkeeping that makes event
 * processing idempotent (processed ids, fan-out plans, pending links).
 */
export class EventStateStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #dedupeTtl: number;
  readonly #retention: number;
  readonly #foreignTtl: number;

  constructor(redis: Redis, options: EventStateStoreOptions) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#dedupeTtl = options.dedupeTtlSeconds ?? 7 * 24 * 3600;
    this.#retention = options.retentionSeconds ?? 30 * 24 * 3600;
    this.#foreignTtl = options.foreignTtlSeconds ?? 12 * 3600;
  }

  #k = (...parts: string[]) => [this.#prefix, ...parts].join(':');

  async isProcessed(eventId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#k('evt', eventId, 'done'))) === 1;
  }

  /** Remembers the event as processed for the dedupe window and drops its fan-out bookkeeping. */
  async markProcessed(eventId: string): Promise<void> {
    await this.#redis
      .multi()
      .set(this.#k('evt', eventId, 'done'), '1', 'EX', this.#dedupeTtl)
      .del(this.#k('evt', eventId, 'plan'), this.#k('evt', eventId, 'sent'))
      .exec();
  }

  async apply(
    requestId: string,
    summary: EventSummary,
    options: { plan: FanOutPlan | null; decision: boolean },
  ): Promise<ApplyResult> {
    const isTransaction = summary.object?.type === 'transaction';
    const [applied, changed, previous] = (await applyScript.run(
      this.#redis,
      [
        this.#k('req', requestId),
        this.#k('req', requestId, 'objects'),
        this.#k('req', requestId, 'events'),
        this.#k('evt', summary.eventId, 'plan'),
        this.#k('awaiting'),
      ],
      [
        isTransaction ? 'transaction' : 'object',
        summary.eventId,
        summary.name,
        summary.status ?? '',
        ms(summary.createdAt),
        ms(summary.updatedAt),
        summary.object?.type ?? '',
        summary.object?.id ?? '',
        summary.createdAt,
        options.plan ? JSON.stringify(options.plan) : '',
        this.#dedupeTtl,
        options.decision ? '1' : '0',
        requestId,
        new Date().toISOString(),
      ],
    )) as [number, number, string];
    return { applied: applied === 1, changed: changed === 1, previous: previous || null };
  }

  async plan(eventId: string): Promise<FanOutPlan | null> {
    const raw = await this.#redis.get(this.#k('evt', eventId, 'plan'));
    return raw === null ? null : (JSON.parse(raw) as FanOutPlan);
  }

  /** Queues of the plan already given their job. */
  async sentQueues(eventId: string): Promise<Set<string>> {
    return new Set(await this.#redis.smembers(this.#k('evt', eventId, 'sent')));
  }

  async markSent(eventId: string, queue: string): Promise<void> {
    const key = this.#k('evt', eventId, 'sent');
    await this.#redis.multi().sadd(key, queue).expire(key, this.#dedupeTtl).exec();
  }

  /** Remembers which transaction a verification or report belongs to. */
  async linkObjects(transactionId: string, objects: { id: string }[]): Promise<void> {
    if (objects.length === 0) return;
    const m = this.#redis.multi();
    for (const o of objects) m.set(this.#k('obj', o.id), transactionId, 'EX', this.#retention);
    await m.exec();
  }

  transactionForObject(objectId: string): Promise<string | null> {
    return this.#redis.get(this.#k('obj', objectId));
  }

  /** An event parked until `linkId` (a transaction, or a verification or report) is linked. */
  async addPending(linkId: string, eventId: string): Promise<void> {
    const key = this.#k('pending', linkId);
    await this.#redis.multi().sadd(key, eventId).expire(key, this.#dedupeTtl).exec();
  }

  /** The events parked on these ids, now released. */
  async takePending(...linkIds: string[]): Promise<string[]> {
    if (linkIds.length === 0) return [];
    const keys = linkIds.map((id) => this.#k('pending', id));
    const m = this.#redis.multi();
    for (const key of keys) m.smembers(key);
    m.del(...keys);
    const replies = (await m.exec()) as [Error | null, unknown][];
    return replies.slice(0, keys.length).flatMap(([, ids]) => ids as string[]);
  }

  /**
   * A transaction of another program on the same Persona environment, and its
   * verifications and reports: their events are recorded and dropped, never parked.
   */
  async markForeign(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const m = this.#redis.multi();
    for (const id of ids) m.set(this.#k('foreign', id), '1', 'EX', this.#foreignTtl);
    await m.exec();
  }

  async isForeign(id: string): Promise<boolean> {
    return (await this.#redis.exists(this.#k('foreign', id))) === 1;
  }

  /** True (once) when the transaction had been taken for another program's; the mark is dropped. */
  async takeForeign(id: string): Promise<boolean> {
    return (await this.#redis.del(this.#k('foreign', id))) === 1;
  }

  /**
   * An event that waited longer than the link timeout, kept in case what it waits for (its
   * transaction, or for a verification or report, the transaction event listing it) is
   * linked later.
   */
  async keepLate(linkId: string, summary: EventSummary): Promise<void> {
    const key = this.#k('late', linkId);
    await this.#redis
      .multi()
      .hset(key, summary.eventId, JSON.stringify(summary))
      .expire(key, this.#dedupeTtl)
      .exec();
  }

  /** The events kept late on these ids, now taken. */
  async takeLate(...linkIds: string[]): Promise<EventSummary[]> {
    if (linkIds.length === 0) return [];
    const keys = linkIds.map((id) => this.#k('late', id));
    const m = this.#redis.multi();
    for (const key of keys) m.hvals(key);
    m.del(...keys);
    const replies = (await m.exec()) as [Error | null, unknown][];
    return replies
      .slice(0, keys.length)
      .flatMap(([, all]) => (all as string[]).map((raw) => JSON.parse(raw) as EventSummary));
  }

  /** Events that name no transaction of ours, or whose names we do not route: ids and names only. */
  async recordUnrouted(summary: EventSummary, reason: string): Promise<void> {
    const key = this.#k('events', 'unrouted');
    await this.#redis
      .multi()
      .lpush(
        key,
        JSON.stringify({
          event_id: summary.eventId,
          name: summary.name,
          reason,
          at: new Date().toISOString(),
        }),
      )
      .ltrim(key, 0, 9999)
      .exec();
  }

  /** Requests due for a reconciliation look (submitted, no decision yet), oldest first. */
  dueAwaiting(before: number, limit: number): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#k('awaiting'), '-inf', before, 'LIMIT', 0, limit);
  }

  /** Pushes a request's next reconciliation look to `at` (only if it is still awaiting). */
  async deferAwaiting(requestId: string, at: number): Promise<void> {
    await this.#redis.zadd(this.#k('awaiting'), 'XX', at, requestId);
  }

  async dropAwaiting(requestId: string): Promise<void> {
    await this.#redis.zrem(this.#k('awaiting'), requestId);
  }

  async objects(requestId: string): Promise<LinkedObject[]> {
    const all = await this.#redis.hvals(this.#k('req', requestId, 'objects'));
    return all
      .map((raw) => JSON.parse(raw) as LinkedObject)
      .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
  }

  async history(requestId: string): Promise<HistoryEntry[]> {
    const all = await this.#redis.hvals(this.#k('req', requestId, 'events'));
    return all
      .map((raw) => JSON.parse(raw) as HistoryEntry)
      .sort(
        (a, b) =>
          a.occurred_at.localeCompare(b.occurred_at) || a.event_id.localeCompare(b.event_id),
      );
  }
}
