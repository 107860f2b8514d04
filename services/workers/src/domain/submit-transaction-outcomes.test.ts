import { describe, expect, it } from 'vitest';
import type { CallResult, PersonaError, TransactionResource } from '@pp/shared';
import { LIST_LAG_MS, T0, harness, useFakeClock } from './submit-transaction.testkit.ts';

/** Every non-2xx answer of the create call, on an ordinary and on the final attempt. */
describe('submitTransaction: the create call does not succeed', () => {
  useFakeClock();

  const FINAL = [false, true] as const;

  describe('the budget says wait', () => {
    const cases: [
      string,
      CallResult<TransactionResource>,
      { retryInMs: number; reason: string },
    ][] = [
      [
        'the limiter throttles (window)',
        { kind: 'throttled', retryInMs: 1200, reason: 'window' },
        { retryInMs: 1200, reason: 'window' },
      ],
      [
        'the limiter throttles (pacing)',
        { kind: 'throttled', retryInMs: 250, reason: 'pacing' },
        { retryInMs: 250, reason: 'pacing' },
      ],
      [
        'Persona answers 429',
        { kind: 'rate_limited', retryInMs: 7000 },
        { retryInMs: 7000, reason: 'rate_limited' },
      ],
    ];

    for (const finalAttempt of FINAL) {
      it.each(cases)(
        `When %s (finalAttempt ${finalAttempt}), then the job waits that long and the request is left queued, not given up, its 5xx count untouched`,
        async (_name, result, wait) => {
          const h = harness();
          const req = await h.accept();
          await h.attempted(req.id, { serverErrors: 1 });
          h.persona.creates.push(result);

          expect(await h.run(req.id, finalAttempt)).toEqual({ kind: 'wait', ...wait });

          expect(await h.get(req.id)).toMatchObject({
            status: 'queued',
            serverErrors: 1,
            givenUp: null,
            error: null,
            personaKey: req.personaKey,
          });
          expect(await h.store.fields(req.id)).not.toBeNull();
          expect(h.persona.listCalls).toEqual([]);
        },
      );
    }
  });

  describe('Persona refuses the request', () => {
    const idempotencyError: PersonaError = { title: 'Idempotency error' };
    const cases: [
      string,
      Extract<CallResult<TransactionResource>, { kind: 'rejected' }>,
      string,
    ][] = [
      [
        'a configuration problem (401)',
        {
          kind: 'rejected',
          status: 401,
          errors: [{ title: 'Token is invalid' }],
          config: true,
          idempotencyMismatch: false,
        },
        'Persona answered 401: Token is invalid',
      ],
      [
        'a configuration problem (403)',
        {
          kind: 'rejected',
          status: 403,
          errors: [{ title: 'Forbidden' }],
          config: true,
          idempotencyMismatch: false,
        },
        'Persona answered 403: Forbidden',
      ],
      [
        'an Idempotency-Key used with another body (400)',
        {
          kind: 'rejected',
          status: 400,
          errors: [idempotencyError],
          config: false,
          idempotencyMismatch: true,
        },
        'Persona answered 400: Idempotency error',
      ],
      [
        'an invalid body (422, two errors)',
        {
          kind: 'rejected',
          status: 422,
          errors: [
            { title: 'Record invalid', pointer: '/data/attributes/fields/name-first' },
            { title: 'Unprocessable entity' },
          ],
          config: false,
          idempotencyMismatch: false,
        },
        'Persona answered 422: Record invalid; Unprocessable entity',
      ],
      [
        'a 404 without titles',
        {
          kind: 'rejected',
          status: 404,
          errors: [{ title: '' }],
          config: false,
          idempotencyMismatch: false,
        },
        'Persona answered 404',
      ],
    ];

    for (const finalAttempt of FINAL) {
      it.each(cases)(
        `When Persona refuses with %s (finalAttempt ${finalAttempt}), then the request fails with persona_rejected, Persona's status and errors, and its fields are dropped`,
        async (_name, result, message) => {
          const h = harness();
          const req = await h.accept();
          h.persona.creates.push(result);

          expect(await h.run(req.id, finalAttempt)).toEqual({ kind: 'done', result: 'failed' });

          const after = await h.get(req.id);
          expect(after).toMatchObject({
            status: 'failed',
            givenUp: null,
            personaTransactionId: null,
          });
          expect(after.error).toEqual({
            code: 'persona_rejected',
            message,
            details: { status: result.status, errors: result.errors },
          });
          expect(await h.store.fields(req.id)).toBeNull();
          expect(h.persona.listCalls).toEqual([]);
          expect(h.linked).toEqual([]);
        },
      );
    }
  });

  describe('no trustworthy answer', () => {
    const cases: [string, CallResult<TransactionResource>, string, number][] = [
      // name, result, retry reason, 5xx count after (it was 1 before)
      [
        'Persona answers 503',
        { kind: 'server_error', status: 503, errors: [{ title: 'Service Unavailable' }] },
        'persona 503',
        2,
      ],
      ['Persona answers 500', { kind: 'server_error', status: 500, errors: [] }, 'persona 500', 2],
      [
        'Persona answers 409 (our earlier call still in flight)',
        { kind: 'conflict', status: 409, errors: [{ title: 'Conflict' }] },
        'persona 409',
        0,
      ],
      ['the call times out', { kind: 'network', code: 'ETIMEDOUT' }, 'persona ETIMEDOUT', 0],
      ['the body cannot be read', { kind: 'network', code: 'EBADBODY' }, 'persona EBADBODY', 0],
    ];

    it.each(cases)(
      'When %s on an ordinary attempt, then the job retries with the same key, and only a 5xx counts toward the search',
      async (_name, result, reason, serverErrors) => {
        const h = harness();
        const req = await h.accept();
        await h.attempted(req.id, { serverErrors: 1 });
        h.persona.creates.push(result);

        expect(await h.run(req.id, false)).toEqual({ kind: 'retry', reason });

        expect(await h.get(req.id)).toMatchObject({
          status: 'queued',
          serverErrors,
          givenUp: null,
          error: null,
          personaKey: req.personaKey,
          keyGeneration: 0,
        });
        expect(h.persona.createCalls[0]!.options.idempotencyKey).toBe(req.personaKey);
        expect(h.persona.listCalls).toEqual([]);
      },
    );

    it.each(cases)(
      'When %s on the final attempt, then the request is marked given up (persona_unavailable) and the job defers its search by the list lag',
      async (_name, result, _reason, serverErrors) => {
        const h = harness();
        const req = await h.accept();
        await h.attempted(req.id, { serverErrors: 1 });
        h.persona.creates.push(result);

        expect(await h.run(req.id, true)).toEqual({
          kind: 'defer',
          retryInMs: LIST_LAG_MS,
          reason: 'list_lag',
        });

        expect(await h.get(req.id)).toMatchObject({
          status: 'queued',
          givenUp: 'persona_unavailable',
          serverErrors,
          error: null,
          lastAttemptAt: T0,
        });
        // The search must wait for the list to show this very call.
        expect(h.persona.listCalls).toEqual([]);
      },
    );

    it('When a 5xx comes on a request with no 5xx before, then the count starts at 1', async () => {
      const h = harness();
      const req = await h.accept();
      h.persona.creates.push({ kind: 'server_error', status: 502, errors: [] });

      expect(await h.run(req.id)).toEqual({ kind: 'retry', reason: 'persona 502' });
      expect((await h.get(req.id)).serverErrors).toBe(1);
    });
  });
});
