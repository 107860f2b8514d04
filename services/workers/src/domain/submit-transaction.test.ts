import { describe, expect, it } from 'vitest';
import {
  CALLER_TAGS,
  T0,
  advance,
  created,
  harness,
  tagOf,
  useFakeClock,
} from './submit-transaction.testkit.ts';

/** What the create call carries, the 2xx path, and the runs that must not call Persona. */
describe('submitTransaction', () => {
  useFakeClock();

  describe('what is sent', () => {
    it("When a request is submitted, then its type, fields and reference go out with the caller's tags first and the request tag last, under the request's Idempotency-Key", async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.creates.push(created('txn_1'));

      await h.run(req.id);

      expect(h.persona.createCalls).toEqual([
        {
          input: {
            transactionTypeId: 'ttyp_unit',
            fields: { 'name-first': { type: 'string', value: 'Ada' } },
            referenceId: 'ref-1',
            tags: ['caller-a', 'caller-b', `persona-pipeline:${req.id}`],
          },
          options: { idempotencyKey: req.personaKey },
        },
      ]);
      expect(req.personaKey).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('When the caller sent no tags and no reference id, then only the request tag is sent and no reference id', async () => {
      const h = harness();
      const req = await h.accept({ tags: undefined, referenceId: undefined });
      h.persona.creates.push(created('txn_1'));

      await h.run(req.id);

      const { input } = h.persona.createCalls[0]!;
      expect(input.tags).toEqual([tagOf(req.id)]);
      expect(input.referenceId).toBeUndefined();
    });

    it('When a call is retried, then it reuses the same Idempotency-Key and body, and the first and latest call times are both kept', async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.creates.push({ kind: 'network', code: 'ETIMEDOUT' }, created('txn_1'));

      expect(await h.run(req.id)).toEqual({ kind: 'retry', reason: 'persona ETIMEDOUT' });
      expect(await h.get(req.id)).toMatchObject({
        firstAttemptAt: T0,
        lastAttemptAt: T0,
        tagged: true,
      });
      advance(5000);
      await h.run(req.id);

      const [first, second] = h.persona.createCalls;
      expect(second).toEqual(first);
      expect(second!.options.idempotencyKey).toBe(req.personaKey);
      expect(second!.input.tags).toEqual([...CALLER_TAGS, tagOf(req.id)]);
      // Submitted now, but the call times of the key are what they were.
      expect(await h.get(req.id)).toMatchObject({
        firstAttemptAt: T0,
        lastAttemptAt: T0 + 5000,
      });
    });

    it('When the job has an abort signal, then the create call gets it', async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.creates.push(created('txn_1'));
      const signal = new AbortController().signal;

      await h.run(req.id, false, signal);

      expect(h.persona.createCalls[0]!.options).toEqual({
        idempotencyKey: req.personaKey,
        signal,
      });
    });
  });

  describe('Persona creates the transaction', () => {
    it.each([false, true])(
      'When Persona answers 2xx (finalAttempt %s), then the request is submitted, linked both ways, its fields are dropped and onLinked runs once',
      async (finalAttempt) => {
        const h = harness();
        const req = await h.accept();
        h.persona.creates.push(created('txn_new', 'pending'));

        expect(await h.run(req.id, finalAttempt)).toEqual({ kind: 'done', result: 'submitted' });

        expect(await h.get(req.id)).toMatchObject({
          status: 'submitted',
          personaTransactionId: 'txn_new',
          personaStatus: 'pending',
          error: null,
          givenUp: null,
        });
        expect(await h.store.fields(req.id)).toBeNull();
        expect(await h.store.requestIdFor('txn_new')).toBe(req.id);
        expect(h.linked).toEqual(['txn_new']);
        expect(h.persona.listCalls).toEqual([]);
      },
    );

    it("When Persona's 2xx carries no status, then the request is submitted with a null Persona status", async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.creates.push(created('txn_new', null));

      expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'submitted' });
      expect(await h.get(req.id)).toMatchObject({
        status: 'submitted',
        personaTransactionId: 'txn_new',
        personaStatus: null,
      });
    });

    it("When a webhook linked the request by its tag while the create call was in flight, then the 2xx is still submitted, and onLinked runs again (the webhook's run may have died before its own)", async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.whileCreating = () =>
        h.store.markSubmitted(req.id, { transactionId: 'txn_new', status: 'created' });
      h.persona.creates.push(created('txn_new', 'pending'));

      expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'submitted' });

      expect(await h.get(req.id)).toMatchObject({
        status: 'submitted',
        personaTransactionId: 'txn_new',
        error: null,
      });
      expect(h.linked).toEqual(['txn_new']);
    });

    it('When the transaction Persona created is already linked to another request, then this request fails with persona_link_conflict and the other keeps its link', async () => {
      const h = harness();
      const other = await h.accept({ referenceId: 'ref-other' });
      expect(
        await h.store.markSubmitted(other.id, { transactionId: 'txn_shared', status: null }),
      ).toBe('settled');
      const req = await h.accept();
      h.persona.creates.push(created('txn_shared'));

      expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'failed' });

      const after = await h.get(req.id);
      expect(after).toMatchObject({ status: 'failed', personaTransactionId: null });
      expect(after.error).toEqual({
        code: 'persona_link_conflict',
        message: 'Persona created txn_shared for this request, but another request had claimed it',
      });
      expect(await h.get(other.id)).toMatchObject({
        status: 'submitted',
        personaTransactionId: 'txn_shared',
      });
      expect(await h.store.requestIdFor('txn_shared')).toBe(other.id);
      expect(h.linked).toEqual([]);
    });
  });

  describe('a run racing another', () => {
    it('When another run failed the request while this call was in flight, then the 2xx is not reported as submitted', async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.creates.push(created('txn_late'));
      h.persona.whileCreating = () =>
        h.store.markFailed(req.id, { code: 'persona_unavailable', message: 'the other run' });

      expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'skipped' });
      expect(await h.get(req.id)).toMatchObject({ status: 'failed', personaTransactionId: null });
      expect(h.linked).toEqual([]);
    });
  });

  describe('runs that do not call Persona', () => {
    it.each([
      [
        'submitted',
        (h: ReturnType<typeof harness>, id: string) =>
          h.store.markSubmitted(id, { transactionId: 'txn_done', status: 'created' }),
      ],
      [
        'failed',
        (h: ReturnType<typeof harness>, id: string) =>
          h.store.markFailed(id, { code: 'persona_rejected', message: 'no' }),
      ],
    ] as const)(
      'When the request is already %s, then it is skipped and left exactly as it was; what waits on its link is woken again',
      async (status, settle) => {
        const h = harness();
        const req = await h.accept();
        await settle(h, req.id);
        const before = await h.get(req.id);

        for (const finalAttempt of [false, true]) {
          expect(await h.run(req.id, finalAttempt)).toEqual({ kind: 'done', result: 'skipped' });
        }

        expect(await h.get(req.id)).toEqual(before);
        expect(h.persona.createCalls).toEqual([]);
        expect(h.persona.listCalls).toEqual([]);
        // In case the run that settled it died between its settle and its onLinked.
        expect(h.linked).toEqual(status === 'submitted' ? ['txn_done', 'txn_done'] : []);
      },
    );

    it('When the request record is missing, then the job is skipped without calling Persona', async () => {
      const h = harness();

      expect(await h.run('req_0123456789abcdef0123456789abcdef', true)).toEqual({
        kind: 'done',
        result: 'skipped',
      });
      expect(h.persona.createCalls).toEqual([]);
    });

    it("When the request's fields have expired, then it fails with request_data_missing without calling Persona", async () => {
      const h = harness();
      const req = await h.accept();
      await h.dropFields(req.id);

      expect(await h.run(req.id)).toEqual({ kind: 'done', result: 'failed' });

      expect(await h.get(req.id)).toMatchObject({
        status: 'failed',
        error: {
          code: 'request_data_missing',
          message: 'the request data expired before it reached Persona',
        },
        firstAttemptAt: null,
      });
      expect(h.persona.createCalls).toEqual([]);
    });
  });
});
