import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../../redis/keys.ts';
import { LuaScript } from '../../redis/lua-script.ts';

const script = new LuaScript(new URL('./persona-limiter-3.lua', import.meta.url));

/** `create`: transaction creation, served first. `background`: lookups and reconciliation. */
export type CallClass = 'create' | 'background';

type DenyReason = 'blocked' | 'quota' | 'window' | 'priority' | 'remote' | 'pacing';

export type Permit =
  | { kind: 'granted'; inWindow: number }
  | { kind: 'denied'; retryInMs: number; reason: DenyReason; inWindow: number };

/** What one Persona response said about the budget. */
export interface BudgetObservation {
  status: number;
  limit?: number | undefined;
  remaining?: number | undefined;
  resetSeconds?: number | undefined;
  /**
   * A 429 that is a rate limit, a quota breach (429 or 403 `Quota exceeded`), or an answer
   * whose quota headers say nothing is left (`quota_spent`: block before the breach).
   */
  kind?: 'rate_limited' | 'quota' | 'quota_spent' | undefined;
  /** The product whose creation quota was breached. */
  product?: string | undefined;
  quotaResetSeconds?: number | undefined;
  /** Time between sending the request and reading its answer. */
  latencyMs?: number | undefined;
}

export interface RateLimiterOptions {
  prefix: string;
  /** Requests allowed in any rolling window, for the whole fleet. @defaultValue 300 */
  limit: number;
  /** @defaultValue 60000 */
  windowMs: number;
  /**
   * Added to the window, so that jitter between our grant and Persona's receipt cannot
   * squeeze `limit + 1` arrivals into Persona's window. @defaultValue 500
   */
  marginMs: number;
  /** Grants allowed back to back after an idle spell. @defaultValue 3 */
  burst: number;
  /**
   * Grants per window that background calls get even while creation waits, so that
   * reconciliation and the event sweep are not starved by a long creation backlog.
   * @defaultValue 0
   */
  backgroundReserve?: number;
  /** Fixed clock for unit tests; Redis TIME otherwise. */
  now?: () => number;
}

export interface LimiterStats {
  limit: number;
  windowMs: number;
  /** Grants in the current rolling window, and slots left in it. */
  inWindow: number;
  slotsLeft: number;
  blockedUntil: number | null;
  createWaitingUntil: number | null;
  quotaBlockedUntil: Record<string, number>;
  /** Persona's view from its last headers. */
  remote: {
    limit: number | null;
    remaining: number | null;
    resetAt: number | null;
    lastStatus: number | null;
    lastHeaders: { limit: number | null; remaining: number | null; reset: number | null };
    lastSeenAt: number | null;
  };
  granted: number;
  denied: Record<DenyReason, number>;
  seen429: number;
  seenQuota: number;
}

const DENY_REASONS: DenyReason[] = ['blocked', 'quota', 'window', 'priority', 'remote', 'pacing'];

/**
 * The one budget every Persona call of every worker process goes through: never more than
 * `limit` grants in any rolling `windowMs + marginMs`, paced evenly, slowed or stopped by
 * what Persona's headers say. All state lives in Redis and changes in one Lua script.
 */
export class PersonaRateLimiter {
  readonly #redis: Redis;
  readonly #options: RateLimiterOptions;
  readonly logKey: string;
  readonly stateKey: string;
  readonly backgroundLogKey: string;

  constructor(redis: Redis, options: RateLimiterOptions) {
    if (options.limit < 1) throw new Error('rate limit must be at least 1');
    this.#redis = redis;
    this.#options = options;
    const keys = redisKeys(options.prefix);
    this.logKey = keys.limiterLog();
    this.stateKey = keys.limiterState();
    this.backgroundLogKey = keys.limiterBackground();
  }

  get options(): Readonly<RateLimiterOptions> {
    return this.#options;
  }

  async acquire(callClass: CallClass, product = ''): Promise<Permit> {
    const reply = (await this.#run('acquire', [callClass, product, randomUUID()])) as [
      number,
      number,
      string,
      number,
    ];
    const [granted, wait, reason, inWindow] = reply;
    return granted === 1
      ? { kind: 'granted', inWindow }
      : { kind: 'denied', retryInMs: wait, reason: reason as DenyReason, inWindow };
  }

  /** Feeds one response's rate-limit headers; returns how long (ms) a 429 or quota blocks. */
  async observe(o: BudgetObservation): Promise<number> {
    const s = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : String(v));
    return Number(
      await this.#run('observe', [
        String(o.status),
        s(o.limit),
        s(o.remaining),
        s(o.resetSeconds),
        o.kind ?? '',
        o.product ?? '',
        s(o.quotaResetSeconds),
        s(o.latencyMs === undefined ? undefined : Math.round(o.latencyMs)),
      ]),
    );
  }

  /** Since when (ms) the product's creation quota has refused or been spent, or null. */
  async quotaBlockedSince(product: string): Promise<number | null> {
    const since = await this.#redis.hget(this.stateKey, `quota_since:${product}`);
    return since === null ? null : Number(since);
  }

  async stats(): Promise<LimiterStats> {
    const { limit, windowMs, marginMs } = this.#options;
    const now = this.#options.now?.() ?? Date.now();
    const [[, inWindow], [, h]] = (await this.#redis
      .multi()
      .zcount(this.logKey, `(${now - windowMs - marginMs}`, '+inf')
      .hgetall(this.stateKey)
      .exec()) as [[null, number], [null, Record<string, string>]];
    const n = (f: string) => (h[f] === undefined ? null : Number(h[f]));
    const effectiveLimit = Math.min(limit, n('remote_limit') ?? limit);
    const quotaBlockedUntil: Record<string, number> = {};
    for (const [field, value] of Object.entries(h)) {
      if (field.startsWith('quota_until:')) quotaBlockedUntil[field.slice(12)] = Number(value);
    }
    return {
      limit: effectiveLimit,
      windowMs,
      inWindow,
      slotsLeft: Math.max(0, effectiveLimit - inWindow),
      blockedUntil: n('blocked_until'),
      createWaitingUntil: n('create_waiting_until'),
      quotaBlockedUntil,
      remote: {
        limit: n('remote_limit'),
        remaining: n('remote_remaining'),
        resetAt: n('remote_reset_at'),
        lastStatus: n('last_status'),
        lastHeaders: {
          limit: n('last_limit'),
          remaining: n('last_remaining'),
          reset: n('last_reset'),
        },
        lastSeenAt: n('last_seen_at'),
      },
      granted: n('granted') ?? 0,
      denied: Object.fromEntries(DENY_REASONS.map((r) => [r, n(`denied_${r}`) ?? 0])) as Record<
        DenyReason,
        number
      >,
      seen429: n('seen_429') ?? 0,
      seenQuota: n('seen_quota') ?? 0,
    };
  }

  #run(op: 'acquire' | 'observe', args: string[]): Promise<unknown> {
    const { limit, windowMs, marginMs, burst, now, backgroundReserve = 0 } = this.#options;
    return script.run(
      this.#redis,
      [this.logKey, this.stateKey, this.backgroundLogKey],
      [
        op,
        now ? String(now()) : '',
        limit,
        windowMs,
        marginMs,
        burst,
        windowMs / 60,
        backgroundReserve,
        ...args,
      ],
    );
  }
}
