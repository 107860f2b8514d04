import type { Queue } from 'bullmq';
import { createEnqueue } from '../queues/enqueue.ts';
import type { RequestStore } from './request-store.ts';
import type { RedriveResult } from './request.ts';

/**
 * Re-drives one request that failed for a transient reason: the store puts it back in the
 * queue (same Idempotency-Key while Persona holds it, else a search by tag first), then its
 * creation job runs again: the failed job is retried with a fresh count of attempts, or a
 * new one is added if the old one is gone or completed.
 */
export async function redriveRequest(
  store: RequestStore,
  queue: Queue,
  requestId: string,
): Promise<RedriveResult> {
  const result = await store.redrive(requestId);
  if (result !== 'redriven') return result;
  const job = await queue.getJob(requestId);
  const state = job ? await job.getState() : 'missing';
  if (job && state === 'failed') {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return result;
  }
  if (job && state === 'completed') await job.remove();
  if (!job || state === 'completed') {
    const request = await store.get(requestId);
    await createEnqueue(() => queue)('transactionCreate', {
      requestId,
      correlationId: request?.correlationId || requestId,
    });
  }
  // Otherwise its job is waiting, delayed or running, and will find the request queued.
  return result;
}
