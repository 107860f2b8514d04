import { describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import type { WebhookOptions } from '../src/index.ts';
import { call, createBody, SECRET, signedAt, useSimulator } from './sim-harness.ts';

const h = useSimulator();

/** One event (`transaction.created`) whose first attempt fails and whose retry, 1.1 s later, succeeds. */
async function retriedOnce(webhook: Partial<WebhookOptions>) {
  const collector = await h.collector();
  collector.respond = (n) => (n === 1 ? 503 : 200);
  const sim = await h.start({
    webhook: { url: collector.url, secrets: [SECRET], retryDelaysMs: [1100], ...webhook },
  });
  await call(sim, 'POST', '/transactions', { body: createBody('signed') });
  await eventually(() => collector.received.length >= 2, { what: 'the retry' });
  const [first, second] = collector.received;
  expect(second!.headers['persona-webhook-attempts-made']).toBe('2');
  expect(second!.body).toBe(first!.body);
  return {
    t1: signedAt(first!.headers, first!.body),
    t2: signedAt(second!.headers, second!.body),
    firstAttemptedAt: Number(second!.headers['persona-webhook-first-attempted-at']),
  };
}

describe('webhook signature timestamps', () => {
  it('When timestamps are per-attempt (the default), then each retry is signed with its own send time', async () => {
    const { t1, t2 } = await retriedOnce({});
    expect(t2).toBeGreaterThan(t1);
  });

  it('When timestamps are first-attempt, then the retry re-sends the t of its first attempt, still validly signed', async () => {
    const { t1, t2, firstAttemptedAt } = await retriedOnce({ timestamps: 'first-attempt' });
    expect(t2).toBe(t1);
    expect(Math.abs(t1 - firstAttemptedAt)).toBeLessThanOrEqual(1);
  });

  it('When signatureAgeSeconds is 3600, then t is an hour before the send time on every attempt', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { t1, t2, firstAttemptedAt } = await retriedOnce({ signatureAgeSeconds: 3600 });
    const after = Math.floor(Date.now() / 1000);
    for (const t of [t1, t2]) {
      expect(t).toBeGreaterThanOrEqual(before - 3600);
      expect(t).toBeLessThanOrEqual(after - 3600);
    }
    expect(t2).toBeGreaterThan(t1);
    // Only the signature is aged; the attempt headers keep the real time.
    expect(firstAttemptedAt).toBeGreaterThanOrEqual(before);
  });
});
