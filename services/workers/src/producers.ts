import { Job, Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  actionJobOptions,
  actionPayload,
  admitEvent,
  catalog,
  type ActionPayload,
  type EventGate,
  type EventStateStore,
  type EventSummary,
  type Logger,
  type RequestStore,
} from '@pp/shared';

/**
 * Every job the workers add, in one place: events fed into the webhook path, parked events
 * woken, late ones replayed, business jobs fanned out, lookups queued.
 */
export interface Producers {
  queue: (name: string) => Queue;
  /** Feeds an event into the webhook path: the gate, then the events queue. */
  ingest: (summary: EventSummary) => Promise<void>;
  /** Feeds an event again, past the gate (it was dropped as another program's). */
  replay: (summary: EventSummary) => Promise<void>;
  /** Runs parked events now instead of at their next look. */
  wake: (eventIds: string[]) => Promise<void>;
  /** What waits on these ids (parked events, events kept late) runs now. */
  release: (linkIds: string[]) => Promise<void>;
  /** A Persona transaction was linked to its request. */
  onLinked: (personaTransactionId: string) => Promise<void>;
  fanOut: (queue: string, eventId: string, payload: ActionPayload) => Promise<void>;
  /** One background lookup of a request; `key` makes it one per sweep. */
  enqueueLookup: (
    job: { requestId: string; transactionId: string; replay?: boolean },
    key: string,
  ) => Promise<void>;
  close: () => Promise<void>;
}

export function createProducers(deps: {
  connection: Redis | ConnectionOptions;
  prefix: string;
  gate: EventGate;
  store: RequestStore;
  state: EventStateStore;
  logger: Logger;
}): Producers {
  const { connection, prefix, gate, store, state, logger } = deps;
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
  const events = catalog.personaEvents;

  /** An event again, past the gate: its first job may still exist, so the id is its own. */
  const readd = async (summary: EventSummary, why: 'late' | 'replay') => {
    await queue(events.name).add('event', events.payload.parse(summary), {
      ...events.jobOptions,
      jobId: `${summary.eventId}-${why}`,
    });
  };

  const wake = async (eventIds: string[]) => {
    for (const eventId of eventIds) {
      const job = await Job.fromId(queue(events.name), eventId);
      if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
    }
  };

  const release = async (linkIds: string[]) => {
    await wake(await state.takePending(...linkIds));
    for (const kept of await state.takeLate(...linkIds)) {
      const summary = events.payload.safeParse(kept);
      // One event we can no longer read never holds back the others.
      if (summary.success) await readd(summary.data, 'late');
      else logger.error({ eventId: kept.eventId }, 'a kept event could not be read; dropped');
    }
  };

  const enqueueLookup: Producers['enqueueLookup'] = async (job, key) => {
    const spec = catalog.personaLookup;
    await queue(spec.name).add('lookup', spec.payload.parse(job), {
      ...spec.jobOptions,
      jobId: `lookup-${job.requestId}-${key}`,
    });
  };

  return {
    queue,
    ingest: async (summary) => {
      await admitEvent(gate, summary.eventId, async () => {
        await queue(events.name).add('event', events.payload.parse(summary), {
          ...events.jobOptions,
          jobId: summary.eventId,
        });
      });
    },
    replay: (summary) => readd(summary, 'replay'),
    wake,
    release,
    onLinked: async (personaTransactionId) => {
      await release([personaTransactionId]);
      if (await state.takeForeign(personaTransactionId)) {
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
      }
    },
    fanOut: async (name, eventId, payload) => {
      await queue(name).add('action', actionPayload.parse(payload), {
        ...actionJobOptions,
        jobId: eventId,
      });
    },
    enqueueLookup,
    close: async () => {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
