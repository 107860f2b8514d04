import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog, createEnqueue, redisKeys, RequestStore } from '@pp/shared';
import { eventually, REDIS_URL } from '@pp/testing';
import { PERSONA_KEY, startPipeline, type Pipeline } from './harness.ts';

/**
 * Which request an event belongs to, when Persona does what it documents: reviewers decide
 * later, webhooks come before the create response, other programs share the environment,
 * lists lag and fields come back normalised.
 */

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function create(ref: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await p!.post({
    transaction_type_id: 'txntp_KYC123',
    fields: { name_first: 'Mary', name_last: 'Jackson' },
    reference_id: ref,
    ...extra,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const drained = async (q: string) => {
  const c = await p!.queue(q).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(c).every((n) => n === 0);
};

describe('linking events to requests', () => {
  it('When a reviewer approves a transaction in review and that webhook is lost, then reconciliation still brings the approval: actions-review once, actions-approve once, GET approved', async () => {
    p = await startPipeline({
      sim: {
        decisionDelayMs: 100,
        reviewer: { delayMs: 300, decision: 'approved', loseWebhook: true },
      },
      workers: { RECONCILE_INTERVAL_MS: '200', RECONCILE_AFTER_MS: '400' },
    });
    const id = await create('reviewed', { tags: ['sim-decision:needs_review'] });
    await p.until(id, (x) => x.persona_status === 'needs_review', 'in review');
    const v = await p.until(id, (x) => x.persona_status === 'approved', 'approved by the reviewer');

    expect(v.events.map((e) => e.status)).toEqual(
      expect.arrayContaining(['needs_review', 'approved']),
    );
    await eventually(async () => (await p!.jobsIn('actions-approve')).length === 1, {
      what: 'the approve job',
    });
    expect(await p.jobsIn('actions-review')).toHaveLength(1);
    expect(await p.jobsIn('actions-approve')).toHaveLength(1);
    // The approval never came by webhook: reconciliation found it.
    const approval = p.sim.events.find(
      (e) => e.name === 'transaction.status-updated' && e.object.attributes.status === 'approved',
    )!;
    expect(p.sim.webhooks.deliveries.some((d) => d.eventId === approval.id)).toBe(false);
  });

  it('When webhooks come before the create response, then our tag links them at once: nothing waits', async () => {
    p = await startPipeline({
      sim: { decisionDelayMs: 50, faults: { dropRate: 1 } },
      // The worker's retry comes well after the webhooks.
      workers: { PERSONA_RETRY_BASE_MS: '3000', PERSONA_RETRY_CAP_MS: '3000' },
    });
    const id = await create('tag-links');
    const v = await p.until(
      id,
      (x) => x.persona_status === 'approved',
      'approved before the retry',
    );
    const txn = p.sim.transactionsFor('tag-links')[0]!;
    // Our request travels with its transaction, in a tag after the caller's own.
    expect(txn.tags).toEqual([`persona-pipeline:${id}`]);
    expect(v).toMatchObject({ status: 'submitted', persona_transaction_id: txn.id });
    expect(p.logs.lines.some((l) => l.includes('linked to its request by our tag'))).toBe(true);
    expect(p.logs.lines.some((l) => l.includes('event waits for its transaction'))).toBe(false);
    await eventually(async () => (await p!.jobsIn('actions-approve')).length === 1, {
      what: 'the approve job',
    });
    // The dropped create response was never needed: one transaction, whatever the retry does.
    p.sim.faults = { ...p.sim.faults, dropRate: 0 };
    await p.waitForJobs([id]);
    expect(p.sim.transactionsFor('tag-links')).toHaveLength(1);
  });

  it('When another program creates 100 transactions on our environment, then their webhooks are taken once, park nothing and cost no retries', async () => {
    p = await startPipeline({
      sim: { decisionDelayMs: 100, rateLimit: { limit: 1000, windowMs: 60_000 } },
    });
    const ours = await create('ours-among-foreign');
    p.sim.createForeign(100, { tags: ['other-program'] });
    await p.until(ours, (x) => x.persona_status === 'approved', 'ours approved');
    const foreignEvents = p.sim.events.filter((e) => {
      const txnId =
        e.object.type === 'transaction'
          ? e.object.id
          : (e.object.relationships?.transaction as { data?: { id?: string } } | undefined)?.data
              ?.id;
      return txnId !== undefined && p!.sim.transactions.get(txnId)?.foreign === true;
    });
    expect(foreignEvents.length).toBeGreaterThanOrEqual(400);
    await eventually(
      () => p!.sim.webhooks.deliveries.filter((d) => d.delivered).length >= p!.sim.events.length,
      { timeoutMs: 30_000, what: 'every webhook delivered' },
    );
    await eventually(() => drained('persona-events'), {
      timeoutMs: 30_000,
      what: 'the events queue drained',
    });

    // Every delivery answered 200 at its first attempt; no event job waited or failed.
    expect(p.sim.webhooks.deliveries.every((d) => d.delivered && d.attempt === 1)).toBe(true);
    const counts = await p.queue('persona-events').getJobCounts('delayed', 'failed', 'completed');
    expect(counts).toMatchObject({ delayed: 0, failed: 0 });
    expect(counts.completed).toBe(p.sim.events.length);
    const completed = await p.queue('persona-events').getJobs(['completed'], 0, -1);
    const retried = completed.filter((j) => j.attemptsMade > 1 || (j.stacktrace ?? []).length > 0);
    expect(retried.map((j) => j.id)).toEqual([]);
    const parked = completed.filter((j) => j.attemptsStarted > 1).length;
    console.log(`foreign traffic: ${completed.length} event jobs, ${parked} parked a moment`);
    // Only our decision reached a business queue.
    expect(await p.jobsIn('actions-approve')).toHaveLength(1);
  });

  it('When stored 5xx hide a created transaction, lists lag and fields come back normalised, then the search finds it by our tag: one transaction', async () => {
    p = await startPipeline({
      sim: {
        decisionDelayMs: 60_000,
        listLagMs: 800,
        normaliseFields: true,
        faults: { serverErrorRate: 1, serverErrorAfterCreateShare: 1 },
      },
      // No webhooks: with them our tag would link the transaction before any search.
      webhooks: false,
      workers: { PERSONA_RECONCILE_AFTER_5XX: '2', PERSONA_LIST_LAG_MS: '1200' },
    });
    const id = await create('normalised', {
      fields: {
        name_first: '  Mary ',
        phone_number: '+1 (555) 010-0000',
        email: 'M.J@Example.COM',
      },
    });
    // The first call created the transaction and answered 500; Persona replays the 500.
    await eventually(() => p!.sim.requests.filter((r) => r.replay).length >= 1, {
      what: 'a replayed 500',
    });
    p.sim.faults = { ...p.sim.faults, serverErrorRate: 0 };
    await p.waitForJobs([id]);

    const created = p.sim.transactionsFor('normalised');
    expect(created).toHaveLength(1);
    expect(created[0]!.fields.phone_number!.value).toBe('+15550100000');
    expect(await p.view(id)).toMatchObject({
      status: 'submitted',
      persona_transaction_id: created[0]!.id,
    });
    expect(p.logs.lines.some((l) => l.includes('found the transaction a 5xx had hidden'))).toBe(
      true,
    );
  });

  it('When a verification event names no transaction and waits past the link timeout, then it is kept and applied once its transaction lists it', async () => {
    p = await startPipeline({
      sim: { decisionDelayMs: 100 },
      webhooks: false,
      workers: { EVENT_LINK_TIMEOUT_MS: '300' },
    });
    const id = await create('late-verification');
    await p.until(id, (x) => x.status === 'submitted', 'submitted');
    await eventually(() => p!.sim.events.some((e) => e.name === 'transaction.status-updated'), {
      what: 'the workflow done',
    });
    const passed = p.sim.events.find((e) => e.name === 'verification.passed')!;
    const decision = p.sim.events.find((e) => e.name === 'transaction.status-updated')!;
    // A verification payload need not name its transaction: only the transaction's listing links it.
    const { relationships: _dropped, ...bare } = passed.object;
    expect(await p.deliver({ ...passed, object: bare })).toBe(200);
    await eventually(() => p!.logs.lines.some((l) => l.includes('event not linked in time')), {
      what: 'the verification kept late',
    });
    expect((await p.view(id)).verifications).toEqual([]);

    expect(await p.deliver(decision)).toBe(200);
    const v = await p.until(
      id,
      (x) => x.verifications.some((o) => o.id === passed.object.id && o.status === 'passed'),
      'the late verification applied',
    );
    expect(v.persona_status).toBe('approved');
  });

  it('When a request was first tried by a version that did not tag, then its key keeps its untagged body: no Idempotency error', async () => {
    p = await startPipeline({ sim: { decisionDelayMs: 60_000 }, webhooks: false });
    const redis = new Redis(REDIS_URL);
    const queue = new Queue(catalog.transactionCreate.name, {
      connection: redis,
      prefix: p.prefix,
    });
    try {
      const store = new RequestStore(redis, { prefix: p.prefix });
      const input = {
        transactionTypeId: 'txntp_KYC123',
        fields: { name_first: 'Mary' },
        referenceId: 'legacy',
      };
      const accepted = await store.accept(input, { correlationId: 'corr-legacy' });
      if (accepted.kind !== 'created') throw new Error('accept failed');
      const { id, personaKey } = accepted.request;
      // The earlier version's call: the same key, no tag.
      const first = await fetch(`${p.sim.url}/transactions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${PERSONA_KEY}`,
          'content-type': 'application/json',
          'idempotency-key': personaKey,
        },
        body: JSON.stringify({
          data: {
            attributes: {
              'transaction-type-id': input.transactionTypeId,
              fields: input.fields,
              'reference-id': input.referenceId,
            },
          },
        }),
      });
      expect(first.status).toBe(201);
      await redis.hset(redisKeys(p.prefix).request(id), 'first_attempt_at', String(Date.now()));

      await createEnqueue(() => queue)('transactionCreate', {
        requestId: id,
        correlationId: 'corr-legacy',
      });
      await p.waitForJobs([id]);
      const created = p.sim.transactionsFor('legacy');
      expect(created).toHaveLength(1);
      expect(created[0]!.tags).toEqual([]);
      expect(await p.view(id)).toMatchObject({
        status: 'submitted',
        persona_transaction_id: created[0]!.id,
      });
      expect(p.sim.requests.filter((r) => r.method === 'POST').at(-1)!.replay).toBe(true);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
