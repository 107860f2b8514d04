import { describe, expect, it } from 'vitest';
import {
  CALLER_TAGS,
  LIST_LAG_MS,
  RECONCILE_AFTER,
  T0,
  advance,
  created,
  harness,
  page,
  tagOf,
  txn,
  useFakeClock,
} from './submit-transaction.testkit.ts';

/**
 * Persona stores a 5xx against its key and replays it: after `reconcileAfter` consecutive 5xx
 * the job looks for the transaction before minting a new key.
 */
describe('submitTransaction: reconciling after repeated 5xx', () => {
  useFakeClock();

  /** A request with `serverErrors` 5xx under its first key, the last call at T0. */
  async function after5xx(serverErrors = RECONCILE_AFTER, o: { tagged?: boolean } = {}) {
    const h = harness();
    const req = await h.accept();
    await h.attempted(req.id, { serverErrors, tagged: o.tagged ?? true });
    return { h, req };
  }

  it('When the 5xx count is one below reconcileAfter, then the create goes out under the same key without a search', async () => {
    const { h, req } = await after5xx(RECONCILE_AFTER - 1);
    h.persona.creates.push(created('txn_1'));

    expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'submitted' });
    expect(h.persona.listCalls).toEqual([]);
    expect(h.persona.createCalls[0]!.options.idempotencyKey).toBe(req.personaKey);
  });

  it('When the count reached reconcileAfter and the search finds nothing, then a new key is minted, the counters reset, and the create goes out under it still tagged', async () => {
    const { h, req } = await after5xx();
    advance(LIST_LAG_MS);
    h.persona.lists.push(page([txn('txn_foreign', { tags: CALLER_TAGS })]));
    h.persona.creates.push(created('txn_new'));

    expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'submitted' });

    const after = await h.get(req.id);
    expect(after).toMatchObject({
      status: 'submitted',
      personaTransactionId: 'txn_new',
      keyGeneration: 1,
      serverErrors: 0,
      // The call times are those of the new key only.
      firstAttemptAt: T0 + LIST_LAG_MS,
      lastAttemptAt: T0 + LIST_LAG_MS,
    });
    expect(after.personaKey).not.toBe(req.personaKey);
    expect(h.persona.createCalls).toHaveLength(1);
    expect(h.persona.createCalls[0]!.options.idempotencyKey).toBe(after.personaKey);
    expect(h.persona.createCalls[0]!.input.tags).toEqual([...CALLER_TAGS, tagOf(req.id)]);
    expect(h.linked).toEqual(['txn_new']);
  });

  it('When, after the new key is minted, the create gets another 5xx, then the count starts again at 1 under the new key', async () => {
    const { h, req } = await after5xx();
    advance(LIST_LAG_MS);
    h.persona.lists.push(page([]));
    h.persona.creates.push({ kind: 'server_error', status: 500, errors: [] });

    expect(await h.run(req.id)).toEqual({ kind: 'retry', reason: 'persona 500' });
    expect(await h.get(req.id)).toMatchObject({
      status: 'queued',
      keyGeneration: 1,
      serverErrors: 1,
      givenUp: null,
    });
  });

  it('When the search finds the transaction a 5xx had hidden, then it is linked and the request submitted, with no new key and no create', async () => {
    const { h, req } = await after5xx();
    advance(LIST_LAG_MS);
    h.persona.lists.push(page([txn('txn_hidden', { tags: [...CALLER_TAGS, tagOf(req.id)] })]));

    expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'submitted' });

    expect(await h.get(req.id)).toMatchObject({
      status: 'submitted',
      personaTransactionId: 'txn_hidden',
      personaKey: req.personaKey,
      keyGeneration: 0,
    });
    expect(h.linked).toEqual(['txn_hidden']);
    expect(h.persona.createCalls).toEqual([]);
  });

  it.each([false, true])(
    'When the list lag since the last call has not passed (finalAttempt %s), then the job defers for the rest of it, with no new key and no create',
    async (finalAttempt) => {
      const { h, req } = await after5xx();
      advance(LIST_LAG_MS - 15_000);

      expect(await h.run(req.id, finalAttempt)).toEqual({
        kind: 'defer',
        retryInMs: 15_000,
        reason: 'list_lag',
      });
      expect(await h.get(req.id)).toMatchObject({
        status: 'queued',
        personaKey: req.personaKey,
        givenUp: null,
      });
      expect(h.persona.createCalls).toEqual([]);
      expect(h.persona.listCalls).toEqual([]);
    },
  );

  it('When the search is rate limited, then the job waits for the budget, with no new key and no create', async () => {
    const { h, req } = await after5xx();
    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'throttled', retryInMs: 900, reason: 'window' });

    expect(await h.run(req.id, true)).toEqual({
      kind: 'wait',
      retryInMs: 900,
      reason: 'search_rate_limited',
    });
    expect((await h.get(req.id)).personaKey).toBe(req.personaKey);
    expect(h.persona.createCalls).toEqual([]);
  });

  it('When the search fails on an ordinary attempt, then the job retries, keeping the key, and does not create', async () => {
    const { h, req } = await after5xx();
    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'server_error', status: 502, errors: [] });

    expect(await h.run(req.id, false)).toEqual({ kind: 'retry', reason: 'search answered 502' });
    expect(await h.get(req.id)).toMatchObject({
      status: 'queued',
      personaKey: req.personaKey,
      serverErrors: RECONCILE_AFTER,
      givenUp: null,
    });
    expect(h.persona.createCalls).toEqual([]);
  });

  it('When the search fails on the final attempt, then the request fails with persona_unavailable as unchecked', async () => {
    const { h, req } = await after5xx();
    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'network', code: 'ECONNRESET' });

    expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });
    expect(await h.get(req.id)).toMatchObject({
      status: 'failed',
      error: {
        code: 'persona_unavailable',
        message:
          'Persona did not accept the request on any attempt (5xx, timeouts or no connection), and we could not check what it created',
      },
    });
    expect(h.persona.createCalls).toEqual([]);
  });

  it('When the 5xx came under an untagged key, then the search refuses: the job retries and never mints a new key', async () => {
    const { h, req } = await after5xx(RECONCILE_AFTER, { tagged: false });
    advance(LIST_LAG_MS);

    expect(await h.run(req.id, false)).toEqual({
      kind: 'retry',
      reason: 'the calls under this key carry no tag',
    });
    expect(await h.get(req.id)).toMatchObject({ personaKey: req.personaKey, keyGeneration: 0 });
    expect(h.persona.listCalls).toEqual([]);
    expect(h.persona.createCalls).toEqual([]);
  });

  it('When the tagged transaction the search finds is linked to another request, then it is not adopted and no new key is minted: the job retries', async () => {
    const { h, req } = await after5xx();
    const other = await h.accept({ referenceId: 'ref-other' });
    await h.store.markSubmitted(other.id, { transactionId: 'txn_claimed', status: null });
    advance(LIST_LAG_MS);
    h.persona.lists.push(page([txn('txn_claimed', { tags: [tagOf(req.id)] })]));

    expect(await h.run(req.id)).toEqual({
      kind: 'retry',
      reason: 'tagged transaction linked to another request',
    });

    const after = await h.get(req.id);
    expect(after).toMatchObject({ status: 'queued', keyGeneration: 0, personaTransactionId: null });
    expect(after.personaKey).toBe(req.personaKey);
    expect(h.persona.createCalls).toEqual([]);
    expect(await h.store.requestIdFor('txn_claimed')).toBe(other.id);
    expect(h.linked).toEqual([]);
  });
});
