import { RateLimitError, type Job, type Queue } from 'bullmq';
import { catalog, type EventMetrics, type Logger } from '@pp/shared';
import {
  lookupTransaction,
  sweepAwaiting,
  type LookupDeps,
  type SweepDeps,
} from '../domain/reconcile.ts';

export function reconcileSweepProcessor(
  deps: SweepDeps & { logger: Logger; metrics: EventMetrics },
) {
  return async () => {
    const queued = await sweepAwaiting(deps, Date.now(), deps.logger);
    deps.metrics.found('lookup_queued', queued);
    return { queued };
  };
}

/**
 * One lookup per job, at background priority. A budget wait parks the job in its queue
 * (no attempt spent) and remembers how far it got.
 */
export function personaLookupProcessor(
  deps: LookupDeps & { logger: Logger; queue: Queue; metrics: EventMetrics },
) {
  return async (job: Job) => {
    let data = catalog.personaLookup.payload.parse(job.data);
    const log = deps.logger.child({
      requestId: data.requestId,
      personaTransactionId: data.transactionId,
    });
    for (;;) {
      const outcome = await lookupTransaction(deps, data, log);
      switch (outcome.kind) {
        case 'done':
          deps.metrics.found(`lookup_${outcome.result}`);
          if (outcome.recovered > 0) deps.metrics.found('event_recovered', outcome.recovered);
          return { result: outcome.result, events: outcome.events };
        case 'events_next':
          data = { ...data, objectIds: outcome.objectIds };
          await job.updateData(data);
          continue;
        case 'wait':
          await deps.queue.rateLimit(outcome.retryInMs);
          throw new RateLimitError();
        case 'retry':
          throw new Error(outcome.reason);
      }
    }
  };
}
