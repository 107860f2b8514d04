import { describe, expect, it } from 'vitest';
import {
  CALLER_TAGS,
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

const UNAVAILABLE =
  'Persona did not accept the request on any attempt (5xx, timeouts or no connection)';

/** After the job gave up calling Persona it only looks (by our tag) before failing the request. */
describe('submitTransaction: giving up, then searching by tag', () => {
  useFakeClock();

  /** A request whose final attempt got a 503 at T0 (given up, search deferred). */
  async function givenUp() {
    const h = harness();
    const req = await h.accept();
    h.persona.creates.push({ kind: 'server_error', status: 503, errors: [] });
    expect(await h.run(req.id, true)).toMatchObject({ kind: 'defer', reason: 'list_lag' });
    return { h, req };
  }

  it('When a given-up request runs again before the list lag has passed, then it defers for the remaining lag only, without calling Persona', async () => {
    const { h, req } = await givenUp();
    advance(20_000);

    expect(await h.run(req.id, true)).toEqual({
      kind: 'defer',
      retryInMs: LIST_LAG_MS - 20_000,
      reason: 'list_lag',
    });
    expect(h.persona.createCalls).toHaveLength(1);
    expect(h.persona.listCalls).toEqual([]);
  });

  it.each([false, true])(
    'When the search (finalAttempt %s) finds a transaction carrying the request tag, then it is linked, the request is submitted and create is not called again',
    async (finalAttempt) => {
      const { h, req } = await givenUp();
      advance(LIST_LAG_MS);
      h.persona.lists.push(
        page(
          [
            txn('txn_foreign', { tags: ['caller-a', 'caller-b'], createdAt: T0 + 2000 }),
            txn('txn_ours', {
              tags: [...CALLER_TAGS, tagOf(req.id)],
              createdAt: T0 + 1000,
              status: 'approved',
            }),
          ],
          'txn_more',
        ),
      );

      expect(await h.run(req.id, finalAttempt)).toEqual({ kind: 'done', result: 'submitted' });

      expect(await h.get(req.id)).toMatchObject({
        status: 'submitted',
        personaTransactionId: 'txn_ours',
        personaStatus: 'approved',
        error: null,
      });
      expect(await h.store.requestIdFor('txn_ours')).toBe(req.id);
      expect(h.linked).toEqual(['txn_ours']);
      expect(h.persona.createCalls).toHaveLength(1);
      expect(h.persona.listCalls).toEqual([
        {
          filter: { transactionTypeId: 'ttyp_unit', referenceId: 'ref-1' },
          page: { size: 100 },
          options: { callClass: 'create' },
        },
      ]);
    },
  );

  it('When the search reads to the end and finds no transaction with the tag, then the request fails with the give-up code', async () => {
    const { h, req } = await givenUp();
    advance(LIST_LAG_MS);
    h.persona.lists.push(
      page([txn('txn_a', { tags: [tagOf('req_someoneelse')] })], 'txn_a'),
      page([txn('txn_b', { tags: [] })]),
    );

    expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });

    expect(await h.get(req.id)).toMatchObject({
      status: 'failed',
      personaTransactionId: null,
      error: {
        code: 'persona_unavailable',
        message: `${UNAVAILABLE}, and no transaction was created for it`,
      },
    });
    // Kept for a re-drive: the failure is transient.
    expect(await h.store.fields(req.id)).not.toBeNull();
    expect(h.persona.listCalls.map((c) => c.page)).toEqual([
      { size: 100 },
      { after: 'txn_a', size: 100 },
    ]);
    expect(h.linked).toEqual([]);
  });

  it('When the search reaches a transaction created before the first call (less 5 minutes of skew), then it stops there and the request fails as nothing created', async () => {
    const { h, req } = await givenUp();
    advance(LIST_LAG_MS);
    h.persona.lists.push(
      page(
        [
          txn('txn_old', { createdAt: T0 - 5 * MIN - 1 }),
          txn('txn_ours_but_older', { tags: [tagOf(req.id)], createdAt: T0 - 6 * MIN }),
        ],
        'txn_older_page',
      ),
    );

    expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });
    expect((await h.get(req.id)).error?.message).toBe(
      `${UNAVAILABLE}, and no transaction was created for it`,
    );
    expect(h.persona.listCalls).toHaveLength(1);
  });

  it('When the search reads its 10-page budget without reaching the first call, then the request fails as unchecked (never as nothing created)', async () => {
    const { h, req } = await givenUp();
    advance(LIST_LAG_MS);
    for (let i = 0; i < 11; i++) {
      h.persona.lists.push(
        page([txn(`txn_${i}`, { tags: ['x'], createdAt: T0 + 1000 })], `txn_${i}`),
      );
    }

    expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });

    expect((await h.get(req.id)).error).toEqual({
      code: 'persona_unavailable',
      message: `${UNAVAILABLE}, and we could not check what it created`,
    });
    expect(h.persona.listCalls).toHaveLength(10);
    expect(h.persona.listCalls[9]!.page).toEqual({ after: 'txn_8', size: 100 });
  });

  it('When the search itself answers 5xx, then the request fails as unchecked', async () => {
    const { h, req } = await givenUp();
    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'server_error', status: 500, errors: [] });

    expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });
    expect((await h.get(req.id)).error?.message).toBe(
      `${UNAVAILABLE}, and we could not check what it created`,
    );
  });

  it('When the search is rate limited, then the job waits and the request stays queued and given up', async () => {
    const { h, req } = await givenUp();
    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'rate_limited', retryInMs: 4000 });

    expect(await h.run(req.id, true)).toEqual({
      kind: 'wait',
      retryInMs: 4000,
      reason: 'search_rate_limited',
    });
    expect(await h.get(req.id)).toMatchObject({
      status: 'queued',
      givenUp: 'persona_unavailable',
      error: null,
    });
  });

  it('When a request was given up for the quota and a later run gets a 5xx search, then it still fails with quota_exceeded (the first give-up code)', async () => {
    const h = harness();
    const req = await h.accept();
    await h.attempted(req.id);
    await h.store.markGivenUp(req.id, 'quota_exceeded');
    advance(LIST_LAG_MS);
    h.persona.lists.push({ kind: 'network', code: 'ECONNRESET' });

    expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });
    expect((await h.get(req.id)).error?.code).toBe('quota_exceeded');
    expect(h.persona.createCalls).toEqual([]);
  });

  describe('a request first tried untagged (by an earlier version)', () => {
    it.each([
      ['caller tags', CALLER_TAGS, CALLER_TAGS],
      ['no caller tags', undefined, undefined],
    ] as const)(
      'When it is retried (with %s), then its body keeps the tags it had and no request tag is added',
      async (_name, tags, sent) => {
        const h = harness();
        const req = await h.accept({ tags: tags ? [...tags] : undefined });
        await h.attempted(req.id, { tagged: false });
        h.persona.creates.push({ kind: 'network', code: 'ECONNRESET' });

        expect(await h.run(req.id)).toEqual({ kind: 'retry', reason: 'persona ECONNRESET' });

        expect(h.persona.createCalls[0]!.input.tags).toEqual(sent);
        expect((await h.get(req.id)).tagged).toBe(false);
      },
    );

    it('When its final attempt fails, then the search refuses (no list call, no lag wait) and the request fails as unchecked', async () => {
      const h = harness();
      const req = await h.accept();
      await h.attempted(req.id, { tagged: false });
      h.persona.creates.push({ kind: 'network', code: 'ETIMEDOUT' });

      expect(await h.run(req.id, true)).toEqual({ kind: 'done', result: 'failed' });

      expect(await h.get(req.id)).toMatchObject({
        status: 'failed',
        givenUp: 'persona_unavailable',
        error: {
          code: 'persona_unavailable',
          message: `${UNAVAILABLE}, and we could not check what it created`,
        },
      });
      expect(h.persona.listCalls).toEqual([]);
    });
  });
});
