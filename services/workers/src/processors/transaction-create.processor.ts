import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import { catalog, isRedrivable, type Logger } from '@pp/shared';
import { submitTransaction, type SubmitDeps } from '../domain/submit-transaction.ts';

export interface TransactionCreateDeps extends SubmitDeps {
  logger: Logger;
  /** The creation queue, to pause it for the whole fleet while the budget says wait. */
  queue: Queue;
}

/**
 * Parses the job, binds the request's correlation id to the logger, runs the domain step
 * and maps its outcome to BullMQ: `wait` pauses this queue for every worker and puts the
 * job back without spending an attempt; `defer` delays this job alone, spending nothing;
 * `retry` spends one (backoff with jitter).
 */
export function transactionCreateProcessor(deps: TransactionCreateDeps) {
  return async (job: Job, token?: string, signal?: AbortSignal) => {
    let data = catalog.transactionCreate.payload.parse(job.data);
    const { requestId, correlationId } = data;
    const attempts = job.opts.attempts ?? 1;
    for (;;) {
      // Attempts count from the last re-drive: a retried failed job gets its full share.
      const attempt = job.attemptsMade - (data.attemptBase ?? 0) + 1;
      const log = deps.logger.child({ correlationId, requestId, attempt });
      const outcome = await submitTransaction(deps, requestId, {
        finalAttempt: attempt >= attempts,
        log,
        ...(signal ? { signal } : {}),
      });
      switch (outcome.kind) {
        case 'redriven':
          data = { ...data, attemptBase: job.attemptsMade };
          await job.updateData(data);
          continue;
        case 'done':
          if (outcome.result === 'failed') await failForGood(deps, requestId);
          return { result: outcome.result };
        case 'wait':
          log.debug(
            { retryInMs: outcome.retryInMs, reason: outcome.reason },
            'waiting for the Persona budget',
          );
          // Remember when the job first waited for a slot (observability: slot wait times).
          if (data.parkedAt === undefined) await job.updateData({ ...data, parkedAt: Date.now() });
          await deps.queue.rateLimit(outcome.retryInMs);
          throw new RateLimitError();
        case 'defer':
          // This job only, and no attempt spent: it runs again once the reason has passed.
          log.debug({ retryInMs: outcome.retryInMs, reason: outcome.reason }, 'deferred');
          await job.moveToDelayed(Date.now() + outcome.retryInMs, token);
          throw new DelayedError();
        case 'retry':
          throw new Error(outcome.reason);
      }
    }
  };
}

/**
 * A request that failed for a transient reason fails its job too, so that it shows among
 * the failed jobs (Bull Board) and a retry there re-drives it. A refusal completes the job.
 */
async function failForGood(deps: TransactionCreateDeps, requestId: string): Promise<void> {
  const request = await deps.store.get(requestId);
  if (request?.error && isRedrivable(request.error.code)) {
    throw new UnrecoverableError(`request failed: ${request.error.code}; re-drivable`);
  }
}
