import type { Queue } from 'bullmq';
import type { z } from 'zod';
import { actionJob, catalog, type ActionPayload, type QueueKey } from './catalog.ts';

/** What adding a job needs of a queue. */
export type JobQueue = Pick<Queue, 'add'>;
type SchedulerQueue = Pick<Queue, 'upsertJobScheduler' | 'removeJobScheduler'>;

/** Catalog entries whose jobs are added one by one (the others run on a Job Scheduler). */
type Keyed = {
  [K in QueueKey]: (typeof catalog)[K] extends { jobId: unknown } ? K : never;
}[QueueKey];
type Periodic = Exclude<QueueKey, Keyed>;
/** What a queue's job id needs besides the payload (why an event is fed again, a lookup's occasion). */
type JobIdArgs<K extends Keyed> = (typeof catalog)[K]['jobId'] extends (
  p: never,
  ...rest: infer R
) => string
  ? R
  : never;

/**
 * The one way a job is added: the catalog names the queue and the job, checks the payload
 * and derives the job id, so no call site types any of them.
 */
export function createEnqueue(queueFor: (name: string) => JobQueue) {
  return async function enqueue<K extends Keyed>(
    key: K,
    payload: z.input<(typeof catalog)[K]['payload']>,
    ...idArgs: JobIdArgs<K>
  ): Promise<void> {
    const spec = catalog[key];
    const data = spec.payload.parse(payload);
    const jobId = (spec.jobId as (p: unknown, ...rest: unknown[]) => string)(data, ...idArgs);
    await queueFor(spec.name).add(spec.jobName, data, { ...spec.jobOptions, jobId });
  };
}
export type Enqueue = ReturnType<typeof createEnqueue>;

/** A business-action job (job id: the Persona event id; a no-op when it exists). */
export function createEnqueueAction(queueFor: (name: string) => JobQueue) {
  return async (queue: string, payload: ActionPayload): Promise<void> => {
    const data = actionJob.payload.parse(payload);
    await queueFor(queue).add(actionJob.jobName, data, {
      ...actionJob.jobOptions,
      jobId: actionJob.jobId(data),
    });
  };
}

/** Runs a periodic queue's job every `everyMs` (0: not at all); any number of processes may call it. */
export async function schedule(queue: SchedulerQueue, key: Periodic, everyMs: number) {
  const spec = catalog[key];
  if (everyMs <= 0) {
    await queue.removeJobScheduler(spec.schedulerId);
    return;
  }
  await queue.upsertJobScheduler(
    spec.schedulerId,
    { every: everyMs },
    { name: spec.jobName, data: {}, opts: spec.jobOptions },
  );
}
