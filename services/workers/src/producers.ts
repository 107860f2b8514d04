import { Job, Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  catalog,
  createEnqueue,
  createJobInsert,
  createActionInsert,
  type ActionPayload,
  type Enqueue,
  type EventGate,
  type EventStores,
  type EventSummary,
  type GateOutcome,
  type Logger,
  type OwedJob,
  type RequestStore,
} from '@pp/shared';

/**
 * Every job the workers add, in one place: events fed into the webhook path, parked events
 * woken, late ones replayed, business jobs fanned out, lookups queued.
 */
export interface Producers {
  queue: (name: string) => Queue;
  enqueue: Enqueue;
  /** Feeds an event into the webhook path: the gate, then the events queue (`accepted`: it was new). */
  ingest: (summary: EventSummary) => Promise<GateOutcome>;
  /** Feeds an event again, past the gate (it was dropped as another program's). */
  replay: (summary: EventSummary) => Promise<void>;
  /** Runs parked events now instead of at their next look. */
  wake: (eventIds: string[]) => Promise<void>;
  /** What waits on these ids (parked events, events kept late) runs now. */
  release: (linkIds: string[]) => Promise<void>;
  /** A Persona transaction was linked to its request. */
  onLinked: (personaTransactionId: string) => Promise<void>;
  businessJob: (queue: string, payload: ActionPayload) => OwedJob;
  /** One background lookup of a request; `occasion` makes it one per sweep. */
  enqueueLookup: (
    job: { requestId: string; transactionId: string; replay?: boolean },
    occasion: string,
  ) => Promise<void>;
  close: () => Promise<void>;
}

const AGAIN = [undefined, 'late', 'replay'] as const;

export function createProducers(deps: {
  connection: Redis | ConnectionOptions;
  prefix: string;
  gate: EventGate;
  store: RequestStore;
  events: EventStores;
  logger: Logger;
}): Producers {
  const { connection, prefix, gate, store, logger } = deps;
  const { links } = deps.events;
  const queues = new Map<string, Queue>();
  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      q.on('error', (err) => logger.warn({ err, queue: name }, 'queue error'));
      queues.set(name, q);
    }
    return q;
  };
  const enqueue = createEnqueue(queue);
  const jobInsert = createJobInsert(queue);

  const wake = async (eventIds: string[]) => {
    const events = queue(catalog.personaEvents.name);
    // The event's job, or its copy fed again (kept late, or replayed), whichever is parked.
    const jobIds = eventIds.flatMap((eventId) =>
      AGAIN.map((again) => catalog.personaEvents.jobId({ eventId }, again)),
    );
    await Promise.all(
      jobIds.map(async (jobId) => {
        const job = await Job.fromId(events, jobId);
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      }),
    );
  };

  const release = async (linkIds: string[]) => {
    // Both taken at once (one round trip, autopipelined).
    const [pending, late] = await Promise.all([
      links.takePending(...linkIds),
      links.takeLate(...linkIds),
    ]);
    await wake(pending);
    for (const kept of late) {
      const summary = catalog.personaEvents.payload.safeParse(kept);
      // One event we can no longer read never holds back the others.
      if (summary.success) await enqueue('personaEvents', summary.data, 'late');
      else logger.error({ eventId: kept.eventId }, 'a kept event could not be read; dropped');
    }
  };

  const enqueueLookup: Producers['enqueueLookup'] = (job, occasion) =>
    enqueue('personaLookup', job, occasion);

  return {
    queue,
    enqueue,
    ingest: (summary) => gate.admit(summary.eventId, jobInsert('personaEvents', summary)),
    replay: (summary) => enqueue('personaEvents', summary, 'replay'),
    wake,
    release,
    onLinked: async (personaTransactionId) => {
      await release([personaTransactionId]);
      if (!(await links.takeForeign(personaTransactionId))) return;
      // Its events were dropped as another program's: fetch them again and apply them.
      const requestId = await store.requestIdFor(personaTransactionId);
      if (!requestId) return;
      logger.warn(
        { requestId, personaTransactionId },
        "a transaction taken for another program's is ours after all; replaying its events",
      );
      await enqueueLookup(
        { requestId, transactionId: personaTransactionId, replay: true },
        'relink',
      );
    },
    businessJob: createActionInsert(queue),
    enqueueLookup,
    close: async () => {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
