import { describe, expect, it } from 'vitest';
import type { CallResult, TransactionResource } from '@pp/shared';
import {
  HOUR,
  LIST_LAG_MS,
  MIN,
  QUOTA_MAX_WAIT_MS,
  T0,
  advance,
  harness,
  page,
  tagOf,
  txn,
  useFakeClock,
} from './submit-transaction.testkit.ts';

/**
 * A creation quota: the request waits (no attempt spent) for at most `quotaMaxWaitMs`,
 * measured from max(accepted at, quota refusing since); then it gives up and searches.
 */
describe('submitTransaction: the creation quota', () => {
  useFakeClock();

  const quotaAnswers: [string, CallResult<TransactionResource>][] = [
    [
      'the limiter throttles for the quota',
      { kind: 'throttled', retryInMs: 30_000, reason: 'quota' },
    ],
    [
      'Persona answers Quota exceeded',
      { kind: 'quota_exceeded', retryInMs: 30_000, errors: [{ title: 'Quota exceeded' }] },
    ],
  ];
  const cases = quotaAnswers.flatMap(([name, result]) =>
    [false, true].map((finalAttempt) => [name, finalAttempt, result] as const),
  );

  async function queuedFor(waitedMs: number, blockedSince: number | null) {
    const h = harness();
    const req = await h.accept(); // accepted at T0
    advance(waitedMs);
    h.clock.blockedSince = blockedSince;
    return { h, req };
  }

  it.each(cases)(
    'When %s (finalAttempt %s) within the bound, then the job waits for the quota without giving up',
    async (_name, finalAttempt, result) => {
      const { h, req } = await queuedFor(10 * MIN, T0 + 5 * MIN);
      h.persona.creates.push(result);

      expect(await h.run(req.id, finalAttempt)).toEqual({
        kind: 'wait',
        retryInMs: 30_000,
        reason: 'quota',
      });
      expect(await h.get(req.id)).toMatchObject({ status: 'queued', givenUp: null, error: null });
      expect(h.persona.listCalls).toEqual([]);
    },
  );

  it.each(cases)(
    'When %s (finalAttempt %s) 1 ms before the bound, then it waits; at the bound, then it gives up with quota_exceeded and defers its search',
    async (_name, finalAttempt, result) => {
      const { h, req } = await queuedFor(QUOTA_MAX_WAIT_MS - 1, T0 - 2 * HOUR);
      h.persona.creates.push(result, result);

      expect(await h.run(req.id, finalAttempt)).toMatchObject({ kind: 'wait', reason: 'quota' });
      advance(1);
      expect(await h.run(req.id, finalAttempt)).toEqual({
        kind: 'defer',
        retryInMs: LIST_LAG_MS,
        reason: 'list_lag',
      });

      expect(await h.get(req.id)).toMatchObject({
        status: 'queued',
        givenUp: 'quota_exceeded',
        error: null,
      });
      expect(h.persona.listCalls).toEqual([]);
    },
  );

  it('When the request is older than the bound but the quota began refusing recently, then the bound runs from the quota and the job waits', async () => {
    const { h, req } = await queuedFor(5 * HOUR, T0 + 5 * HOUR - 30 * MIN);
    h.persona.creates.push(quotaAnswers[1]![1]);

    expect(await h.run(req.id, true)).toMatchObject({ kind: 'wait', reason: 'quota' });
    expect((await h.get(req.id)).givenUp).toBeNull();
  });

  it('When the quota has refused longer than the bound but the request is recent, then the bound runs from acceptance and the job waits', async () => {
    const { h, req } = await queuedFor(30 * MIN, T0 - 5 * HOUR);
    h.persona.creates.push(quotaAnswers[1]![1]);

    expect(await h.run(req.id, true)).toMatchObject({ kind: 'wait', reason: 'quota' });
    expect((await h.get(req.id)).givenUp).toBeNull();
  });

  it('When both the request and the quota block are older than the bound, then it gives up', async () => {
    const { h, req } = await queuedFor(2 * HOUR, T0 - HOUR);
    h.persona.creates.push(quotaAnswers[0]![1]);

    expect(await h.run(req.id)).toMatchObject({ kind: 'defer', reason: 'list_lag' });
    expect((await h.get(req.id)).givenUp).toBe('quota_exceeded');
  });

  it('When the limiter has no record of the quota block (null), then the bound runs from acceptance: a two-day-old request gives up', async () => {
    const { h, req } = await queuedFor(48 * HOUR, null);
    h.persona.creates.push(quotaAnswers[1]![1]);

    expect(await h.run(req.id, true)).toMatchObject({ kind: 'defer', reason: 'list_lag' });
    expect((await h.get(req.id)).givenUp).toBe('quota_exceeded');
  });

  it('When a quota give-up meets a failing search before the last attempt, then the job retries the search instead of failing', async () => {
    const { h, req } = await queuedFor(2 * HOUR, T0);
    h.persona.creates.push(quotaAnswers[1]![1]);
    expect(await h.run(req.id)).toMatchObject({ kind: 'defer', reason: 'list_lag' });

    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'server_error', status: 503, errors: [] });
    expect(await h.run(req.id)).toEqual({ kind: 'retry', reason: 'search answered 503' });
    expect((await h.get(req.id)).status).toBe('queued');
  });

  it('When the quota outlasted the bound and the search finds nothing, then the request fails with quota_exceeded and Persona is not called again', async () => {
    const { h, req } = await queuedFor(2 * HOUR, T0);
    h.persona.creates.push(quotaAnswers[1]![1]);
    expect(await h.run(req.id)).toMatchObject({ kind: 'defer', retryInMs: LIST_LAG_MS });

    advance(LIST_LAG_MS);
    h.persona.lists.push(page([txn('txn_other', { tags: ['someone-else'] })]));
    expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'failed' });

    expect(await h.get(req.id)).toMatchObject({
      status: 'failed',
      givenUp: 'quota_exceeded',
      error: {
        code: 'quota_exceeded',
        message:
          "Persona's transaction-creation quota stayed exhausted longer than we wait, and no transaction was created for it",
      },
    });
    expect(await h.store.fields(req.id)).not.toBeNull();
    expect(h.persona.createCalls).toHaveLength(1);
    expect(h.persona.listCalls).toHaveLength(1);
  });

  it('When the quota outlasted the bound but an earlier call had created the transaction, then the search links it and the request is submitted', async () => {
    const { h, req } = await queuedFor(2 * HOUR, T0);
    h.persona.creates.push(quotaAnswers[1]![1]);
    await h.run(req.id);

    advance(LIST_LAG_MS);
    h.persona.lists.push(page([txn('txn_ours', { tags: ['caller-a', tagOf(req.id)] })]));
    expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'submitted' });

    expect(await h.get(req.id)).toMatchObject({
      status: 'submitted',
      personaTransactionId: 'txn_ours',
      error: null,
    });
    expect(h.linked).toEqual(['txn_ours']);
    expect(h.persona.createCalls).toHaveLength(1);
  });
});
