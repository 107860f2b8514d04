import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys, type RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { canonicalJson, sha256 } from '../util/canonical.ts';
import {
  parseRecord,
  isRedrivable,
  REDRIVABLE_CODES,
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

const acceptScript = new LuaScript(new URL('./accept-request-3.lua', import.meta.url));
const settleScript = new LuaScript(new URL('./settle-request-5.lua', import.meta.url));
const redriveScript = new LuaScript(new URL('./redrive-request-3.lua', import.meta.url));
const rotateScript = new LuaScript(new URL('./rotate-key-1.lua', import.meta.url));

export interface RequestStoreOptions {
  prefix: string;
  /** How long an Idempotency-Key maps to its request. @defaultValue 24 h */
  idempotencyTtlSeconds?: number;
  /** How long a request record is kept. @defaultValue 30 days */
  retentionSeconds?: number;
  now?: () => Date;
}

const newRequestId = (): string => `req_${randomBytes(16).toString('hex')}`;

/**
 * Transaction requests in Redis: one hash per request, its fields apart (deleted once
 * Persona has them or refused them for good), and Idempotency-Key mappings.
 */
export class RequestStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #idemTtl: number;
  readonly #retention: number;
  readonly #now: () => Date;

  constructor(redis: Redis, options: RequestStoreOptions) {
    this.#redis = redis;
    this.#keys = redisKeys(options.prefix);
    this.#idemTtl = options.idempotencyTtlSeconds ?? 24 * 3600;
    this.#retention = options.retentionSeconds ?? 30 * 24 * 3600;
    this.#now = options.now ?? (() => new Date());
  }

  async accept(
    input: TransactionInput,
    meta: { correlationId: string; idempotencyKey?: string | undefined },
  ): Promise<AcceptResult> {
    const id = newRequestId();
    const bodyHash = sha256(canonicalJson(input));
    const now = this.#now().toISOString();
    const record: Record<string, string> = {
      id,
      status: 'queued',
      transaction_type_id: input.transactionTypeId,
      correlation_id: meta.correlationId,
      persona_key: randomUUID(),
      key_generation: '0',
      server_errors: '0',
      body_hash: bodyHash,
      created_at: now,
      updated_at: now,
    };
    if (input.referenceId !== undefined) record.reference_id = input.referenceId;
    if (input.tags !== undefined) record.tags = JSON.stringify(input.tags);
    const hasIdem = meta.idempotencyKey !== undefined;
    const reply = (await acceptScript.run(
      this.#redis,
      [
        this.#keys.idempotency(meta.idempotencyKey ?? ''),
        this.#keys.request(id),
        this.#keys.requestFields(id),
      ],
      [
        hasIdem ? '1' : '0',
        id,
        bodyHash,
        this.#idemTtl,
        this.#retention,
        JSON.stringify(input.fields),
        ...Object.entries(record).flat(),
      ],
    )) as [string, string, string?];
    if (reply[0] === 'existing') {
      return { kind: 'existing', id: reply[1], sameBody: reply[2] === bodyHash };
    }
    return { kind: 'created', request: parseRecord(record)! };
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
    await m.hset(key, 'last_attempt_at', now).exec();
  }

  /** The job stops calling Persona and only looks for the transaction from now on. */
  async markGivenUp(id: string, reason: GiveUpReason): Promise<void> {
    await this.#redis.hsetnx(this.#keys.request(id), 'given_up', reason);
  }

  /** Counts a 5xx under the current key; returns the consecutive count. */
  async recordServerError(id: string): Promise<number> {
    const key = this.#keys.request(id);
    const [[, count]] = (await this.#redis
      .multi()
      .hincrby(key, 'server_errors', 1)
      .hset(key, 'updated_at', this.#now().toISOString())
      .exec()) as [[null, number], [null, number]];
    return count;
  }

  /** A non-5xx answer under the key: the 5xx run is broken. */
  async clearServerErrors(id: string): Promise<void> {
    await this.#redis.hset(this.#keys.request(id), 'server_errors', '0');
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
   * fields (until the record's retention); any other drops them.
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
   * failed (for a transient reason) → queued, once; see redrive-request-3.lua. The caller
   * then makes sure its creation job runs.
   */
  async redrive(id: string): Promise<RedriveResult> {
    const now = this.#now();
    return (await redriveScript.run(
      this.#redis,
      [this.#keys.request(id), this.#keys.requestFields(id), this.#keys.failedRequests()],
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
