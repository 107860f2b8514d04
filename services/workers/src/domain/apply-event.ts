import type { ActionPayload, EventSummary, FanOutPlan, Logger, OwedJob } from '@pp/shared';
import { linkEvent, type LinkDeps } from './link-event.ts';
import { isKnownEvent, objectKind, routeEvent, type RoutingRule } from './routing.ts';

export interface ApplyEventDeps extends LinkDeps {
  rules: readonly RoutingRule[];
  /** Transaction statuses that end the wait for a decision (reconciliation stops asking). */
  decisionStatuses: ReadonlySet<string>;
  /** One business job for a queue, with the event id as job id (a no-op if it exists). */
  businessJob: (queue: string, payload: ActionPayload) => OwedJob;
}

export type ApplyOutcome =
  | {
      kind: 'done';
      result: 'applied' | 'stale' | 'duplicate' | 'recorded' | 'unmatched' | 'foreign';
      fannedOut: string[];
    }
  /**
   * The transaction is not linked to a request yet (its create response is being retried),
   * or a verification or report is not linked to its transaction yet.
   */
  | { kind: 'wait_for_link'; waitingFor: string };

/**
 * Processes one Persona event once: links it to our request, records the newest state
 * (an older event never wins), and fans a status change out to business-action queues
 * exactly once per (event, queue), finishing a fan-out an earlier run began.
 */
export async function applyEvent(
  deps: ApplyEventDeps,
  summary: EventSummary,
  /** `log` carries the event's id and name. */
  ctx: { waitedMs: number; log: Logger },
): Promise<ApplyOutcome> {
  const { store } = deps;
  const { processed, links, state } = deps.events;
  const { eventId } = summary;
  // The dedupe check and the link of the event's transaction, in one round trip.
  const [done, linked] = await Promise.all([
    processed.isProcessed(eventId),
    summary.transactionId ? store.requestIdFor(summary.transactionId) : undefined,
  ]);
  if (done) return { kind: 'done', result: 'duplicate', fannedOut: [] };

  const link = await linkEvent(deps, summary, { ...ctx, linked });
  switch (link.kind) {
    case 'wait':
      return { kind: 'wait_for_link', waitingFor: link.waitingFor };
    case 'none':
      await processed.recordUnrouted(summary, link.reason);
      await processed.markProcessed(eventId);
      ctx.log.info({ reason: link.reason }, 'event recorded; it names no transaction');
      return { kind: 'done', result: 'recorded', fannedOut: [] };
    case 'foreign':
      // Not marked processed: should a request of ours link this transaction after all,
      // its events are fetched again and must then apply.
      await processed.recordUnrouted(summary, 'foreign');
      ctx.log.debug(
        { personaTransactionId: summary.transactionId },
        "event of another program's transaction; recorded, not routed",
      );
      return { kind: 'done', result: 'foreign', fannedOut: [] };
    case 'late':
      // Kept (not marked processed): if what it waits for is linked later, the link replays it.
      await links.keepLate(link.linkId, summary);
      // Linked since our read? Then the link's release may have come before this keep.
      if (await isLinked(deps, link.linkId)) await deps.release([link.linkId]);
      await processed.recordUnrouted(summary, 'not_linked_in_time');
      ctx.log.info(
        { waitingFor: link.linkId },
        'event not linked in time; kept in case its link comes later',
      );
      return { kind: 'done', result: 'unmatched', fannedOut: [] };
    case 'linked':
      break;
  }
  const { requestId, transactionId } = link;
  const request = await store.get(requestId);

  if (summary.object?.type === 'transaction' && summary.related.length > 0) {
    const ids = summary.related.map((r) => r.id);
    await links.linkObjects(transactionId, summary.related);
    // Verifications and reports that came before this listing can go now.
    await deps.release(ids);
  }

  const known = isKnownEvent(summary.name);
  const kind = objectKind(summary.object?.type);
  const status = known && kind ? summary.status : null;
  const queues = status ? routeEvent(deps.rules, summary) : [];
  const plan: FanOutPlan | null =
    status && queues.length > 0
      ? {
          queues,
          payload: {
            id: requestId,
            persona_transaction_id: transactionId,
            persona_status: status,
            reference_id: request?.referenceId ?? summary.referenceId,
            event_id: eventId,
            event_name: summary.name,
            occurred_at: summary.createdAt,
            object_type: summary.object?.type ?? 'transaction',
            object_id: summary.object?.id ?? transactionId,
            correlation_id: request?.correlationId ?? '',
          } satisfies ActionPayload,
        }
      : null;
  const applied = await state.apply(
    requestId,
    { ...summary, status },
    {
      plan,
      decision: kind === 'transaction' && status !== null && deps.decisionStatuses.has(status),
    },
  );

  // Fan out from the stored plan (this run's, or the one a failed run left half done), in
  // the step that marks the event processed.
  const stored = applied.plan;
  const fannedOut = stored ? stored.queues.filter((queue) => !applied.sent.has(queue)) : [];
  await processed.markProcessed(
    eventId,
    fannedOut.map((queue) => deps.businessJob(queue, stored!.payload as ActionPayload)),
  );

  ctx.log.info(
    {
      requestId,
      correlationId: request?.correlationId,
      status,
      previous: applied.previous,
      applied: applied.applied,
      fannedOut,
      source: summary.source,
    },
    applied.applied
      ? 'event applied'
      : known
        ? 'event older than the state; recorded'
        : 'event recorded, not routed',
  );
  return {
    kind: 'done',
    result: applied.applied ? 'applied' : known ? 'stale' : 'recorded',
    fannedOut,
  };
}

/** A transaction linked to a request, or a verification or report linked to its transaction. */
async function isLinked(deps: ApplyEventDeps, id: string): Promise<boolean> {
  const [request, transaction] = await Promise.all([
    deps.store.requestIdFor(id),
    deps.events.links.transactionForObject(id),
  ]);
  return request !== null || transaction !== null;
}
