import { describe, expect, it } from 'vitest';
import type { CallResult, TransactionPage } from '@pp/shared';
import { findCreatedTransaction } from './find-created-transaction.ts';
import {
  LIST_LAG_MS,
  MIN,
  T0,
  advance,
  harness,
  page,
  tagOf,
  txn,
  useFakeClock,
} from './submit-transaction.testkit.ts';

const SKEW_MS = 5 * MIN;

describe('findCreatedTransaction', () => {
  useFakeClock();

  /** A request with one call at T0 (tagged unless told), searched once the lag has passed. */
  async function searched(o: { tagged?: boolean; referenceId?: string | undefined } = {}) {
    const h = harness();
    const accepted = await h.accept('referenceId' in o ? { referenceId: o.referenceId } : {});
    await h.attempted(accepted.id, { tagged: o.tagged ?? true });
    advance(LIST_LAG_MS);
    const find = async () => findCreatedTransaction(h.deps, await h.get(accepted.id), h.log);
    return { h, id: accepted.id, find };
  }

  it('When no call was made under the key, then nothing can have been created and Persona is not asked', async () => {
    const h = harness();
    const req = await h.accept();

    expect(await findCreatedTransaction(h.deps, req, h.log)).toEqual({ kind: 'none' });
    expect(h.persona.listCalls).toEqual([]);
  });

  it('When the calls under the key were untagged, then the search refuses without asking Persona', async () => {
    const { h, find } = await searched({ tagged: false });

    expect(await find()).toEqual({
      kind: 'error',
      reason: 'the calls under this key carry no tag',
    });
    expect(h.persona.listCalls).toEqual([]);
  });

  it('When the lag is counted, then it runs from the latest call, not the first', async () => {
    const h = harness();
    const req = await h.accept();
    await h.attempted(req.id);
    advance(30_000);
    await h.attempted(req.id);
    advance(40_000);

    expect(await findCreatedTransaction(h.deps, await h.get(req.id), h.log)).toEqual({
      kind: 'defer',
      retryInMs: LIST_LAG_MS - 40_000,
      reason: 'list_lag',
    });
    advance(LIST_LAG_MS - 40_000 - 1);
    expect(await findCreatedTransaction(h.deps, await h.get(req.id), h.log)).toMatchObject({
      kind: 'defer',
      retryInMs: 1,
    });
    advance(1);
    h.persona.lists.push(page([]));
    expect(await findCreatedTransaction(h.deps, await h.get(req.id), h.log)).toEqual({
      kind: 'none',
    });
  });

  it('When the request has a reference id, then the list is filtered by type and reference id, 100 a page, on the creation budget', async () => {
    const { h, find } = await searched();
    h.persona.lists.push(page([]));

    await find();

    expect(h.persona.listCalls).toEqual([
      {
        filter: { transactionTypeId: 'ttyp_unit', referenceId: 'ref-1' },
        page: { size: 100 },
        options: { callClass: 'create' },
      },
    ]);
  });

  it('When the request has no reference id, then the list is filtered by type only', async () => {
    const { h, find } = await searched({ referenceId: undefined });
    h.persona.lists.push(page([]));

    await find();

    expect(h.persona.listCalls[0]!.filter).toEqual({ transactionTypeId: 'ttyp_unit' });
  });

  it('When our transaction is on the second page, then the cursor of the first is followed and the transaction is linked', async () => {
    const { h, id, find } = await searched();
    h.persona.lists.push(
      page([txn('txn_x', { tags: ['persona-pipeline:req_other'] })], 'txn_x'),
      page([txn('txn_ours', { tags: ['caller-a', tagOf(id)], status: 'pending' })]),
    );

    expect(await find()).toEqual({ kind: 'found', id: 'txn_ours' });

    expect(h.persona.listCalls.map((c) => c.page)).toEqual([
      { size: 100 },
      { after: 'txn_x', size: 100 },
    ]);
    expect(await h.get(id)).toMatchObject({
      status: 'submitted',
      personaTransactionId: 'txn_ours',
      personaStatus: 'pending',
    });
    expect(h.linked).toEqual(['txn_ours']);
  });

  it('When a tag only resembles ours (another request, a prefix, other case), then it does not match', async () => {
    const { h, id, find } = await searched();
    h.persona.lists.push(
      page([
        txn('txn_1', { tags: [`${tagOf(id)}0`] }),
        txn('txn_2', { tags: [tagOf(id).toUpperCase()] }),
        txn('txn_3', { tags: [id] }),
      ]),
    );

    expect(await find()).toEqual({ kind: 'none' });
    expect((await h.get(id)).status).toBe('queued');
  });

  it('When our transaction is dated exactly 5 minutes before the first call, then it is still found (clock skew)', async () => {
    const { h, id, find } = await searched();
    h.persona.lists.push(
      page([
        txn('txn_newer', { createdAt: T0 + 1000 }),
        txn('txn_ours', { tags: [tagOf(id)], createdAt: T0 - SKEW_MS }),
      ]),
    );

    expect(await find()).toEqual({ kind: 'found', id: 'txn_ours' });
  });

  it('When a transaction older than the first call less 5 minutes appears, then the search stops with none, even if ours is further down', async () => {
    const { h, id, find } = await searched();
    h.persona.lists.push(
      page(
        [
          txn('txn_old', { createdAt: T0 - SKEW_MS - 1 }),
          txn('txn_ours', { tags: [tagOf(id)], createdAt: T0 - SKEW_MS - 2 }),
        ],
        'txn_ours',
      ),
    );

    expect(await find()).toEqual({ kind: 'none' });
    expect(h.persona.listCalls).toHaveLength(1);
    expect((await h.get(id)).status).toBe('queued');
  });

  it('When a transaction has no readable created-at, then it does not end the search', async () => {
    const { h, id, find } = await searched();
    const undated = txn('txn_undated');
    undated.attributes['created-at'] = null;
    h.persona.lists.push(page([undated, txn('txn_ours', { tags: [tagOf(id)] })]));

    expect(await find()).toEqual({ kind: 'found', id: 'txn_ours' });
  });

  it('When a transaction carrying our tag is linked to another request, then the search cannot tell: an error, never none', async () => {
    const { h, id, find } = await searched();
    const other = await h.accept({ referenceId: 'ref-other' });
    await h.store.markSubmitted(other.id, { transactionId: 'txn_claimed', status: null });
    h.persona.lists.push(
      page([
        txn('txn_claimed', { tags: [tagOf(id)] }),
        txn('txn_ours', { tags: [tagOf(id)], createdAt: T0 }),
      ]),
    );

    expect(await find()).toEqual({
      kind: 'error',
      reason: 'tagged transaction linked to another request',
    });
    expect(await h.store.requestIdFor('txn_claimed')).toBe(other.id);
    expect(await h.store.requestIdFor('txn_ours')).toBeNull();
    expect((await h.get(id)).status).toBe('queued');
  });

  it('When the request was already linked to the same transaction, then it is found, and onLinked runs again (the run that linked it may have died before its own)', async () => {
    const { h, id, find } = await searched();
    await h.store.markSubmitted(id, { transactionId: 'txn_ours', status: null });
    h.persona.lists.push(page([txn('txn_ours', { tags: [tagOf(id)] })]));

    expect(await find()).toEqual({ kind: 'found', id: 'txn_ours' });
    expect(h.linked).toEqual(['txn_ours']);
  });

  it('When every page of the budget is full of newer transactions, then after 10 pages it reports an error, never none', async () => {
    const { h, find } = await searched();
    for (let i = 0; i < 12; i++) h.persona.lists.push(page([txn(`txn_${i}`)], `txn_${i}`));

    expect(await find()).toEqual({ kind: 'error', reason: 'search page budget exhausted' });
    expect(h.persona.listCalls).toHaveLength(10);
  });

  it.each<[string, string, CallResult<TransactionPage>, unknown]>([
    [
      'throttled',
      'wait (search_rate_limited)',
      { kind: 'throttled', retryInMs: 10, reason: 'window' },
      { kind: 'wait', retryInMs: 10, reason: 'search_rate_limited' },
    ],
    [
      'rate_limited',
      'wait (search_rate_limited)',
      { kind: 'rate_limited', retryInMs: 20 },
      { kind: 'wait', retryInMs: 20, reason: 'search_rate_limited' },
    ],
    [
      'quota_exceeded',
      'wait (quota)',
      { kind: 'quota_exceeded', retryInMs: 30, errors: [] },
      { kind: 'wait', retryInMs: 30, reason: 'quota' },
    ],
    [
      'rejected',
      'error with the status',
      { kind: 'rejected', status: 403, errors: [], config: true, idempotencyMismatch: false },
      { kind: 'error', reason: 'search answered 403' },
    ],
    [
      'server_error',
      'error with the status',
      { kind: 'server_error', status: 504, errors: [] },
      { kind: 'error', reason: 'search answered 504' },
    ],
    [
      'conflict',
      'error with the status',
      { kind: 'conflict', status: 409, errors: [] },
      { kind: 'error', reason: 'search answered 409' },
    ],
    [
      'network',
      'error with the code',
      { kind: 'network', code: 'ECONNREFUSED' },
      { kind: 'error', reason: 'search ECONNREFUSED' },
    ],
  ])(
    'When the list call ends %s, then the search reports %s',
    async (_kind, _what, result, expected) => {
      const { h, id, find } = await searched();
      h.persona.lists.push(result);

      expect(await find()).toEqual(expected);
      expect((await h.get(id)).status).toBe('queued');
    },
  );
});
