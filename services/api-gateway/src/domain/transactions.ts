import type {
  EventStateStore,
  HistoryEntry,
  LinkedObject,
  Logger,
  RequestStatus,
  RequestStore,
  TransactionInput,
  TransactionRequest,
} from '@pp/shared';

export interface TransactionsDeps {
  store: RequestStore;
  state: EventStateStore;
  /** Puts the request's job on the creation queue; a no-op when the job already exists. */
  enqueue: (id: string, correlationId: string) => Promise<void>;
  /** False while Redis is away: fail at once rather than queue work behind a dead link. */
  isAvailable: () => boolean;
  /** Deadline for the Redis work of one call. */
  withDeadline: <T>(work: Promise<T>) => Promise<T>;
}

export type AcceptOutcome =
  | { outcome: 'accepted'; id: string; status: 'queued' }
  | { outcome: 'replayed'; id: string; status: RequestStatus }
  | { outcome: 'idempotency_conflict' }
  | { outcome: 'unavailable' };

/**
 * Accepts one transaction request: recorded (with its Idempotency-Key) and enqueued, or
 * nothing acknowledged. A replay of the same key and body returns the first id; if the
 * first attempt was recorded but its enqueue failed, the replay enqueues it now.
 */
export async function acceptTransaction(
  deps: TransactionsDeps,
  input: TransactionInput,
  meta: { correlationId: string; idempotencyKey?: string | undefined },
  logger: Logger,
): Promise<AcceptOutcome> {
  if (!deps.isAvailable()) return { outcome: 'unavailable' };
  try {
    const result = await deps.withDeadline(deps.store.accept(input, meta));
    if (result.outcome === 'existing') {
      if (!result.sameBody) return { outcome: 'idempotency_conflict' };
      const existing = await deps.withDeadline(deps.store.get(result.id));
      if (!existing) return { outcome: 'unavailable' };
      if (existing.status === 'queued') {
        await deps.withDeadline(deps.enqueue(existing.id, existing.correlationId));
      }
      logger.info({ requestId: existing.id, status: existing.status }, 'idempotent replay');
      return { outcome: 'replayed', id: existing.id, status: existing.status };
    }
    const { request } = result;
    await deps.withDeadline(deps.enqueue(request.id, request.correlationId));
    logger.info(
      { requestId: request.id, transactionTypeId: request.transactionTypeId },
      'transaction request accepted',
    );
    return { outcome: 'accepted', id: request.id, status: 'queued' };
  } catch (err) {
    logger.warn({ err }, 'could not record or enqueue the request');
    return { outcome: 'unavailable' };
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
): Promise<
  | { outcome: 'found'; view: TransactionView }
  | { outcome: 'not_found' }
  | { outcome: 'unavailable' }
> {
  if (!deps.isAvailable()) return { outcome: 'unavailable' };
  try {
    const [request, objects, history] = await deps.withDeadline(
      Promise.all([deps.store.get(id), deps.state.objects(id), deps.state.history(id)]),
    );
    return request
      ? { outcome: 'found', view: { request, objects, history } }
      : { outcome: 'not_found' };
  } catch {
    return { outcome: 'unavailable' };
  }
}
