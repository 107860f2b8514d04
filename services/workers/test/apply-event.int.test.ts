import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createActionInsert,
  createEventStores,
  createLogger,
  RequestStore,
  RoutingRules,
  type ActionPayload,
  type EventStores,
  type EventSummary,
} from '@pp/shared';
import { deletePrefix, LogCapture, REDIS_URL, uniquePrefix } from '@pp/testing';
import { applyEvent, type ApplyEventDeps } from '../src/domain/apply-event.ts';
import { eventSummary } from './event-summary.ts';

/** Event processing against real Redis and real BullMQ queues, with faults put into the fan-out. */

let redis: Redis;
let prefix: string;
let store: RequestStore;
let events: EventStores;
const queues = new Map<string, Queue>();
const logs = new LogCapture();
const log = createLogger({ service: 'workers', level: 'debug', destination: logs });

const queue = (name: string) => {
  let q = queues.get(name);
  if (!q) {
    q = new Queue(name, { connection: redis, prefix });
    queues.set(name, q);
  }
  return q;
};
const jobCount = async (name: string) =>
  Object.values(await queue(name).getJobCounts()).reduce((a, b) => a + b, 0);

let failNext: string | null = null;
const woken: string[] = [];
const deps = (): ApplyEventDeps => ({
  store,
  events,
  rules: RoutingRules.parse([
    { status: 'approved', queues: ['actions-approve', 'audit-trail'] },
    { status: 'declined', queues: ['actions-decline'] },
  ]),
  decisionStatuses: new Set(['approved', 'declined']),
  linkTimeoutMs: 60_000,
  onLinked: () => Promise.resolve(),
  release: async (ids: string[]) => {
    woken.push(...(await events.links.takePending(...ids)));
  },
  businessJob: (name: string, payload: ActionPayload) => {
    const owed = createActionInsert(queue)(name, payload);
    if (failNext !== name) return owed;
    failNext = null;
    // Arguments BullMQ's script cannot unpack: it fails there, before writing this job.
    return {
      ...owed,
      job: { ...owed.job, args: [Buffer.from([0xc1]), ...owed.job.args.slice(1)] },
    };
  },
});

let seq = 0;
const event = (status: string, createdAt: string, over: Partial<EventSummary> = {}): EventSummary =>
  eventSummary({
    eventId: `evt_apply${seq++}x${Date.now()}`,
    createdAt,
    object: { type: 'transaction', id: 'txn_applyTest' },
    status,
    updatedAt: createdAt,
    transactionId: 'txn_applyTest',
    referenceId: 'user-9',
    ...over,
  });

let requestId: string;
beforeEach(async () => {
  redis = new Redis(REDIS_URL);
  prefix = uniquePrefix('apply');
  store = new RequestStore(redis, { prefix });
  events = createEventStores(redis, { prefix });
  const accepted = await store.accept(
    { transactionTypeId: 'txntp_x', fields: { a: 1 }, referenceId: 'user-9' },
    { correlationId: 'corr-apply' },
  );
  if (accepted.kind !== 'created') throw new Error('accept failed');
  requestId = accepted.request.id;
  await store.markSubmitted(requestId, { transactionId: 'txn_applyTest', status: 'created' });
});
afterEach(async () => {
  await Promise.all([...queues.values()].map((q) => q.close()));
  queues.clear();
  redis.disconnect();
  await deletePrefix(REDIS_URL, prefix);
});

describe('applying events', () => {
  it('When the fan-out fails between two queues, then the retry adds the missing job and never repeats the first', async () => {
    const approved = event('approved', '2026-01-01T00:00:10.000Z');
    // The finishing script fails at the second queue's job, after the first queue's (Redis
    // does not roll a script back).
    failNext = 'audit-trail';
    await expect(applyEvent(deps(), approved, { waitedMs: 0, log })).rejects.toThrow();
    expect(await redis.exists(`${prefix}:evt:${approved.eventId}:done`)).toBe(0);
    expect(await jobCount('actions-approve')).toBe(1);
    expect(await jobCount('audit-trail')).toBe(0);

    // The first queue's consumer finishes and removes its job before the retry comes.
    await (await queue('actions-approve').getJob(approved.eventId))!.remove();

    const retry = await applyEvent(deps(), approved, { waitedMs: 0, log });
    expect(retry).toEqual({ kind: 'done', result: 'stale', fannedOut: ['audit-trail'] });
    expect(await jobCount('actions-approve')).toBe(0);
    expect(await jobCount('audit-trail')).toBe(1);

    const again = await applyEvent(deps(), approved, { waitedMs: 0, log });
    expect(again).toEqual({ kind: 'done', result: 'duplicate', fannedOut: [] });
    expect(await jobCount('audit-trail')).toBe(1);
  });

  it('When the request was linked with a decided status (adopted after a 5xx), then the first event with that status still fans out', async () => {
    const other = await store.accept(
      { transactionTypeId: 'txntp_x', fields: { b: 2 } },
      { correlationId: 'corr-adopted' },
    );
    if (other.kind !== 'created') throw new Error('accept failed');
    await store.markSubmitted(other.request.id, {
      transactionId: 'txn_adopted',
      status: 'approved',
    });
    const approved = event('approved', '2026-01-01T00:00:10.000Z', {
      transactionId: 'txn_adopted',
      object: { type: 'transaction', id: 'txn_adopted' },
    });
    expect(await applyEvent(deps(), approved, { waitedMs: 0, log })).toMatchObject({
      result: 'applied',
      fannedOut: ['actions-approve', 'audit-trail'],
    });
  });

  it('When several events repeat one status, then it fans out once; a later change fans out again', async () => {
    const a = await applyEvent(deps(), event('approved', '2026-01-01T00:00:10.000Z'), {
      waitedMs: 0,
      log,
    });
    const b = await applyEvent(
      deps(),
      event('approved', '2026-01-01T00:00:11.000Z', { name: 'transaction.labeled' }),
      { waitedMs: 0, log },
    );
    const c = await applyEvent(deps(), event('declined', '2026-01-01T00:00:12.000Z'), {
      waitedMs: 0,
      log,
    });
    expect([a, b, c].map((o) => (o.kind === 'done' ? o.fannedOut : []))).toEqual([
      ['actions-approve', 'audit-trail'],
      [],
      ['actions-decline'],
    ]);
    expect((await store.get(requestId))!.personaStatus).toBe('declined');
  });

  it('When two events share a created-at, then updated-at decides', async () => {
    await applyEvent(
      deps(),
      event('declined', '2026-01-01T00:00:10.000Z', { updatedAt: '2026-01-01T00:00:10.500Z' }),
      { waitedMs: 0, log },
    );
    const older = await applyEvent(
      deps(),
      event('approved', '2026-01-01T00:00:10.000Z', { updatedAt: '2026-01-01T00:00:10.100Z' }),
      { waitedMs: 0, log },
    );
    expect(older).toMatchObject({ result: 'stale', fannedOut: [] });
    expect((await store.get(requestId))!.personaStatus).toBe('declined');
  });

  it('When a verification event comes, then its latest status is kept per verification and the transaction status is untouched', async () => {
    const ver = {
      object: { type: 'verification/database', id: 'ver_apply1' },
      transactionId: 'txn_applyTest',
      referenceId: null,
    };
    await applyEvent(
      deps(),
      event('passed', '2026-01-01T00:00:12.000Z', { ...ver, name: 'verification.passed' }),
      { waitedMs: 0, log },
    );
    await applyEvent(
      deps(),
      event('submitted', '2026-01-01T00:00:11.000Z', { ...ver, name: 'verification.submitted' }),
      { waitedMs: 0, log },
    );
    expect(await events.state.objects(requestId)).toEqual([
      expect.objectContaining({ id: 'ver_apply1', status: 'passed' }),
    ]);
    expect((await store.get(requestId))!.personaStatus).toBe('created');
    expect((await events.state.history(requestId)).map((h) => [h.name, h.applied])).toEqual([
      ['verification.submitted', false],
      ['verification.passed', true],
    ]);
  });

  it('When a report names no transaction but the transaction listed it, then it is linked through related-objects', async () => {
    await applyEvent(
      deps(),
      event('created', '2026-01-01T00:00:01.000Z', {
        related: [{ type: 'report/watchlist', id: 'rep_apply1' }],
      }),
      { waitedMs: 0, log },
    );
    const report = await applyEvent(
      deps(),
      event('ready', '2026-01-01T00:00:05.000Z', {
        name: 'report/watchlist.ready',
        object: { type: 'report/watchlist', id: 'rep_apply1' },
        transactionId: null,
        referenceId: null,
      }),
      { waitedMs: 0, log },
    );
    expect(report).toMatchObject({ result: 'applied' });
    expect(await events.state.objects(requestId)).toEqual([
      expect.objectContaining({ id: 'rep_apply1', status: 'ready' }),
    ]);
  });

  it('When an event is for a transaction not linked yet, then it waits; past the link timeout it is kept, and replayed if a link still comes', async () => {
    const foreign = event('approved', '2026-01-01T00:00:10.000Z', {
      transactionId: 'txn_someoneElse',
      object: { type: 'transaction', id: 'txn_someoneElse' },
    });
    expect(await applyEvent(deps(), foreign, { waitedMs: 1000, log })).toEqual({
      kind: 'wait_for_link',
      waitingFor: 'txn_someoneElse',
    });
    expect(await events.links.takePending('txn_someoneElse')).toEqual([foreign.eventId]);
    expect(await applyEvent(deps(), foreign, { waitedMs: 61_000, log })).toMatchObject({
      result: 'unmatched',
    });
    expect(await jobCount('actions-approve')).toBe(0);
    expect(await events.processed.isProcessed(foreign.eventId)).toBe(false);
    expect((await events.links.takeLate('txn_someoneElse')).map((e) => e.eventId)).toEqual([
      foreign.eventId,
    ]);
  });

  it('When a verification comes before the transaction event that lists it, then it waits and is woken by that listing', async () => {
    woken.length = 0;
    const ver = event('passed', '2026-01-01T00:00:05.000Z', {
      name: 'verification.passed',
      object: { type: 'verification/database', id: 'ver_early1' },
      transactionId: null,
      referenceId: null,
    });
    expect(await applyEvent(deps(), ver, { waitedMs: 0, log })).toEqual({
      kind: 'wait_for_link',
      waitingFor: 'ver_early1',
    });
    await applyEvent(
      deps(),
      event('created', '2026-01-01T00:00:06.000Z', {
        related: [{ type: 'verification/database', id: 'ver_early1' }],
      }),
      { waitedMs: 0, log },
    );
    expect(woken).toEqual([ver.eventId]);
    expect(await applyEvent(deps(), ver, { waitedMs: 10, log })).toMatchObject({
      result: 'applied',
    });
    expect(await events.state.objects(requestId)).toEqual([
      expect.objectContaining({ id: 'ver_early1', status: 'passed' }),
    ]);
  });

  it('When an event name is unknown, then it is recorded in the history but neither applied nor routed', async () => {
    const odd = event('approved', '2026-01-01T00:00:10.000Z', {
      name: 'transaction.something-new-but-weird!',
    });
    expect(await applyEvent(deps(), odd, { waitedMs: 0, log })).toMatchObject({
      result: 'recorded',
      fannedOut: [],
    });
    expect((await store.get(requestId))!.personaStatus).toBe('created');
    expect((await events.state.history(requestId)).map((h) => h.event_id)).toEqual([odd.eventId]);
  });
});
