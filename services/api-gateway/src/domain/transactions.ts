import type {
  HistoryEntry,
  JobInsert,
  LinkedObject,
  Logger,
  RequestStatus,
  RequestEvents,
  RequestStore,
  TransactionInput,
  TransactionRequest,
} from '@pp/shared';

export interface TransactionsDeps {
  store: RequestStore;
  /** What Persona's events told us about each request. */
  events: RequestEvents;
  /** The creation job of a new request, written with its record in one step. */
  creationJob: (request: { id: string; correlationId: string }) => JobInsert;
  /** Puts a recorded request's job on the creation queue; a no-op when the job already exists. */
  enqueue: (requestId: string, correlationId: string) => Promise<void>;
  /** False while Redis is away: fail at once rather than queue work behind a dead link. */
  isAvailable: () => boolean;
  /** Deadline for the Redis work of one call. */
  withDeadline: <T>(work: Promise<T>) => Promise<T>;
}

export type AcceptOutcome =
  | { kind: 'accepted'; id: string; status: 'queued' }
  | { kind: 'replayed'; id: string; status: RequestStatus }
  | { kind: 'idempotency_conflict' }
  /** The caller is over its rate, or the backlog is full: try again after `retryAfterMs`. */
  | { kind: 'too_many'; reason: 'rate_limited' | 'backlog_full'; retryAfterMs: number }
  | { kind: 'unavailable' };

/** When to retry after a full backlog: about what Persona's budget drains in a minute. */
const BACKLOG_RETRY_MS = 60_000;

/**
 * Accepts one transaction request: recorded (with its Idempotency-Key) and its creation job
 * added, in one atomic step, or nothing acknowledged. A replay of the same key and body
 * returns the first id (and adds its job, should it be missing: a no-op otherwise).
 */
export async function acceptTransaction(
  deps: TransactionsDeps,
  input: TransactionInput,
  meta: { correlationId: string; caller: string; idempotencyKey?: string | undefined },
  logger: Logger,
): Promise<AcceptOutcome> {
  if (!deps.isAvailable()) return { kind: 'unavailable' };
  try {
    const result = await deps.withDeadline(deps.store.accept(input, meta, deps.creationJob));
    if (result.kind === 'existing') {
      if (!result.sameBody) return { kind: 'idempotency_conflict' };
      const existing = await deps.withDeadline(deps.store.get(result.id));
      if (!existing) return { kind: 'unavailable' };
      if (existing.status === 'queued') {
        await deps.withDeadline(deps.enqueue(existing.id, existing.correlationId));
      }
      logger.info({ requestId: existing.id, status: existing.status }, 'idempotent replay');
      return { kind: 'replayed', id: existing.id, status: existing.status };
    }
    if (result.kind === 'rate_limited') {
      return { kind: 'too_many', reason: 'rate_limited', retryAfterMs: result.retryInMs };
    }
    if (result.kind === 'backlog_full') {
      logger.warn('creation backlog full; request refused with 429');
      return { kind: 'too_many', reason: 'backlog_full', retryAfterMs: BACKLOG_RETRY_MS };
    }
    // Logged once, in the request's line (its `requestId`), not in a line of its own.
    return { kind: 'accepted', id: result.request.id, status: 'queued' };
  } catch (err) {
    logger.warn({ err }, 'could not record or enqueue the request');
    return { kind: 'unavailable' };
  }
}

export interface TransactionView {
  request: TransactionRequest;
  objects: LinkedObject[];
  history: HistoryEntry[];
}

export async function findTransaction(
  deps: TransactionsDeps,
  id: string,
  caller: string,
): Promise<
  { kind: 'found'; view: TransactionView } | { kind: 'not_found' } | { kind: 'unavailable' }
> {
  if (!deps.isAvailable()) return { kind: 'unavailable' };
  try {
    const [request, objects, history] = await deps.withDeadline(
      Promise.all([deps.store.get(id), deps.events.objects(id), deps.events.history(id)]),
    );
    // Another caller's request does not exist, as far as this caller can tell.
    return request && request.caller === caller
      ? { kind: 'found', view: { request, objects, history } }
      : { kind: 'not_found' };
  } catch {
    return { kind: 'unavailable' };
  }
}
