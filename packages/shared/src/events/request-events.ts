import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';
import type { EventSummary } from '../webhooks/envelope.ts';

const applyScript = new LuaScript(new URL('./apply-event-6.lua', import.meta.url));

/** What one event did to a request's state. */
/**
 * The jobs one status change must put on business-action queues. It is stored with the
 * state change ({@link RequestEvents.apply}), and each queue is marked in its ledger (a set
 * of sent queues) as its job is added (`ProcessedEvents.markProcessed`), so that a failure
 * between two queues neither loses nor repeats a job.
 */
export interface FanOutPlan {
  queues: string[];
  payload: Record<string, unknown>;
}

export interface ApplyResult {
  /** The event was newer than what we had, and its status is now recorded. */
  applied: boolean;
  /** ...and the status differs from the previous one. */
  changed: boolean;
  previous: string | null;
  /** The event's fan-out plan (this run's, or one an earlier run stored), if any. */
  plan: FanOutPlan | null;
  /** Queues of that plan already given their job. */
  sent: Set<string>;
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

const ms = (iso: string | null): number => {
  const t = iso === null ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : -1;
};

/**
 * What Persona's events tell us about each request: its transaction's status (a late event
 * never rolls it back), its verifications and reports, and the history of events.
 */
export class RequestEvents {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #planTtl: number;

  constructor(redis: Redis, keys: RedisKeys, planTtlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#planTtl = planTtlSeconds;
  }

  /**
   * Records one event in order (created-at, then updated-at), with the fan-out plan of a
   * status change in the same step; a decision ends the request's wait.
   */
  async apply(
    requestId: string,
    summary: EventSummary,
    options: { plan: FanOutPlan | null; decision: boolean },
  ): Promise<ApplyResult> {
    const k = this.#keys;
    const isTransaction = summary.object?.type === 'transaction';
    const [applied, changed, previous, plan, ...sent] = (await applyScript.run(
      this.#redis,
      [
        k.request(requestId),
        k.requestObjects(requestId),
        k.requestEvents(requestId),
        k.fanOutPlan(summary.eventId),
        k.awaiting(),
        k.fanOutSent(summary.eventId),
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
        this.#planTtl,
        options.decision ? '1' : '0',
        requestId,
        new Date().toISOString(),
      ],
    )) as [number, number, string, string, ...string[]];
    return {
      applied: applied === 1,
      changed: changed === 1,
      previous: previous || null,
      plan: plan ? (JSON.parse(plan) as FanOutPlan) : null,
      sent: new Set(sent),
    };
  }

  async objects(requestId: string): Promise<LinkedObject[]> {
    const all = await this.#redis.hvals(this.#keys.requestObjects(requestId));
    return all
      .map((raw) => JSON.parse(raw) as LinkedObject)
      .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
  }

  async history(requestId: string): Promise<HistoryEntry[]> {
    const all = await this.#redis.hvals(this.#keys.requestEvents(requestId));
    return all
      .map((raw) => JSON.parse(raw) as HistoryEntry)
      .sort(
        (a, b) =>
          a.occurred_at.localeCompare(b.occurred_at) || a.event_id.localeCompare(b.event_id),
      );
  }
}
