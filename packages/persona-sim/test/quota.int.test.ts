import { describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import { callJson, createBody, useSimulator, type Doc } from './sim-harness.ts';

const h = useSimulator();

interface Errors {
  errors: { title: string; details?: string }[];
}

const quotaHeaders = (headers: Headers, prefix: 'quota' | 'quotalimit') => ({
  limit: headers.get(`${prefix}-limit`),
  remaining: headers.get(`${prefix}-remaining`),
  reset: Number(headers.get(`${prefix}-reset`)),
});

describe('transaction-creation quota', () => {
  it('When the quota is spent, then creates get 429 "Quota exceeded" with Quota-* headers, reads are untouched, and the key is not stored', async () => {
    // A 1 s rate window: a "second" of the reset headers is 1000/60 ms.
    const sim = await h.start({
      rateLimit: { limit: 100, windowMs: 1000 },
      quota: { limit: 2, windowMs: 1000 },
    });
    const first = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('q1') });
    expect(first.status).toBe(201);
    const q1 = quotaHeaders(first.headers, 'quota');
    expect(q1).toMatchObject({ limit: '2', remaining: '1' });
    expect(q1.reset).toBeGreaterThan(50);
    expect(q1.reset).toBeLessThanOrEqual(60);
    const second = await callJson(sim, 'POST', '/transactions', { body: createBody('q2') });
    expect(quotaHeaders(second.headers, 'quota').remaining).toBe('0');

    const refused = await callJson<Errors>(sim, 'POST', '/transactions', {
      body: createBody('q3'),
      key: 'quota-key',
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errors: [
        {
          title: 'Quota exceeded',
          details: expect.stringContaining(
            'You have hit your create_transaction quota limit of 2 requests.',
          ),
        },
      ],
    });
    expect(quotaHeaders(refused.headers, 'quota')).toMatchObject({ limit: '2', remaining: '0' });
    expect(refused.headers.get('ratelimit-remaining')).toBe('97');

    const read = await callJson(sim, 'GET', '/transactions');
    expect(read.status).toBe(200);
    expect(read.headers.get('quota-limit')).toBeNull();

    // Retrying with the same key once the quota resets creates: the 429 was never stored.
    const retried = await eventually(
      async () => {
        const r = await callJson<Doc>(sim, 'POST', '/transactions', {
          body: createBody('q3'),
          key: 'quota-key',
        });
        return r.status === 201 && r;
      },
      { what: 'the quota to reset' },
    );
    expect(sim.transactionsFor('q3').map((t) => t.id)).toEqual([retried.body.data.id]);
  });

  it('When the quota answers 403 with QuotaLimit-* headers, then that is what creates see', async () => {
    const sim = await h.start({
      quota: { limit: 1, windowMs: 60_000, status: 403, headers: 'quotalimit' },
    });
    const ok = await callJson(sim, 'POST', '/transactions', { body: createBody('a') });
    expect(quotaHeaders(ok.headers, 'quotalimit')).toMatchObject({ limit: '1', remaining: '0' });
    expect(ok.headers.get('quota-limit')).toBeNull();
    const refused = await callJson<Errors>(sim, 'POST', '/transactions', { body: createBody('b') });
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]!.title).toBe('Quota exceeded');
    expect(quotaHeaders(refused.headers, 'quotalimit').reset).toBeLessThanOrEqual(60);
  });

  it('When a test starts a days-long breach at run time and lifts it, then creates are refused with a reset of days, even replays meet it (it comes before idempotency), and creation resumes', async () => {
    const sim = await h.start();
    const before = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('before'),
      key: 'stored',
    });
    expect(before.status).toBe(201);
    expect(before.headers.get('quota-limit')).toBeNull();

    const days = 3 * 86_400_000;
    sim.setQuota({ limit: 0, windowMs: days });
    const refused = await callJson(sim, 'POST', '/transactions', { body: createBody('during') });
    expect(refused.status).toBe(429);
    const { reset } = quotaHeaders(refused.headers, 'quota');
    expect(reset).toBeGreaterThan(3 * 86_400 - 5);
    expect(reset).toBeLessThanOrEqual(3 * 86_400);
    expect(sim.quotaEndsAt).toBeGreaterThan(Date.now() + days - 5000);
    // Like a 429, the quota answers before the idempotency layer: a stored key meets it too.
    const during = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('before'),
      key: 'stored',
    });
    expect(during.status).toBe(429);
    expect(sim.transactionsFor('during')).toEqual([]);

    sim.setQuota(null);
    const replay = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('before'),
      key: 'stored',
    });
    expect(replay.status).toBe(201);
    expect(replay.body.data.id).toBe(before.body.data.id);
    const after = await callJson(sim, 'POST', '/transactions', { body: createBody('after') });
    expect(after.status).toBe(201);
    expect(after.headers.get('quota-limit')).toBeNull();
  });
});
