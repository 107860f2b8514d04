import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/**
 * Every queue this project uses: its name, the schema of its payload and its default job
 * options. Producers, workers, Bull Board and tests import names from here; nobody types
 * a queue name. Payloads are thin (ids, never personal data): job data is stored in clear
 * text and shown in Bull Board.
 */

/** Name of the custom BullMQ backoff type; the workers register {@link cappedFullJitter} under it. */
export const PERSONA_BACKOFF = 'persona-jitter';

const requestId = z.string().regex(/^req_[A-Za-z0-9]{20,40}$/);

export const catalog = {
  transactionCreate: {
    name: 'persona-transaction-create',
    payload: z.object({
      /** Our request id; also the job id. */
      id: requestId,
      /** Carried into every log line of this request, from the gateway to the last fan-out. */
      correlationId: z.string().min(1).max(128),
      /** Set by the worker when the budget first parks the job: when it began to wait for a slot (ms). */
      parkedAt: z.number().int().optional(),
    }),
    jobOptions: {
      // Spent only by network errors, timeouts and 5xx; rate limits never spend an attempt.
      // With the workers' default backoff (2 s doubling to a 10 min cap, full jitter), 60
      // attempts span about 4-9 hours: well inside the 24 hours Persona keeps an
      // Idempotency-Key, so every retry still replays instead of creating anew.
      attempts: 60,
      backoff: { type: PERSONA_BACKOFF },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 14 * 24 * 3600, count: 50_000 },
    } satisfies JobsOptions,
  },
} as const;

export type QueueKey = keyof typeof catalog;
export type Payload<K extends QueueKey> = z.output<(typeof catalog)[K]['payload']>;
