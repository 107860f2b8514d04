import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

/**
 * Everything a Persona webhook may be configured to send, end to end: the receiver, the
 * workers and the gateway against the simulator over real sockets. Each dialect ends with
 * the decision in GET and exactly one business job.
 */

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function create(
  ref: string,
  extra: { tags?: string[]; transaction_type_id?: string } = {},
): Promise<string> {
  const res = await p!.post({
    transaction_type_id: 'txntp_KYC123',
    fields: { name_first: 'Dorothy', name_last: 'Vaughan' },
    reference_id: ref,
    ...extra,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Runs one request to its decision and checks what GET and the business queue show. */
async function decides(id: string, transactionTypeId = 'txntp_KYC123') {
  const v = await p!.until(
    id,
    (x) => x.persona_status === 'approved' && x.verifications.length > 0 && x.reports.length > 0,
    'approved with its verification and report',
  );
  expect(v.status).toBe('submitted');
  expect(v.verifications[0]!.status).toBe('passed');
  expect(v.reports[0]!.status).toBe('ready');
  const jobs = await eventually(
    async () => {
      const j = await p!.jobsIn('actions-approve');
      return j.length > 0 ? j : undefined;
    },
    { what: 'the approve job' },
  );
  expect(jobs).toHaveLength(1);
  expect(jobs[0]).toMatchObject({ id, persona_transaction_id: v.persona_transaction_id });
  // Every delivery was taken at once: nothing refused, nothing retried.
  expect(p!.sim.webhooks.deliveries.every((d) => d.delivered && d.attempt === 1)).toBe(true);
  expect(p!.sim.transactions.get(v.persona_transaction_id!)?.transactionTypeId).toBe(
    transactionTypeId,
  );
  return v;
}

describe('every webhook dialect Persona documents, through the whole pipeline', () => {
  it.each([['snake'], ['camel']] as const)(
    'When the webhook sends %s-case keys, then the decision, verification and report all arrive',
    async (inflection) => {
      p = await startPipeline({ sim: { decisionDelayMs: 100 } });
      p.sim.webhooks.configure({ ...p.sim.webhooks.options!, inflection });
      await decides(await create(`casing-${inflection}`));
      expect(p.sim.webhooks.deliveries.length).toBeGreaterThanOrEqual(4);
    },
  );

  it('When every signature is an hour old and retries keep their first timestamp, then nothing is refused', async () => {
    p = await startPipeline({ sim: { decisionDelayMs: 100 } });
    p.sim.webhooks.configure({
      ...p.sim.webhooks.options!,
      signatureAgeSeconds: 3600,
      timestamps: 'first-attempt',
    });
    await decides(await create('hour-old'));
  });

  it('When Persona uses other id prefixes, then ids are taken as they come', async () => {
    p = await startPipeline({
      sim: {
        decisionDelayMs: 100,
        idPrefixes: {
          transaction: 'trx-',
          event: 'event.',
          verification: 'vrf-',
          report: 'rpt-',
          account: 'acct-',
          request: 'rq-',
        },
      },
    });
    const v = await decides(
      await create('prefixes', { transaction_type_id: 'ttype-Kyc.2' }),
      'ttype-Kyc.2',
    );
    expect(v.persona_transaction_id).toMatch(/^trx-/);
    expect(v.verifications[0]!.id).toMatch(/^vrf-/);
    expect(v.reports[0]!.id).toMatch(/^rpt-/);
    expect(v.events.every((e) => e.event_id.startsWith('event.'))).toBe(true);
  });

  it("When an account is related to several transactions, then its events land on no request's history", async () => {
    p = await startPipeline({
      sim: { decisionDelayMs: 100, accounts: true },
      workers: { RECONCILE_INTERVAL_MS: '200', RECONCILE_AFTER_MS: '100' },
    });
    const first = await create('shared-user');
    await decides(first);
    // The second decision's webhook is lost: reconciliation fetches its events.
    p.sim.loseWebhooks = (e) => e.name === 'transaction.status-updated';
    const second = await create('shared-user');
    await p.until(second, (x) => x.persona_status === 'approved', 'the second approved');
    const accountEvents = p.sim.events.filter((e) => e.name.startsWith('account.'));
    expect(accountEvents.length).toBeGreaterThanOrEqual(2);
    await eventually(
      () =>
        accountEvents.every((e) =>
          p!.sim.webhooks.deliveries.some((d) => d.eventId === e.id && d.delivered),
        ),
      { what: 'the account events delivered' },
    );
    await eventually(
      async () =>
        (await p!.queue('persona-events').getJobCounts('waiting', 'active')).waiting === 0,
      { what: 'the events queue drained' },
    );
    for (const id of [first, second]) {
      const v = await p.view(id);
      expect(v.events.map((e) => e.name).filter((n) => n.startsWith('account.'))).toEqual([]);
    }
    // Reconciliation's event lookups ask for a transaction and what it owns, never the account.
    const accountId = p.sim.accountFor('shared-user')!.id;
    const eventLookups = p.sim.requests.filter((r) => r.path.startsWith('/api/v1/events?'));
    expect(eventLookups.length).toBeGreaterThan(0);
    for (const r of eventLookups) expect(decodeURIComponent(r.path)).not.toContain(accountId);
  });
});
