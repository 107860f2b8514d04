import {
  eventSummary,
  isOwnedObjectType,
  summarizeEvent,
  type AwaitingIndex,
  type EventSummary,
  type GateOutcome,
  type Logger,
  type PersonaClient,
  type RequestStore,
} from '@pp/shared';

export interface SweepDeps {
  store: RequestStore;
  awaiting: AwaitingIndex;
  /** How long a submitted request may wait for a decision before we ask Persona. */
  afterMs: number;
  /** Queues one background lookup of a request; `key` makes it one per sweep. */
  enqueueLookup: (job: { requestId: string; transactionId: string }, key: string) => Promise<void>;
  batch: number;
}

/** Persona keeps events 30 days; past that a lookup cannot recover them. */
const GIVE_UP_AFTER_MS = 30 * 24 * 3600 * 1000;

/**
 * The periodic sweep: requests submitted longer than `afterMs` ago with no decision yet
 * get a background lookup. The next look waits `afterMs`, or half the request's age when
 * that is longer, so that a transaction Persona keeps open for days costs a handful of
 * calls, not one per `afterMs`.
 */
export async function sweepAwaiting(deps: SweepDeps, now: number, log: Logger): Promise<number> {
  const due = await deps.awaiting.due(now - deps.afterMs, deps.batch);
  let queued = 0;
  for (const requestId of due) {
    // One odd request must not stop the sweep for all the others.
    try {
      const request = await deps.store.get(requestId);
      const age = request ? now - Date.parse(request.createdAt) : Infinity;
      if (
        !request ||
        request.status !== 'submitted' ||
        !request.personaTransactionId ||
        age > GIVE_UP_AFTER_MS
      ) {
        await deps.awaiting.drop(requestId);
        continue;
      }
      await deps.enqueueLookup(
        { requestId, transactionId: request.personaTransactionId },
        String(now),
      );
      // Due again when score <= now - afterMs, i.e. after max(afterMs, age / 2).
      await deps.awaiting.defer(requestId, now + Math.max(0, age / 2 - deps.afterMs));
      queued++;
    } catch (err) {
      log.error({ err, requestId }, 'reconciliation skipped a request it could not look up');
      await deps.awaiting.defer(requestId, now + deps.afterMs).catch(() => undefined);
    }
  }
  if (queued > 0)
    log.info({ queued }, 'reconciliation: asking Persona about requests without a decision');
  return queued;
}

export interface LookupDeps {
  store: RequestStore;
  awaiting: AwaitingIndex;
  persona: PersonaClient;
  /** Feeds one event into the same path a webhook takes (dedupe, state, fan-out); `accepted` when new. */
  ingest: (summary: EventSummary) => Promise<GateOutcome>;
  /** The same past the gate, for events once dropped as another program's. */
  replay: (summary: EventSummary) => Promise<void>;
}

export type LookupOutcome =
  /** `events` read; `recovered`: those we had never stored. */
  | { kind: 'done'; result: 'unchanged' | 'ingested' | 'gone'; events: number; recovered: number }
  /** The transaction was read and differs: its events come next (saved so a parked job resumes there). */
  | { kind: 'events_next'; objectIds: string[] }
  | { kind: 'wait'; retryInMs: number; reason: string }
  | { kind: 'retry'; reason: string };

const MAX_EVENT_PAGES = 5;

/**
 * One background look at Persona for one request: `GET /transactions/{id}`, and if its
 * status differs from ours, `GET /events` for the transaction and its related objects,
 * each event fed through the webhook path. Every call takes a background slot.
 */
export async function lookupTransaction(
  deps: LookupDeps,
  job: {
    requestId: string;
    transactionId: string;
    objectIds?: string[] | undefined;
    replay?: boolean | undefined;
  },
  log: Logger,
): Promise<LookupOutcome> {
  if (!job.objectIds) {
    const res = await deps.persona.getTransaction(job.transactionId, { callClass: 'background' });
    switch (res.kind) {
      case 'ok': {
        const request = await deps.store.get(job.requestId);
        // What our events told us, not what the create response said.
        const ours = request?.stateStatus ?? null;
        const theirs = res.data.attributes.status ?? null;
        if (theirs === ours && !job.replay) {
          return { kind: 'done', result: 'unchanged', events: 0, recovered: 0 };
        }
        log.warn(
          { ours, theirs, replay: job.replay ?? false },
          'reconciliation: Persona has a status we never received; fetching its events',
        );
        // The transaction and what belongs to it alone: accounts and inquiries are shared.
        const owned = (res.data.relationships?.['related-objects']?.data ?? []).filter((r) =>
          isOwnedObjectType(r.type),
        );
        return {
          kind: 'events_next',
          objectIds: [job.transactionId, ...owned.map((r) => r.id)].slice(0, 101),
        };
      }
      case 'throttled':
      case 'rate_limited':
      case 'quota_exceeded':
        return { kind: 'wait', retryInMs: res.retryInMs, reason: res.kind };
      case 'rejected':
        if (res.status === 404) {
          await deps.awaiting.drop(job.requestId);
          log.warn('reconciliation: Persona no longer has this transaction');
          return { kind: 'done', result: 'gone', events: 0, recovered: 0 };
        }
        return { kind: 'retry', reason: `persona ${res.status}` };
      case 'server_error':
      case 'conflict':
        return { kind: 'retry', reason: `persona ${res.status}` };
      case 'network':
        return { kind: 'retry', reason: `persona ${res.code}` };
    }
  }

  let after: string | undefined;
  let events = 0;
  let recovered = 0;
  for (let page = 0; page < MAX_EVENT_PAGES; page++) {
    const res = await deps.persona.listEvents(
      { objectIds: job.objectIds },
      { ...(after ? { after } : {}), size: 100 },
      { callClass: 'background' },
    );
    switch (res.kind) {
      case 'ok':
        break;
      case 'throttled':
      case 'rate_limited':
      case 'quota_exceeded':
        return { kind: 'wait', retryInMs: res.retryInMs, reason: res.kind };
      case 'rejected':
      case 'server_error':
      case 'conflict':
        return { kind: 'retry', reason: `persona ${res.status}` };
      case 'network':
        return { kind: 'retry', reason: `persona ${res.code}` };
    }
    // State is ordered by created-at whatever the order here; oldest first reads naturally in logs.
    for (const event of [...res.data.data].reverse()) {
      const summary = eventSummary.safeParse(summarizeEvent(event, 'reconciliation'));
      if (!summary.success) {
        // One event we cannot take never stops the others.
        log.error({ eventId: event.id }, 'reconciliation skipped an event it cannot store');
        continue;
      }
      if (job.replay) await deps.replay(summary.data);
      const stored = job.replay ? 'accepted' : await deps.ingest(summary.data);
      if (stored === 'accepted') recovered++;
      events++;
    }
    if (!res.data.nextCursor) break;
    after = res.data.nextCursor;
  }
  log.info({ events }, 'reconciliation: events fed through the webhook path');
  return { kind: 'done', result: 'ingested', events, recovered };
}
