import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys, type RedisKeys } from '../redis/keys.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { canonicalJson, sha256 } from '../util/canonical.ts';

const acceptScript = new LuaScript(new URL('./accept-request-3.lua', import.meta.url));
const settleScript = new LuaScript(new URL('./settle-request-4.lua', import.meta.url));
const rotateScript = new LuaScript(new URL('./rotate-key-1.lua', import.meta.url));

export type RequestStatus = 'queued' | 'submitted' | 'failed';

/** The error code a request fails with when a look finds nothing was created. */
export type GiveUpReason = 'persona_unavailable' | 'quota_exceeded';

export interface RequestError {
  /** Stable machine code: `persona_rejected`, `persona_unavailable`, ... */
  code: string;
  message: string;
  /** Persona's `errors[]` (title and details), when Persona refused the request. */
  details?: unknown;
}

/** What an internal caller asked for; `fields` are kept apart, see {@link RequestStore.fields}. */
export interface TransactionInput {
  transactionTypeId: string;
  fields: Record<string, unknown>;
  referenceId?: string | undefined;
  tags?: string[] | undefined;
}

export interface TransactionRequest {
  id: string;
  status: RequestStatus;
  transactionTypeId: string;
  referenceId: string | null;
  tags: string[] | null;
  correlationId: string;
  /** The Idempotency-Key we send to Persona: minted at accept time, reused by every retry. */
  personaKey: string;
  /** Bumped when reconciliation proved a stored 5xx created nothing and a new key was minted. */
  keyGeneration: number;
  personaTransactionId: string | null;
  personaStatus: string | null;
  /** The status the last applied Persona event set (null until one applied). */
  stateStatus: string | null;
  error: RequestError | null;
  /** Consecutive 5xx answers under the current key. */
  serverErrors: number;
  /** When the first Persona call under the current key was made (ms), for reconciliation. */
  firstAttemptAt: number | null;
  /** When the latest Persona call under the current key was made (ms): lists may lag behind it. */
  lastAttemptAt: number | null;
  /**
   * Set once the job has given up calling Persona (its last attempt ended without a trustworthy
   * answer, or a quota outlasted our wait): from then on it only looks for the transaction,
   * and fails with this code if there is none.
   */
  givenUp: GiveUpReason | null;
  /**
   * The calls under the current key carry our request tag. False only for a request first
   * tried by a version that did not tag: its body must stay as it was under that key.
   */
  tagged: boolean;
  createdAt: string;
  updatedAt: string;
}

export type AcceptResult =
  | { kind: 'created'; request: TransactionRequest }
  | { kind: 'existing'; id: string; sameBody: boolean };

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

  /** queued → failed, with the reason. */
  markFailed(id: string, error: RequestError): Promise<SettleResult> {
    return this.#settle(id, 'failed', null, [
      'error',
      JSON.stringify(error),
      'updated_at',
      this.#now().toISOString(),
    ]);
  }

  async #settle(
    id: string,
    status: RequestStatus,
    personaTransactionId: string | null,
    fields: string[],
  ) {
    return (await settleScript.run(
      this.#redis,
      [
        this.#keys.request(id),
        this.#keys.requestFields(id),
        this.#keys.transactionLink(personaTransactionId ?? ''),
        this.#keys.awaiting(),
      ],
      [
        status,
        personaTransactionId === null ? '' : id,
        this.#retention,
        this.#now().getTime(),
        ...fields,
      ],
    )) as SettleResult;
  }
}

export type SettleResult = 'settled' | 'missing' | 'conflict' | RequestStatus;

function parseRecord(h: Record<string, string>): TransactionRequest | null {
  if (!h.id || !h.status) return null;
  return {
    id: h.id,
    status: h.status as RequestStatus,
    transactionTypeId: h.transaction_type_id ?? '',
    referenceId: h.reference_id ?? null,
    tags: h.tags ? (JSON.parse(h.tags) as string[]) : null,
    correlationId: h.correlation_id ?? '',
    personaKey: h.persona_key ?? '',
    keyGeneration: Number(h.key_generation ?? 0),
    personaTransactionId: h.persona_transaction_id ?? null,
    personaStatus: h.persona_status ?? null,
    stateStatus: h.state_status ?? null,
    error: h.error ? (JSON.parse(h.error) as RequestError) : null,
    serverErrors: Number(h.server_errors ?? 0),
    firstAttemptAt: h.first_attempt_at ? Number(h.first_attempt_at) : null,
    lastAttemptAt: h.last_attempt_at ? Number(h.last_attempt_at) : null,
    givenUp: (h.given_up as GiveUpReason | undefined) ?? null,
    tagged: h.tagged === '1' || !h.first_attempt_at,
    createdAt: h.created_at ?? '',
    updatedAt: h.updated_at ?? '',
  };
}
