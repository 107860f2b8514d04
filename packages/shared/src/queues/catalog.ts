import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { personaId, requestId } from '../persona/ids.ts';
import { eventSummary } from '../webhooks/envelope.ts';

/**
 * Every queue this project uses: its name, its job name, the schema of its payload, how a
 * job's id is derived and its default job options. Producers, workers, Bull Board and tests
 * import from here; nobody types a queue name, a job name or a job id (see `enqueue.ts`).
 * Payloads are thin (ids, never personal data): job data is stored in clear text and shown
 * in Bull Board.
 */

/** Name of the custom BullMQ backoff type; the workers register {@link cappedFullJitter} under it. */
export const PERSONA_BACKOFF = 'persona-jitter';

/** Kept for inspection when they fail for good: two weeks, at most this many per queue. */
const FAILED_KEPT = { age: 14 * 24 * 3600, count: 50_000 } as const;

const periodic = {
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
} satisfies JobsOptions;

/** A creation job written before its request id was named `requestId`. */
const legacyId = (v: unknown) =>
  v !== null && typeof v === 'object' && 'id' in v && !('requestId' in v)
    ? { ...v, requestId: v.id }
    : v;

export const catalog = {
  transactionCreate: {
    name: 'persona-transaction-create',
    jobName: 'create',
    payload: z.preprocess(
      legacyId,
      z.object({
        requestId,
        /** Carried into every log line of this request, from the gateway to the last fan-out. */
        correlationId: z.string().min(1).max(128),
        /** Set by the worker when the budget first parks the job: when it began to wait for a slot (ms). */
        parkedAt: z.number().int().optional(),
        /** The job's attempts made when it was last re-driven: attempts count from there. */
        attemptBase: z.number().int().min(0).optional(),
      }),
    ),
    /** One job per request, ever. */
    jobId: (p: { requestId: string }) => p.requestId,
    jobOptions: {
      // Spent only by network errors, timeouts and 5xx; rate limits never spend an attempt.
      // With the workers' default backoff (2 s doubling to a 10 min cap, full jitter), 60
      // attempts span about 4-9 hours: well inside the 24 hours Persona keeps an
      // Idempotency-Key, so every retry still replays instead of creating anew.
      attempts: 60,
      backoff: { type: PERSONA_BACKOFF },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: FAILED_KEPT,
    } satisfies JobsOptions,
  },
  /** Verified Persona events, as summaries (ids, names, statuses, times; no personal data). */
  personaEvents: {
    name: 'persona-events',
    jobName: 'event',
    payload: eventSummary,
    /**
     * The event id: a second delivery is the same job. An event fed in again on purpose (kept
     * past the link timeout, or replayed) carries why, so that its first job cannot block it.
     */
    jobId: (p: { eventId: string }, again?: 'late' | 'replay') =>
      again ? `${p.eventId}-${again}` : p.eventId,
    jobOptions: {
      attempts: 25,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: FAILED_KEPT,
    } satisfies JobsOptions,
  },
  /** Periodic sweep for submitted requests that have waited too long for a decision. */
  reconcileSweep: {
    name: 'persona-reconcile',
    jobName: 'sweep',
    payload: z.object({}),
    /** Its Job Scheduler: any number of processes upsert the same one. */
    schedulerId: 'reconcile-sweep',
    jobOptions: periodic,
  },
  /** One background look at Persona for one request: its transaction, then its events. */
  personaLookup: {
    name: 'persona-lookup',
    jobName: 'lookup',
    payload: z.object({
      requestId,
      transactionId: personaId,
      /** Set once the transaction was read and its events must be fetched. */
      objectIds: z.array(personaId).max(101).optional(),
      /**
       * Fetch the events whatever the status, and apply those never applied: the transaction
       * had been taken for another program's before its request was linked.
       */
      replay: z.boolean().optional(),
    }),
    /** One per request and occasion (a sweep's time, a relink): a failed one never blocks the next. */
    jobId: (p: { requestId: string }, occasion: string) => `lookup-${p.requestId}-${occasion}`,
    jobOptions: {
      attempts: 10,
      backoff: { type: PERSONA_BACKOFF },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    } satisfies JobsOptions,
  },
  /**
   * Periodic removal of completed and failed jobs past their age on every queue (BullMQ
   * removes them only when later jobs finish, which a quiet queue never does).
   */
  queueClean: {
    name: 'persona-queue-clean',
    jobName: 'clean',
    payload: z.object({}),
    schedulerId: 'queue-clean',
    jobOptions: periodic,
  },
  /** Periodic walk of Persona's event stream, for events lost after we answered 200. */
  eventSweep: {
    name: 'persona-event-sweep',
    jobName: 'sweep',
    payload: z.object({}),
    schedulerId: 'event-sweep',
    jobOptions: periodic,
  },
} as const;

/** A business-action queue name: kebab-case, no `:` (the Redis key separator). */
export const actionQueueName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be kebab-case letters, digits and dashes');

/**
 * The job internal systems receive on a business-action queue (job name `action`, job id
 * the Persona event id). Ids, statuses and times only, never personal data.
 */
export const actionPayload = z.object({
  /** Our request id (the gateway's `id`). */
  id: requestId,
  persona_transaction_id: z.string(),
  /** The status that triggered the action: the transaction's, or the verification's or report's. */
  persona_status: z.string(),
  reference_id: z.string().nullable(),
  event_id: z.string(),
  event_name: z.string(),
  occurred_at: z.string(),
  /** `transaction`, or the verification or report type (`verification/database`, ...). */
  object_type: z.string(),
  object_id: z.string(),
  /** The X-Request-Id of the gateway call that created the request. */
  correlation_id: z.string(),
});
export type ActionPayload = z.output<typeof actionPayload>;

/** Every business-action queue: the same job name, payload and job id rule. */
export const actionJob = {
  jobName: 'action',
  payload: actionPayload,
  /** The Persona event id: consumers make their action idempotent on it. */
  jobId: (p: ActionPayload) => p.event_id,
  jobOptions: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    // Kept a day after completion: the job id (the event id) then stops any re-add by a
    // fan-out that crashed and retried.
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: FAILED_KEPT,
  } satisfies JobsOptions,
} as const;

export type QueueKey = keyof typeof catalog;

/** How long a queue keeps its finished jobs (seconds), from its job options. */
export function retentionOf(options: JobsOptions): { completed: number; failed: number } {
  const age = (keep: JobsOptions['removeOnComplete']) =>
    keep === true
      ? 0
      : typeof keep === 'object' && 'age' in keep && keep.age !== undefined
        ? keep.age
        : Infinity;
  return { completed: age(options.removeOnComplete), failed: age(options.removeOnFail) };
}
