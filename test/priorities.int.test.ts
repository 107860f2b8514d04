import { Queue, QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '@pp/shared';
import { maxInAnyWindow, REDIS_URL } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

const body = (ref: string) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: { name_first: 'Mary' },
  reference_id: ref,
});

describe('priorities inside one budget', () => {
  let p: Pipeline | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await p?.close();
    p = undefined;
  });

  it('When creations and background lookups both wait, then lookups get only their reserved slot per window while creation waits, and the rest once creation is idle', async () => {
    const limit = 20;
    const windowMs = 2000;
    p = await startPipeline({
      webhooks: false,
      sim: { rateLimit: { limit, windowMs } },
      workers: {
        PERSONA_RATE_LIMIT_PER_MINUTE: String(limit),
        PERSONA_RATE_LIMIT_WINDOW_MS: String(windowMs),
        PERSONA_RATE_LIMIT_MARGIN_MS: '20',
        // 5 % of 20: one slot per window is background's even under a creation backlog.
        EVENT_SWEEP_BUDGET_SHARE: '0.05',
      },
    });
    // Five submitted requests to look up later.
    const early = await Promise.all(
      [0, 1, 2, 3, 4].map(
        async (i) => ((await (await p!.post(body(`early-${i}`))).json()) as { id: string }).id,
      ),
    );
    await p.waitForJobs(early);
    const lookedUp = await Promise.all(
      early.map(async (id) => ({ id, txn: (await p!.get(id)).persona_transaction_id as string })),
    );

    // A creation backlog and five lookups, queued at the same moment.
    const lookups = new Queue(catalog.personaLookup.name, {
      connection: { url: REDIS_URL },
      prefix: p.prefix,
    });
    const lookupEvents = new QueueEvents(catalog.personaLookup.name, {
      connection: { url: REDIS_URL },
      prefix: p.prefix,
    });
    closers.push(
      () => lookups.close(),
      () => lookupEvents.close(),
    );
    await lookupEvents.waitUntilReady();
    const lookupsDone = new Promise<void>((resolve) => {
      let n = 0;
      lookupEvents.on('completed', () => {
        if (++n === lookedUp.length) resolve();
      });
    });
    const backlog = await Promise.all(
      Array.from(
        { length: 40 },
        async (_, i) => ((await (await p!.post(body(`backlog-${i}`))).json()) as { id: string }).id,
      ),
    );
    await lookups.addBulk(
      lookedUp.map(({ id, txn }) => ({
        name: 'lookup',
        data: { requestId: id, transactionId: txn },
        opts: { ...catalog.personaLookup.jobOptions, jobId: `prio-${id}` },
      })),
    );

    await p.waitForJobs(backlog, 30_000);
    await lookupsDone;

    const calls = p.sim.requests.filter(
      (r) => r.method === 'POST' || r.path.startsWith('/api/v1/transactions/txn_'),
    );
    const posts = calls.filter((r) => r.method === 'POST').map((r) => r.at);
    const gets = calls.filter((r) => r.method === 'GET').map((r) => r.at);
    expect(gets).toHaveLength(5);
    // While the backlog lasted, lookups had their reserved slot per window and no more;
    // the others came once creation was idle.
    const lastPost = Math.max(...posts);
    const during = gets.filter((t) => t < lastPost);
    expect(maxInAnyWindow(during, windowMs + 20)).toBeLessThanOrEqual(1);
    expect(during.length).toBeLessThan(gets.length);
    expect(posts.length).toBe(backlog.length + early.length);
  });
});
