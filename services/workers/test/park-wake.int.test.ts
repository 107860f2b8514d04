import type { Queue } from 'bullmq';
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
  type EventSummary,
} from '@pp/shared';
import { deletePrefix, LogCapture, REDIS_URL, uniquePrefix } from '@pp/testing';
import { personaEventProcessor } from '../src/processors/persona-event.processor.ts';
import { createProducers } from '../src/producers.ts';

/** A parked event and a link made at the worst moment, with the workers' real producers. */

const TXN = 'txn_parkWake1';

describe('an event parked for its link', () => {
  let redis: Redis;
  let prefix: string;
  let worker: Worker | undefined;
  let queue: Queue;
  let close: () => Promise<void>;

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = uniquePrefix('park');
  });
  afterEach(async () => {
    await worker?.close();
    await queue.close();
    await close();
    redis.disconnect();
    await deletePrefix(REDIS_URL, prefix);
  });

  it('When its transaction is linked after it parked but before its job was delayed, then it wakes at once instead of sleeping out its delay', async () => {
    const logger = createLogger({ service: 'workers', destination: new LogCapture() });
    const store = new RequestStore(redis, { prefix });
    const events = createEventStores(redis, { prefix });
    const gate = new EventGate(redis, { prefix, dedupeTtlSeconds: 3600 });
    const producers = createProducers({ connection: redis, prefix, gate, store, events, logger });
    close = producers.close;
    const accepted = await store.accept(
      { transactionTypeId: 'txntp_x', fields: { a: 1 } },
      { correlationId: 'corr-park' },
    );
    if (accepted.kind !== 'created') throw new Error(accepted.kind);

    // The link lands between the event's last look for it and its move to delayed: the
    // release finds the job still active, so it has nothing to promote.
    const lookFor = store.requestIdFor.bind(store);
    let looks = 0;
    store.requestIdFor = async (id: string) => {
      const found = await lookFor(id);
      if (id === TXN && ++looks === 2) {
        await store.markSubmitted(accepted.request.id, { transactionId: TXN, status: 'created' });
        await producers.release([TXN]);
      }
      return found;
    };

    const summary: EventSummary = {
      eventId: 'evt_parkWake1',
      name: 'transaction.status-updated',
      createdAt: new Date().toISOString(),
      object: { type: 'transaction', id: TXN },
      status: 'approved',
      updatedAt: null,
      transactionId: TXN,
      referenceId: null,
      related: [],
      taggedRequestId: null,
      tagsSeen: false,
      source: 'webhook',
    };
    queue = producers.queue(catalog.personaEvents.name);
    await producers.enqueue('personaEvents', summary);
    const started = Date.now();
    const processor = personaEventProcessor({
      logger,
      store,
      events,
      rules: RoutingRules.parse([{ status: 'approved', queues: ['actions-approve'] }]),
      decisionStatuses: new Set(['approved']),
      linkTimeoutMs: 60_000,
      onLinked: producers.onLinked,
      release: producers.release,
      businessJob: producers.businessJob,
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
    expect(looks).toBeGreaterThanOrEqual(3);
    // Parked for 2 s (its first park); woken by itself well before.
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
