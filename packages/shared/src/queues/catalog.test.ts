import { describe, expect, it } from 'vitest';
import { actionJob, catalog } from './catalog.ts';
import { createEnqueue, type JobQueue } from './enqueue.ts';

const REQ = 'req_0123456789abcdef0123456789abcdef';

/** A queue that records what is added to it. */
function recorder() {
  const added: { queue: string; name: string; data: unknown; jobId: unknown }[] = [];
  const queueFor = (queue: string): JobQueue => ({
    add: (name, data, opts) => {
      added.push({ queue, name, data, jobId: opts?.jobId });
      return Promise.resolve(undefined as never);
    },
  });
  return { added, queueFor };
}

describe('the queue catalog', () => {
  it('When jobs are enqueued, then the catalog names the queue and the job and derives the id', async () => {
    const { added, queueFor } = recorder();
    const enqueue = createEnqueue(queueFor);
    await enqueue('transactionCreate', { requestId: REQ, correlationId: 'c-1' });
    await enqueue('personaLookup', { requestId: REQ, transactionId: 'txn_1' }, '1700');
    expect(added.map(({ queue, name, jobId }) => [queue, name, jobId])).toEqual([
      ['persona-transaction-create', 'create', REQ],
      ['persona-lookup', 'lookup', `lookup-${REQ}-1700`],
    ]);
    const action = actionJob.payload.parse({
      id: REQ,
      persona_transaction_id: 'txn_1',
      persona_status: 'approved',
      reference_id: null,
      event_id: 'evt_9',
      event_name: 'transaction.status-updated',
      occurred_at: '2026-01-01T00:00:00.000Z',
      object_type: 'transaction',
      object_id: 'txn_1',
      correlation_id: 'c-1',
    });
    expect(actionJob.jobId(action)).toBe('evt_9');
  });

  it('When an event is fed again on purpose, then its job id says why, so its first job cannot block it', () => {
    expect(catalog.personaEvents.jobId({ eventId: 'evt_1' })).toBe('evt_1');
    expect(catalog.personaEvents.jobId({ eventId: 'evt_1' }, 'late')).toBe('evt_1-late');
  });

  it('When a payload is invalid, then nothing is added', async () => {
    const { added, queueFor } = recorder();
    await expect(
      createEnqueue(queueFor)('transactionCreate', { requestId: 'nope', correlationId: 'c' }),
    ).rejects.toThrow();
    expect(added).toEqual([]);
  });

  it('When a creation job written before the rename ({id}) is read, then its request id is that id', () => {
    expect(catalog.transactionCreate.payload.parse({ id: REQ, correlationId: 'c' })).toEqual({
      requestId: REQ,
      correlationId: 'c',
    });
  });
});
