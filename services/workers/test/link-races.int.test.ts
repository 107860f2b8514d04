import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  catalog,
  createEventStores,
  createLogger,
  createRegistry,
  EventGate,
  eventMetrics,
  RequestStore,
  RoutingRules,
  type EventStores,
  type EventSummary,
} from '@pp/shared';
import { deletePrefix, LogCapture, REDIS_URL, uniquePrefix } from '@pp/testing';
import { applyEvent, type ApplyEventDeps } from '../src/domain/apply-event.ts';
import { personaEventProcessor } from '../src/processors/persona-event.processor.ts';
import { createProducers, type Producers } from '../src/producers.ts';
import { eventSummary } from './event-summary.ts';

/**
 * An event and the link of its transaction, interleaved at the worst moment: the create
 * job's settle and its `onLinked` land between two of the event's round trips. The
 * workers' real producers, real Redis.
 */

const TXN = 'txn_race1';
const LINK_TIMEOUT_MS = 60_000;

let redis: Redis;
let prefix: string;
let store: RequestStore;
let events: EventStores;
let producers: Producers;
let worker: Worker | undefined;
const logs = new LogCapture();
const logger = createLogger({ service: 'workers', level: 'debug', destination: logs });

beforeEach(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  prefix = uniquePrefix('race');
  store = new RequestStore(redis, { prefix });
  events = createEventStores(redis, { prefix });
  const gate = new EventGate(redis, { prefix, dedupeTtlSeconds: 3600 });
  producers = createProducers({ connection: redis, prefix, gate, store, events, logger });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await producers.close();
  redis.disconnect();
  await deletePrefix(REDIS_URL, prefix);
});

const deps = (): ApplyEventDeps => ({
  store,
  events,
  rules: RoutingRules.parse([{ status: 'approved', queues: ['actions-approve'] }]),
  decisionStatuses: new Set(['approved']),
  linkTimeoutMs: LINK_TIMEOUT_MS,
  onLinked: producers.onLinked,
  release: producers.release,
  businessJob: producers.businessJob,
});

async function queuedRequest(): Promise<string> {
  const accepted = await store.accept(
    { transactionTypeId: 'txntp_x', fields: { a: 1 } },
    { correlationId: 'corr-race' },
  );
  if (accepted.kind !== 'created') throw new Error(accepted.kind);
  return accepted.request.id;
}

/** What the create job does once Persona answers: settle the request, then `onLinked`. */
const createResponse = (requestId: string) => async () => {
  await store.markSubmitted(requestId, { transactionId: TXN, status: 'created' });
  await producers.onLinked(TXN);
};

/** Runs `step` once, right after the `nth` call of `method` has read its answer. */
function landsAfter<T extends object>(
  target: T,
  method: keyof T & string,
  step: () => Promise<void>,
  nth = 1,
): { ran: () => boolean } {
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  let calls = 0;
  Object.assign(target, {
    [method]: async (...args: unknown[]) => {
      const answer = await original(...args);
      if (++calls === nth) await step();
      return answer;
    },
  });
  return { ran: () => calls >= nth };
}

const transactionEvent = (over: Partial<EventSummary> = {}): EventSummary =>
  eventSummary({
    eventId: `evt_race${Math.random().toString(36).slice(2, 10)}`,
    createdAt: new Date().toISOString(),
    object: { type: 'transaction', id: TXN },
    transactionId: TXN,
    ...over,
  });

const log = logger.child({});

describe('an event and the link of its transaction, interleaved', () => {
  it('When the create response links the transaction between the event reading its link and linking by our tag, then the event is applied, not dropped as foreign', async () => {
    const id = await queuedRequest();
    const race = landsAfter(store, 'requestIdFor', createResponse(id));
    const tagged = transactionEvent({ taggedRequestId: id, tagsSeen: true });
    expect(await applyEvent(deps(), tagged, { waitedMs: 0, log })).toEqual({
      kind: 'done',
      result: 'applied',
      fannedOut: ['actions-approve'],
    });
    expect(race.ran()).toBe(true);
    expect(logs.text).not.toContain('linked otherwise');
  });

  it('When the create response links the transaction just before an untagged event marks it foreign, then the event is applied and no foreign mark is left', async () => {
    const id = await queuedRequest();
    // A transaction whose tags are listed without ours (a request of an earlier version).
    const race = landsAfter(store, 'requestIdFor', createResponse(id));
    const untagged = transactionEvent({
      tagsSeen: true,
      related: [{ type: 'verification/database', id: 'ver_race1' }],
    });
    expect(await applyEvent(deps(), untagged, { waitedMs: 0, log })).toMatchObject({
      result: 'applied',
    });
    expect(race.ran()).toBe(true);
    expect(await events.links.isForeign(TXN)).toBe(false);
    expect(await events.links.isForeign('ver_race1')).toBe(false);
  });

  it('When a transaction taken for foreign is linked after all, then the marks of its verifications and reports go with its own', async () => {
    const id = await queuedRequest();
    await events.links.markForeign(TXN, ['ver_race2', 'rep_race2']);
    await createResponse(id)();
    expect(await events.links.isForeign(TXN)).toBe(false);
    expect(await events.links.isForeign('ver_race2')).toBe(false);
    expect(await events.links.isForeign('rep_race2')).toBe(false);
    // A verification event naming no transaction now waits for its listing, not dropped.
    const ver = transactionEvent({
      name: 'verification.passed',
      object: { type: 'verification/database', id: 'ver_race2' },
      status: 'passed',
      transactionId: null,
    });
    expect(await applyEvent(deps(), ver, { waitedMs: 0, log })).toEqual({
      kind: 'wait_for_link',
      waitingFor: 'ver_race2',
    });
  });

  it('When the create response links the transaction just before a late event is kept, then the kept event is fed again at once', async () => {
    const id = await queuedRequest();
    // The event has waited past the link timeout; the link lands after its last look.
    const race = landsAfter(events.links, 'isForeign', createResponse(id));
    const late = transactionEvent();
    expect(await applyEvent(deps(), late, { waitedMs: LINK_TIMEOUT_MS + 1, log })).toMatchObject({
      result: 'unmatched',
    });
    expect(race.ran()).toBe(true);
    const eventQueue = producers.queue(catalog.personaEvents.name);
    expect(await eventQueue.getJob(catalog.personaEvents.jobId(late, 'late'))).toBeDefined();
    expect(await events.links.takeLate(TXN)).toEqual([]);
  });

  it('When a link releases an event whose parked job is its late copy, then that copy is promoted', async () => {
    const parked = transactionEvent();
    const eventQueue = producers.queue(catalog.personaEvents.name);
    await eventQueue.add('event', parked, {
      jobId: catalog.personaEvents.jobId(parked, 'late'),
      delay: 60_000,
    });
    await events.links.addPending(TXN, parked.eventId);
    await producers.release([TXN]);
    const job = await eventQueue.getJob(catalog.personaEvents.jobId(parked, 'late'));
    expect(await job!.getState()).toBe('waiting');
  });

  it('When its transaction is linked after it parked but before its job was delayed, then it wakes at once instead of sleeping out its delay', async () => {
    const id = await queuedRequest();
    // The link lands between the event's last look for it and its move to delayed: the
    // release finds the job still active, so it has nothing to promote.
    const race = landsAfter(store, 'requestIdFor', createResponse(id), 2);
    const summary = transactionEvent();
    await producers.enqueue('personaEvents', summary);
    const started = Date.now();
    const processor = personaEventProcessor({
      ...deps(),
      logger,
      metrics: eventMetrics(createRegistry('workers', () => true)),
    });
    const done = new Promise<{ result: string }>((resolve) => {
      worker = new Worker(catalog.personaEvents.name, processor, {
        connection: { url: REDIS_URL },
        prefix,
      });
      worker.on('completed', (_job, value: { result: string }) => resolve(value));
    });

    expect(await done).toMatchObject({ result: 'applied' });
    expect(race.ran()).toBe(true);
    // Parked for 2 s (its first park); woken by itself well before.
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
