import { DelayedError, type Job } from 'bullmq';
import { catalog, type EventMetrics, type Logger } from '@pp/shared';
import { applyEvent, type ApplyEventDeps } from '../domain/apply-event.ts';

/** Waits between looks for a transaction's link: doubling from 1 s up to this. */
const LINK_WAIT_CAP_MS = 5 * 60 * 1000;

export function personaEventProcessor(
  deps: ApplyEventDeps & { logger: Logger; metrics: EventMetrics },
) {
  return async (job: Job, token?: string) => {
    const summary = catalog.personaEvents.payload.parse(job.data);
    const log = deps.logger.child({ eventId: summary.eventId, eventName: summary.name });
    const outcome = await applyEvent(deps, summary, { waitedMs: Date.now() - job.timestamp, log });
    if (outcome.kind === 'wait_for_link') {
      // Parked, not failed: no attempt is spent; the link promotes it early.
      const delay = Math.min(LINK_WAIT_CAP_MS, 1000 * 2 ** Math.min(12, job.attemptsStarted));
      log.info(
        { waitingFor: outcome.waitingFor, retryInMs: delay },
        'event waits for its transaction to be linked',
      );
      await job.moveToDelayed(Date.now() + delay, token);
      // A link made after the event was parked, while this job was still active, released
      // it when there was no delayed job to promote: the job wakes itself.
      if (!(await deps.events.links.isPending(outcome.waitingFor, summary.eventId))) {
        await job.promote().catch(() => undefined);
      }
      throw new DelayedError();
    }
    if (outcome.result === 'duplicate') deps.metrics.duplicate('worker');
    for (const queue of outcome.fannedOut) deps.metrics.fannedOut(queue);
    return { result: outcome.result, fannedOut: outcome.fannedOut };
  };
}
