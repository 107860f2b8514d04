import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

/**
 * Persona's transaction-creation quota: it may last days, longer than Persona keeps an
 * Idempotency-Key, and its headers come under two spellings. The window is scaled down (a
 * Persona second is 100 ms here) on the simulator and the limiter alike.
 */

const WINDOW_MS = '6000';
const THREE_DAYS = 3 * 24 * 3600 * 1000;

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const scaled = (workers: Record<string, string> = {}) => ({
  PERSONA_RATE_LIMIT_WINDOW_MS: WINDOW_MS,
  PERSONA_RATE_LIMIT_MARGIN_MS: '50',
  ...workers,
});

async function create(ref: string): Promise<string> {
  const res = await p!.post({
    transaction_type_id: 'txntp_KYC123',
    fields: { name_first: 'Annie', name_last: 'Easley' },
    reference_id: ref,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const quotaAnswers = () =>
  p!.sim.requests.filter((r) => r.method === 'POST' && (r.status === 429 || r.status === 403));

describe("Persona's creation quota", () => {
  it('When the quota stays exhausted past PERSONA_QUOTA_MAX_WAIT_MS, then the request fails quota_exceeded and nothing was created', async () => {
    p = await startPipeline({
      sim: {
        rateLimit: { limit: 300, windowMs: Number(WINDOW_MS) },
        quota: { limit: 0, windowMs: THREE_DAYS, status: 429 },
      },
      workers: scaled({ PERSONA_QUOTA_MAX_WAIT_MS: '1500' }),
    });
    const id = await create('quota-days');
    const v = await p.until(id, (x) => x.status === 'failed', 'failed', 30_000);
    expect(v.error).toMatchObject({ code: 'quota_exceeded' });
    expect(p.sim.transactions.size).toBe(0);
    expect(quotaAnswers().length).toBeGreaterThanOrEqual(1);
  });

  it('When a 403 quota outlasts the wait but an earlier call had created the transaction, then the search by tag finds it', async () => {
    p = await startPipeline({
      sim: {
        rateLimit: { limit: 300, windowMs: Number(WINDOW_MS) },
        decisionDelayMs: 60_000,
        // The first call spends the only creation the quota allows; its answer is lost.
        faults: { dropRate: 1 },
        quota: { limit: 1, windowMs: THREE_DAYS, status: 403, headers: 'quota' },
      },
      // No webhooks: with them our tag would link the transaction before any search.
      webhooks: false,
      workers: scaled({
        PERSONA_QUOTA_MAX_WAIT_MS: '1500',
      }),
    });
    const id = await create('quota-after-create');
    await eventually(() => p!.sim.requests.some((r) => r.status === 'dropped'), {
      what: 'a dropped answer',
    });
    p.sim.faults = { ...p.sim.faults, dropRate: 0 };

    const v = await p.until(id, (x) => x.status !== 'queued', 'settled', 30_000);
    const created = p.sim.transactionsFor('quota-after-create');
    expect(created).toHaveLength(1);
    expect(v).toMatchObject({ status: 'submitted', persona_transaction_id: created[0]!.id });
    expect(quotaAnswers().some((r) => r.status === 403)).toBe(true);
    expect(p.logs.lines.some((l) => l.includes('the creation quota outlasted'))).toBe(true);
    // Logged just after the link that GET showed.
    await eventually(
      () => p!.logs.lines.some((l) => l.includes('gave up calling, but Persona had created')),
      { what: 'the search that found it' },
    );
  });

  it.each([['quota'], ['quotalimit']] as const)(
    'When a create answer says (as %s-* headers) that no quota is left, then creation stops before a breach',
    async (headers) => {
      p = await startPipeline({
        sim: {
          rateLimit: { limit: 300, windowMs: Number(WINDOW_MS) },
          decisionDelayMs: 60_000,
          quota: { limit: 1, windowMs: THREE_DAYS, headers },
        },
        workers: scaled(),
      });
      const first = await create(`spent-${headers}-1`);
      await p.waitForJobs([first]);
      const stats = await p.workers!.limiter.stats();
      expect(stats.quotaBlockedUntil.transaction).toBeGreaterThan(Date.now());
      const second = await create(`spent-${headers}-2`);
      // The second waits on the quota without asking Persona.
      await eventually(async () => (await p!.workers!.limiter.stats()).denied.quota > 0, {
        what: 'a quota denial by the limiter',
      });
      expect(quotaAnswers()).toEqual([]);
      expect((await p.view(second)).status).toBe('queued');
    },
  );
});
