import type { EventMetrics, Logger, SweepCursorStore } from '@pp/shared';
import { sweepEventStream, type EventSweepDeps, type SweepCursor } from '../domain/event-sweep.ts';

const EMPTY: SweepCursor = { watermark: null, gap: null };

/**
 * One run of the event-stream sweep, under a lock so that two worker processes never walk
 * the stream at once (a slow run and the next interval's job).
 */
export function eventSweepProcessor(
  deps: Omit<EventSweepDeps, 'load' | 'save'> & {
    cursor: SweepCursorStore;
    logger: Logger;
    metrics: EventMetrics;
  },
) {
  return async () => {
    const token = await deps.cursor.lock(deps.maxWaitMs * 2);
    if (!token) return { skipped: 'another run holds the lock' };
    try {
      const result = await sweepEventStream(
        {
          ...deps,
          load: () => deps.cursor.load(EMPTY),
          save: (c) => deps.cursor.save(c),
        },
        deps.logger,
      );
      if (result.recovered > 0) deps.metrics.found('sweep_event_recovered', result.recovered);
      if (result.events > 0 || result.behind) {
        deps.logger.info(result, 'event sweep: Persona event stream read');
      }
      if (result.behind) {
        deps.logger.warn(
          'event sweep: its budget share ran out before the last event seen; the next run goes on',
        );
      }
      return result;
    } finally {
      await deps.cursor.unlock(token);
    }
  };
}
