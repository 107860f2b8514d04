import type { Queue } from 'bullmq';
import type { z } from 'zod';
import { actionJob, catalog, type ActionPayload, type QueueKey } from './catalog.ts';
import { prepareJob, type JobInsert, type OwedJob } from './job-insert.ts';

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

/** A catalog job: its queue, name, checked payload and options (with the derived job id). */
function catalogJob<K extends Keyed>(key: K, payload: unknown, idArgs: unknown[]) {
  const spec = catalog[key];
  const data = spec.payload.parse(payload);
  const jobId = (spec.jobId as (p: unknown, ...rest: unknown[]) => string)(data, ...idArgs);
  return { queue: spec.name, name: spec.jobName, data, opts: { ...spec.jobOptions, jobId } };
}

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
    const job = catalogJob(key, payload, idArgs);
    await queueFor(job.queue).add(job.name, job.data, job.opts);
  };
}
export type Enqueue = ReturnType<typeof createEnqueue>;

/** As {@link createEnqueue}, but the job is handed to a script that writes it with its own keys. */
export function createJobInsert(queueFor: (name: string) => Queue) {
  return function jobInsert<K extends Keyed>(
    key: K,
    payload: z.input<(typeof catalog)[K]['payload']>,
    ...idArgs: JobIdArgs<K>
  ): JobInsert {
    const job = catalogJob(key, payload, idArgs);
    return prepareJob(queueFor(job.queue), job.name, job.data, job.opts);
  };
}

/**
 * A business-action job (job id: the Persona event id; a no-op when it exists), for the
 * script that finishes its event (`ProcessedEvents.markProcessed`).
 */
export function createActionInsert(queueFor: (name: string) => Queue) {
  return (queue: string, payload: ActionPayload): OwedJob => {
    const data = actionJob.payload.parse(payload);
    const opts = { ...actionJob.jobOptions, jobId: actionJob.jobId(data) };
    return { queue, job: prepareJob(queueFor(queue), actionJob.jobName, data, opts) };
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
