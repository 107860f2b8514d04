/**
 * Test support for submit-transaction and find-created-transaction unit tests (no test of its
 * own). A real RequestStore over ioredis-mock (which runs the store's Lua scripts), a scripted
 * PersonaClient fake that records every call, and a fake clock (Date only).
 */
import RedisMock from 'ioredis-mock';
import { afterEach, beforeEach, vi } from 'vitest';
import {
  createLogger,
  redisKeys,
  RequestStore,
  type CallOptions,
  type CallResult,
  type PersonaClient,
  type TransactionInput,
  type TransactionPage,
  type TransactionRequest,
  type TransactionResource,
} from '@pp/shared';
import { submitTransaction, type SubmitDeps, type SubmitOutcome } from './submit-transaction.ts';

export const T0 = Date.parse('2026-03-02T10:00:00.000Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
/** A minute: how far lists lag in these tests. */
export const LIST_LAG_MS = 60_000;
/** An hour: the quota wait bound in these tests. */
export const QUOTA_MAX_WAIT_MS = 3_600_000;
export const RECONCILE_AFTER = 3;
export const CALLER_TAGS = ['caller-a', 'caller-b'];

/** Date (and Date.now) only: ioredis-mock's own timers keep running. */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

export const advance = (ms: number): void => {
  vi.setSystemTime(Date.now() + ms);
};

export const tagOf = (id: string): string => `persona-pipeline:${id}`;

type CreateOptions = { idempotencyKey: string; signal?: AbortSignal };
type ListFilter = { referenceId?: string; transactionTypeId?: string };
type ListPage = { after?: string; size?: number };

/** Only the two calls the domain makes; anything unscripted fails the test. */
class FakePersona {
  readonly creates: CallResult<TransactionResource>[] = [];
  readonly lists: CallResult<TransactionPage>[] = [];
  readonly createCalls: { input: TransactionInput; options: CreateOptions }[] = [];
  readonly listCalls: { filter: ListFilter; page: ListPage; options: CallOptions }[] = [];

  /** Runs while a create call is in flight (before its answer), e.g. a webhook linking by tag. */
  whileCreating: (() => Promise<unknown>) | null = null;

  async createTransaction(
    input: TransactionInput,
    options: CreateOptions,
  ): Promise<CallResult<TransactionResource>> {
    this.createCalls.push({ input: structuredClone(input), options });
    if (this.whileCreating) await this.whileCreating();
    const next = this.creates.shift();
    if (!next) throw new Error('unscripted createTransaction');
    return next;
  }

  listTransactions(
    filter: ListFilter,
    page: ListPage,
    options: CallOptions,
  ): Promise<CallResult<TransactionPage>> {
    this.listCalls.push({ filter, page, options });
    const next = this.lists.shift();
    return next ? Promise.resolve(next) : Promise.reject(new Error('unscripted listTransactions'));
  }
}

export const created = (
  id: string,
  /** null: Persona's answer carries no status. */
  status: string | null = 'created',
): CallResult<TransactionResource> => ({
  kind: 'ok',
  status: 201,
  data: { type: 'transaction', id, attributes: status === null ? {} : { status } },
  requestId: 'preq_1',
});

export const txn = (
  id: string,
  o: { tags?: string[]; createdAt?: number; status?: string } = {},
): TransactionResource => ({
  type: 'transaction',
  id,
  attributes: {
    status: o.status ?? 'created',
    tags: o.tags ?? [],
    'created-at': new Date(o.createdAt ?? Date.now()).toISOString(),
  },
});

export const page = (
  data: TransactionResource[],
  nextCursor: string | null = null,
): CallResult<TransactionPage> => ({
  kind: 'ok',
  status: 200,
  data: { data, nextCursor },
  requestId: undefined,
});

let seq = 0;

export function harness(over: Partial<SubmitDeps> = {}) {
  const redis = new RedisMock();
  // ioredis-mock instances share one data set: a prefix per harness keeps tests apart.
  const prefix = `submit-unit${seq++}`;
  const store = new RequestStore(redis, { prefix });
  const persona = new FakePersona();
  const linked: string[] = [];
  const clock = { blockedSince: null as number | null };
  const deps: SubmitDeps = {
    store,
    persona: persona as Pick<
      PersonaClient,
      'createTransaction' | 'listTransactions'
    > as PersonaClient,
    reconcileAfter: RECONCILE_AFTER,
    listLagMs: LIST_LAG_MS,
    quotaMaxWaitMs: QUOTA_MAX_WAIT_MS,
    quotaBlockedSince: () => Promise.resolve(clock.blockedSince),
    onLinked: (personaTransactionId) => {
      linked.push(personaTransactionId);
      return Promise.resolve();
    },
    ...over,
  };
  const log = createLogger({ service: 'submit-unit', level: 'silent' });

  /** A queued request, as the gateway accepts it. */
  async function accept(input: Partial<TransactionInput> = {}): Promise<TransactionRequest> {
    const res = await store.accept(
      {
        transactionTypeId: 'ttyp_unit',
        fields: { 'name-first': { type: 'string', value: 'Ada' } },
        referenceId: 'ref-1',
        tags: CALLER_TAGS,
        ...input,
      },
      { correlationId: 'corr-1' },
    );
    // By shape, not by the result's discriminant name.
    if (res.kind !== 'created') throw new Error('request not created');
    return res.request;
  }

  /** The stored request, which must exist. */
  async function get(id: string): Promise<TransactionRequest> {
    const r = await store.get(id);
    if (!r) throw new Error(`no request ${id}`);
    return r;
  }

  /** History under the current key: one earlier call (tagged or not), then `serverErrors` 5xx. */
  async function attempted(id: string, o: { tagged?: boolean; serverErrors?: number } = {}) {
    await store.markAttempt(id, { tagged: o.tagged ?? true });
    for (let i = 0; i < (o.serverErrors ?? 0); i++) await store.recordServerError(id);
  }

  /** The request's fields expire. */
  async function dropFields(id: string): Promise<void> {
    await redis.del(redisKeys(prefix).requestFields(id));
  }

  const run = (id: string, finalAttempt = false, signal?: AbortSignal): Promise<SubmitOutcome> =>
    submitTransaction(deps, id, { finalAttempt, log, ...(signal ? { signal } : {}) });

  return {
    redis,
    store,
    dropFields,
    persona,
    linked,
    clock,
    deps,
    log,
    accept,
    get,
    attempted,
    run,
  };
}
