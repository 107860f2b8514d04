import { afterEach, describe, expect, it } from 'vitest';
import type { SimEvent } from '@pp/persona-sim';
import { eventually, freePort } from '@pp/testing';
import { startPipeline, WEBHOOK_SECRET, type Pipeline, type View } from './harness.ts';

/**
 * The loop closed: Persona's webhooks through the receiver into state and business-action
 * queues, against the simulator over real sockets.
 */

const body = (ref: string, tags?: string[]) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: { name_first: 'Katherine', name_last: 'Johnson', birthdate: '1918-08-26' },
  reference_id: ref,
  ...(tags ? { tags } : {}),
});

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const jobsIn = (name: string) => p!.jobsIn(name);
const view = (id: string) => p!.view(id);
const until = (id: string, check: (v: View) => boolean, what: string) => p!.until(id, check, what);
const deliver = (event: SimEvent) => p!.deliver(event);

async function create(ref: string, tags?: string[]): Promise<string> {
  const res = await p!.post(body(ref, tags), { 'x-request-id': `corr-${ref}` });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

describe('verified webhooks into state and business-action queues', () => {
  it.each([
    [[], 'approved', 'actions-approve', 'passed'],
    [['sim-decision:declined'], 'declined', 'actions-decline', 'failed'],
    [['sim-decision:needs_review'], 'needs_review', 'actions-review', 'passed'],
  ] as const)(
    'When the workflow decides (tags %j), then GET shows %s with its verification and report, and %s gets exactly one job',
    async (tags, decision, queue, verification) => {
      p = await startPipeline({ sim: { decisionDelayMs: 100 } });
      const id = await create(`decide-${decision}`, [...tags]);
      const v = await until(
        id,
        (x) => x.persona_status === decision && x.reports.length > 0,
        `${decision} with its report`,
      );

      expect(v.status).toBe('submitted');
      expect(v.verifications).toEqual([
        {
          id: expect.stringMatching(/^ver_/),
          type: 'verification/database',
          status: verification,
          updated_at: expect.any(String),
        },
      ]);
      expect(v.reports).toEqual([
        {
          id: expect.stringMatching(/^rep_/),
          type: 'report/watchlist',
          status: 'ready',
          updated_at: expect.any(String),
        },
      ]);
      expect(v.events.map((e) => e.name)).toEqual(
        expect.arrayContaining([
          'transaction.created',
          'verification.created',
          'report/watchlist.ready',
          'transaction.status-updated',
        ]),
      );

      const jobs = await eventually(
        async () => {
          const j = await jobsIn(queue);
          return j.length > 0 ? j : undefined;
        },
        { what: `a job in ${queue}` },
      );
      const decisionEvent = p.sim.events.find((e) => e.name === 'transaction.status-updated')!;
      expect(jobs).toEqual([
        {
          id,
          persona_transaction_id: v.persona_transaction_id,
          persona_status: decision,
          reference_id: `decide-${decision}`,
          event_id: decisionEvent.id,
          event_name: 'transaction.status-updated',
          occurred_at: decisionEvent.createdAt,
          object_type: 'transaction',
          object_id: v.persona_transaction_id,
          correlation_id: `corr-decide-${decision}`,
        },
      ]);
      const others = ['actions-approve', 'actions-decline', 'actions-review'].filter(
        (q) => q !== queue,
      );
      for (const other of others) expect(await jobsIn(other)).toEqual([]);
      // The correlation id runs from the gateway request to the fan-out.
      expect(
        p.logs
          .json()
          .filter((l) => l.correlationId === `corr-decide-${decision}` && l.msg === 'event applied')
          .length,
      ).toBeGreaterThan(0);
    },
  );

  it('When Persona delivers every event twice and out of order, then the decision wins and one business job exists', async () => {
    p = await startPipeline({ sim: { decisionDelayMs: 100 } });
    p.sim.webhooks.configure({
      ...p.sim.webhooks.options!,
      duplicateRate: 1,
      reorderJitterMs: 300,
    });
    const id = await create('dup-reorder');
    await until(
      id,
      (x) => x.persona_status === 'approved' && x.events.length >= 5,
      'approved after duplicates',
    );
    await eventually(() => p!.sim.webhooks.deliveries.length >= 10, {
      what: 'every duplicate delivered',
    });
    await eventually(async () => (await jobsIn('actions-approve')).length === 1, {
      what: 'one approve job',
    });
    expect(await jobsIn('actions-approve')).toHaveLength(1);
    const v = await view(id);
    expect(v.events).toHaveLength(5);
  });

  it('When 50 copies of the decision event arrive at once, then it is processed once and one business job exists', async () => {
    p = await startPipeline({ sim: { decisionDelayMs: 100 }, webhooks: false });
    const id = await create('fifty');
    const txn = (await until(id, (x) => x.status === 'submitted', 'submitted'))
      .persona_transaction_id!;
    await eventually(() => p!.sim.transactions.get(txn)?.status === 'approved', {
      what: 'the decision at Persona',
    });
    const decision = p.sim.events.find((e) => e.name === 'transaction.status-updated')!;

    const statuses = await Promise.all(Array.from({ length: 50 }, () => deliver(decision)));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    await until(id, (x) => x.persona_status === 'approved', 'approved');
    // Persona retries what was not answered 200: all end as duplicates.
    for (const s of statuses.filter((x) => x !== 200)) expect(s).toBe(503);
    expect(
      await Promise.all(statuses.filter((x) => x !== 200).map(() => deliver(decision))),
    ).toSatisfy((r: number[]) => r.every((s) => s === 200));

    await eventually(async () => (await jobsIn('actions-approve')).length === 1, {
      what: 'the approve job',
    });
    const applied = p.logs
      .json()
      .filter((l) => l.msg === 'event applied' && l.eventId === decision.id);
    expect(applied).toHaveLength(1);
    expect(await jobsIn('actions-approve')).toHaveLength(1);
  });

  it('When an older status arrives after a newer one, then the newest state stays and the stale status fans out nothing', async () => {
    p = await startPipeline({ webhooks: false });
    const id = await create('reorder');
    const txn = (await until(id, (x) => x.status === 'submitted', 'submitted'))
      .persona_transaction_id!;
    p.sim.setStatus(txn, 'needs_review');
    p.sim.setStatus(txn, 'approved');
    const [older, newer] = p.sim.events.filter((e) => e.name === 'transaction.status-updated');
    expect(await deliver(newer!)).toBe(200);
    await until(id, (x) => x.persona_status === 'approved', 'approved');
    expect(await deliver(older!)).toBe(200);
    const v = await until(
      id,
      (x) => x.events.some((e) => e.event_id === older!.id),
      'the older event recorded',
    );

    expect(v.persona_status).toBe('approved');
    expect(v.events.find((e) => e.event_id === older!.id)).toMatchObject({
      status: 'needs_review',
      applied: false,
    });
    expect(await jobsIn('actions-approve')).toHaveLength(1);
    expect(await jobsIn('actions-review')).toEqual([]);
  });

  it('When events without tags (a webhook may leave them out) arrive before the create response, then they wait, are linked, and apply', async () => {
    p = await startPipeline({
      sim: { decisionDelayMs: 50, faults: { dropRate: 1 } },
      webhooks: false,
      // The worker's retry comes after the webhooks.
      workers: { PERSONA_RETRY_BASE_MS: '1500', PERSONA_RETRY_CAP_MS: '1500' },
    });
    const id = await create('early-events');
    await eventually(() => p!.sim.events.some((e) => e.name === 'transaction.status-updated'), {
      what: 'the decision at Persona',
    });
    // As a webhook whose attribute blocklist holds `tags` sends them: nothing names our request.
    for (const event of p.sim.events) {
      const { tags: _tags, ...attributes } = event.object.attributes;
      expect(await deliver({ ...event, object: { ...event.object, attributes } })).toBe(200);
    }
    await eventually(
      () => p!.logs.lines.some((l) => l.includes('event waits for its transaction to be linked')),
      { what: 'a parked event' },
    );
    p.sim.faults = { ...p.sim.faults, dropRate: 0 };

    const v = await until(id, (x) => x.persona_status === 'approved', 'approved once linked');
    expect(v.persona_transaction_id).toBe(p.sim.transactionsFor('early-events')[0]!.id);
    await eventually(async () => (await jobsIn('actions-approve')).length === 1, {
      what: 'the approve job',
    });
  });

  it('When a webhook is lost for good, then reconciliation asks Persona and delivers the decision', async () => {
    const deadPort = await freePort();
    p = await startPipeline({
      sim: {
        decisionDelayMs: 100,
        // Nothing listens here: every delivery fails, and Persona gives up after two retries.
        webhook: {
          url: `http://127.0.0.1:${deadPort}/webhooks/persona`,
          secrets: [WEBHOOK_SECRET],
          retryDelaysMs: [20, 20],
        },
      },
      workers: { RECONCILE_INTERVAL_MS: '300', RECONCILE_AFTER_MS: '500' },
    });
    const id = await create('lost-webhook');
    await eventually(() => p!.sim.webhooks.deliveries.filter((d) => d.attempt === 3).length >= 5, {
      what: 'Persona to give up',
    });

    const v = await until(
      id,
      (x) => x.persona_status === 'approved',
      'approved through reconciliation',
    );
    expect(v.events.length).toBeGreaterThanOrEqual(5);
    await eventually(async () => (await jobsIn('actions-approve')).length === 1, {
      what: 'the approve job',
    });
    const paths = p.sim.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(paths).toContain(`GET /api/v1/transactions/${v.persona_transaction_id}`);
    expect(paths).toContain('GET /api/v1/events');
    expect(p.sim.webhooks.deliveries.every((d) => !d.delivered)).toBe(true);
  });
});
