import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { redisKeys, type RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { canonicalJson, sha256 } from '../util/canonical.ts';
import { JOB_INSERT_KEYS, JOB_INSERT_LUA, type JobInsert } from '../queues/job-insert.ts';
import {
  DEFAULT_OWNER,
  parseRecord,
  isRedrivable,
  REDRIVABLE_CODES,
  newRequestId,
  type AcceptLimits,
  type AcceptResult,
  type GiveUpReason,
  type RequestError,
  KEY_TRUSTED_MS,
  type RedriveResult,
  type RequestStatus,
  type SettleResult,
  type TransactionInput,
  type TransactionRequest,
} from './request.ts';

const acceptScript = new LuaScript(new URL('./accept-request-14.lua', import.meta.url), {
  prelude: JOB_INSERT_LUA,
});
const settleScript = new LuaScript(new URL('./settle-request-6.lua', import.meta.url));
const redriveScript = new LuaScript(new URL('./redrive-request-4.lua', import.meta.url));
const rotateScript = new LuaScript(new URL('./rotate-key-1.lua', import.meta.url));

export interface RequestStoreOptions {
  prefix: string;
  /** How long an Idempotency-Key maps to its request. @defaultValue 24 h */
  idempotencyTtlSeconds?: number;
  /** How long a request record is kept. @defaultValue 30 days */
  retentionSeconds?: number;
  /** What one caller may ask and how much may wait; 0 turns a limit off. @defaultValue none */
  limits?: Partial<AcceptLimits>;
  now?: () => Date;
}

/**
 * Transaction requests in Redis: one hash per request, its fields apart (deleted once
 * Persona has them or refused them for good), and Idempotency-Key mappings.
 */
export class RequestStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #idemTtl: number;
  readonly #retention: number;
  readonly #limits: AcceptLimits;
  readonly #now: () => Date;

  constructor(redis: Redis, options: RequestStoreOptions) {
    this.#redis = redis;
    this.#keys = redisKeys(options.prefix);
    this.#idemTtl = options.idempotencyTtlSeconds ?? 24 * 3600;
    this.#retention = options.retentionSeconds ?? 30 * 24 * 3600;
    this.#limits = { perCallerPerWindow: 0, windowMs: 60_000, maxBacklog: 0, ...options.limits };
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Records a new request, or finds the one its Idempotency-Key names. `creationJob` builds
   * the request's creation job, written in the same atomic step as the record.
   */
  async accept(
    input: TransactionInput,
    meta: {
      correlationId: string;
      /** Who asks: owns the request, and scopes its Idempotency-Key. @defaultValue 'default' */
      caller?: string;
      idempotencyKey?: string | undefined;
    },
    creationJob?: (request: { id: string; correlationId: string }) => JobInsert,
  ): Promise<AcceptResult> {
    const caller = meta.caller ?? DEFAULT_OWNER;
    const id = newRequestId();
    const bodyHash = sha256(canonicalJson(input));
    const now = this.#now().toISOString();
    const record: Record<string, string> = {
      id,
      status: 'queued',
      transaction_type_id: input.transactionTypeId,
      correlation_id: meta.correlationId,
      caller,
      persona_key: randomUUID(),
      key_generation: '0',
      server_errors: '0',
      body_hash: bodyHash,
      created_at: now,
      updated_at: now,
    };
    if (input.referenceId !== undefined) record.reference_id = input.referenceId;
    if (input.tags !== undefined) record.tags = JSON.stringify(input.tags);
    const job = creationJob?.({ id, correlationId: meta.correlationId });
    const idemKey = this.#keys.idempotency(
      // The default caller keeps the key as it was before callers had names.
      caller === DEFAULT_OWNER ? (meta.idempotencyKey ?? '') : `${caller}\n${meta.idempotencyKey}`,
    );
    const reply = (await acceptScript.run(
      this.#redis,
      [
        idemKey,
        this.#keys.request(id),
        this.#keys.requestFields(id),
        this.#keys.callerWindow(caller),
        this.#keys.queuedRequests(),
        // Without a job (unit tests), nine keys the script does not touch.
        ...(job?.keys ?? Array<string>(JOB_INSERT_KEYS).fill(idemKey)),
      ],
      [
        meta.idempotencyKey === undefined ? '0' : '1',
        id,
        bodyHash,
        this.#idemTtl,
        this.#retention,
        JSON.stringify(input.fields),
        this.#limits.perCallerPerWindow,
        this.#limits.windowMs,
        this.#limits.maxBacklog,
        this.#now().getTime(),
        ...(job?.args ?? ['', '', '']),
        ...Object.entries(record).flat(),
      ],
    )) as [string, string | number, string?];
    switch (reply[0]) {
      case 'existing':
        return { kind: 'existing', id: String(reply[1]), sameBody: reply[2] === bodyHash };
      case 'rate_limited':
        return { kind: 'rate_limited', retryInMs: Number(reply[1]) };
      case 'backlog_full':
        return { kind: 'backlog_full' };
      default:
        return { kind: 'created', request: parseRecord(record)! };
    }
  }

  async get(id: string): Promise<TransactionRequest | null> {
    return parseRecord(await this.#redis.hgetall(this.#keys.request(id)));
  }

  async fields(id: string): Promise<Record<string, unknown> | null> {
    const raw = await this.#redis.get(this.#keys.requestFields(id));
    return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
  }

  /**
   * Records a call under the current key: the first one's time is kept, the latest one's
   * too, and (from the first call on) whether the calls carry our request tag.
   */
  async markAttempt(id: string, { tagged }: { tagged: boolean }): Promise<void> {
    const key = this.#keys.request(id);
    const now = String(this.#now().getTime());
    const m = this.#redis.multi().hsetnx(key, 'first_attempt_at', now);
    if (tagged) m.hsetnx(key, 'tagged', '1');
    await this.#keepTtl(m.hset(key, 'last_attempt_at', now), key).exec();
  }

  /** The job stops calling Persona and only looks for the transaction from now on. */
  async markGivenUp(id: string, reason: GiveUpReason): Promise<void> {
    const key = this.#keys.request(id);
    await this.#keepTtl(this.#redis.multi().hsetnx(key, 'given_up', reason), key).exec();
  }

  /** Counts a 5xx under the current key; returns the consecutive count. */
  async recordServerError(id: string): Promise<number> {
    const key = this.#keys.request(id);
    const [[, count]] = (await this.#keepTtl(
      this.#redis
        .multi()
        .hincrby(key, 'server_errors', 1)
        .hset(key, 'updated_at', this.#now().toISOString()),
      key,
    ).exec()) as [[null, number], [null, number]];
    return count;
  }

  /** A non-5xx answer under the key: the 5xx run is broken. */
  async clearServerErrors(id: string): Promise<void> {
    const key = this.#keys.request(id);
    await this.#keepTtl(this.#redis.multi().hset(key, 'server_errors', '0'), key).exec();
  }

  /** A new Idempotency-Key, once reconciliation showed that nothing was created under the old one. */
  async rotatePersonaKey(id: string, expectedGeneration: number): Promise<boolean> {
    const rotated = await rotateScript.run(
      this.#redis,
      [this.#keys.request(id)],
      [String(expectedGeneration), randomUUID(), this.#now().toISOString()],
    );
    return rotated === 1;
  }

  /** Our request id for a Persona transaction id, once the request is submitted. */
  requestIdFor(personaTransactionId: string): Promise<string | null> {
    return this.#redis.get(this.#keys.transactionLink(personaTransactionId));
  }

  /**
   * queued → submitted, linking the Persona transaction to this request. Returns what the
   * request already was if it had settled, or `conflict` if the Persona transaction
   * belongs to another request.
   */
  markSubmitted(
    id: string,
    persona: { transactionId: string; status: string | null },
  ): Promise<SettleResult> {
    const fields = [
      'persona_transaction_id',
      persona.transactionId,
      'updated_at',
      this.#now().toISOString(),
    ];
    if (persona.status !== null) fields.push('persona_status', persona.status);
    return this.#settle(id, 'submitted', persona.transactionId, fields);
  }

  /**
   * queued → failed, with the reason. A failure that may be re-driven keeps the request's
   * fields and tags (until the record's retention); any other drops them, as a submit does.
   */
  markFailed(id: string, error: RequestError): Promise<SettleResult> {
    return this.#settle(
      id,
      'failed',
      null,
      ['error', JSON.stringify(error), 'updated_at', this.#now().toISOString()],
      isRedrivable(error.code),
    );
  }

  /**
   * failed (for a transient reason) → queued, once; see redrive-request-4.lua. The caller
   * then makes sure its creation job runs.
   */
  async redrive(id: string): Promise<RedriveResult> {
    const now = this.#now();
    return (await redriveScript.run(
      this.#redis,
      [
        this.#keys.request(id),
        this.#keys.requestFields(id),
        this.#keys.failedRequests(),
        this.#keys.queuedRequests(),
      ],
      [REDRIVABLE_CODES.join(' '), KEY_TRUSTED_MS, now.getTime(), now.toISOString(), id],
    )) as RedriveResult;
  }

  /** Failed requests, oldest first: id, error code, when it failed (ms). */
  async failed(limit = 10_000): Promise<{ id: string; code: string; failedAt: number }[]> {
    const flat = await this.#redis.zrange(this.#keys.failedRequests(), 0, limit - 1, 'WITHSCORES');
    const out: { id: string; code: string; failedAt: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const request = await this.get(flat[i]!);
      out.push({
        id: flat[i]!,
        code: request?.error?.code ?? 'unknown',
        failedAt: Number(flat[i + 1]),
      });
    }
    return out;
  }

  /** A write to a record that may just have expired must not leave it without a TTL. */
  #keepTtl(m: ChainableCommander, key: string): ChainableCommander {
    return m.expire(key, this.#retention, 'NX');
  }

  async #settle(
    id: string,
    status: RequestStatus,
    personaTransactionId: string | null,
    fields: string[],
    keepFields = false,
  ) {
    return (await settleScript.run(
      this.#redis,
      [
        this.#keys.request(id),
        this.#keys.requestFields(id),
        this.#keys.transactionLink(personaTransactionId ?? ''),
        this.#keys.awaiting(),
        this.#keys.failedRequests(),
        this.#keys.queuedRequests(),
      ],
      [
        status,
        personaTransactionId === null ? '' : id,
        this.#retention,
        this.#now().getTime(),
        keepFields ? '1' : '0',
        id,
        ...fields,
      ],
    )) as SettleResult;
  }
}
