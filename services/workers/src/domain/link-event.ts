import type { EventStores, EventSummary, Logger, RequestStore } from '@pp/shared';
import { isKnownEvent, objectKind } from './routing.ts';

export interface LinkDeps {
  store: RequestStore;
  events: EventStores;
  /** How long an event may wait for its transaction to be linked to one of our requests. */
  linkTimeoutMs: number;
  /** A Persona transaction was just linked to its request: what waits on it can go. */
  onLinked: (personaTransactionId: string) => Promise<void>;
  /** Events parked on, or kept late for, these ids run now. */
  release: (linkIds: string[]) => Promise<void>;
}

export type LinkOutcome =
  | { kind: 'linked'; requestId: string; transactionId: string }
  /** Not linked yet: its create response is being retried, or its transaction event is to come. */
  | { kind: 'wait'; waitingFor: string }
  /** Another program's transaction on the same Persona environment. */
  | { kind: 'foreign' }
  /** Waited past the link timeout: kept under `linkId`, replayed if that is linked later. */
  | { kind: 'late'; linkId: string }
  /** Names no transaction at all (an account, an inquiry, an event we do not know). */
  | { kind: 'none'; reason: 'no_transaction' | 'unknown_event' };

/**
 * Finds the request an event belongs to. A link by transaction id always wins; then our tag
 * on the transaction (it links at once, before the create response); a transaction whose
 * tags are listed without ours is another program's. Otherwise the event waits for the
 * link, and after the link timeout it is kept for a late link.
 */
export async function linkEvent(
  deps: LinkDeps,
  summary: EventSummary,
  /** `linked`: what the link of the event's own `transactionId` said, when already read. */
  ctx: { waitedMs: number; log: Logger; linked?: string | null },
): Promise<LinkOutcome> {
  const { store } = deps;
  const { links } = deps.events;
  const known = isKnownEvent(summary.name);
  const kind = objectKind(summary.object?.type);
  const objectId = summary.object?.id ?? null;
  const owned = known && objectId !== null && (kind === 'verification' || kind === 'report');
  const waiting = ctx.waitedMs < deps.linkTimeoutMs;

  let transactionId =
    summary.transactionId ?? (owned ? await links.transactionForObject(objectId) : null);
  if (!transactionId) {
    if (!owned) return { kind: 'none', reason: known ? 'no_transaction' : 'unknown_event' };
    // A verification or report whose transaction event (listing it) has not come yet.
    if (await links.isForeign(objectId)) return { kind: 'foreign' };
    if (!waiting) return { kind: 'late', linkId: objectId };
    await links.addPending(objectId, summary.eventId);
    // Listed in the meantime? Then its wake-up may have missed this event: go on.
    transactionId = await links.transactionForObject(objectId);
    if (!transactionId) {
      return (await links.isForeign(objectId))
        ? { kind: 'foreign' }
        : { kind: 'wait', waitingFor: objectId };
    }
  }

  const requestId =
    (transactionId === summary.transactionId && ctx.linked !== undefined
      ? ctx.linked
      : await store.requestIdFor(transactionId)) ??
    (await linkByTag(deps, summary, transactionId, ctx.log));
  if (requestId) return { kind: 'linked', requestId, transactionId };

  if (summary.tagsSeen || (await links.isForeign(transactionId))) {
    if (summary.object?.type === 'transaction') {
      const objectIds = summary.related.map((r) => r.id);
      await links.markForeign(transactionId, objectIds);
      // A request of ours may have linked it since our read, its onLinked finding no mark
      // to take then: read again, and if so take the mark as onLinked would have.
      const linked = await store.requestIdFor(transactionId);
      if (linked) {
        await deps.onLinked(transactionId);
        return { kind: 'linked', requestId: linked, transactionId };
      }
      // Its verifications and reports parked before this proof can be dropped now.
      await deps.release([transactionId, ...objectIds]);
    }
    return { kind: 'foreign' };
  }
  if (!waiting) return { kind: 'late', linkId: transactionId };
  await links.addPending(transactionId, summary.eventId);
  const linked = await store.requestIdFor(transactionId);
  if (linked) return { kind: 'linked', requestId: linked, transactionId };
  return (await links.isForeign(transactionId))
    ? { kind: 'foreign' }
    : { kind: 'wait', waitingFor: transactionId };
}

/** Our tag names the request: link the transaction to it now, if it is still ours to link. */
async function linkByTag(
  deps: LinkDeps,
  summary: EventSummary,
  transactionId: string,
  log: Logger,
): Promise<string | null> {
  const requestId = summary.taggedRequestId;
  if (!requestId) return null;
  const settled = await deps.store.markSubmitted(requestId, {
    transactionId,
    status: summary.object?.type === 'transaction' ? summary.status : null,
  });
  switch (settled) {
    case 'settled':
      log.info(
        { requestId, personaTransactionId: transactionId },
        'transaction linked to its request by our tag',
      );
      await deps.onLinked(transactionId);
      return requestId;
    case 'missing':
      // Another deployment's request, or one long expired: not ours to apply.
      return null;
    case 'conflict':
    case 'submitted':
    case 'failed':
    case 'queued': {
      // A link by id (to this request or this transaction) wins over a tag, which a person
      // can edit in Persona's dashboard. The create response may have linked this very
      // transaction since the event read its link: read it again.
      const linked = await deps.store.requestIdFor(transactionId);
      if (linked) return linked;
      log.warn(
        { requestId, personaTransactionId: transactionId, requestStatus: settled },
        "a transaction carries a request's tag, but the request is linked otherwise; ignored",
      );
      return null;
    }
  }
}
