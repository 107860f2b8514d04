import type { Queue } from 'bullmq';
import { retentionOf, type Logger } from '@pp/shared';
import type { JobsOptions } from 'bullmq';

/** Jobs removed per queue and state in one run; the next run takes the rest. */
const CLEAN_BATCH = 10_000;

/**
 * Removes completed and failed jobs older than their queue keeps them, on every queue of the
 * pipeline, the business-action queues included.
 */
export function queueCleanProcessor(deps: {
  logger: Logger;
  queues: () => { queue: Queue; options: JobsOptions }[];
}) {
  return async () => {
    const removed: Record<string, number> = {};
    for (const { queue, options } of deps.queues()) {
      const keep = retentionOf(options);
      for (const state of ['completed', 'failed'] as const) {
        if (!Number.isFinite(keep[state])) continue;
        const ids = await queue.clean(keep[state] * 1000, CLEAN_BATCH, state);
        if (ids.length > 0) removed[`${queue.name}:${state}`] = ids.length;
      }
    }
    if (Object.keys(removed).length > 0) deps.logger.info({ removed }, 'old jobs removed');
    return { removed };
  };
}
