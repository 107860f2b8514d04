import { z } from 'zod';
import { baseEnv, nonNegativeInt, personaBaseUrl, positiveInt } from '@pp/shared';

export const WorkersEnv = z
  .object({
    ...baseEnv,
    /** Persona API key of the environment (sandbox or production). */
    PERSONA_API_KEY: z.string({ error: 'is required' }).min(1),
    /** https; plain http only on loopback (the simulator). */
    PERSONA_API_BASE_URL: personaBaseUrl,
    /** Persona-Version header sent with every call. */
    PERSONA_VERSION: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2025-12-08')
      .default('2025-12-08'),
    /** Requests per window for the whole fleet (Persona: 300 a minute per environment). */
    PERSONA_RATE_LIMIT_PER_MINUTE: positiveInt(300),
    /** Length of the rate-limit window. Persona's is one minute; tests scale it down. */
    PERSONA_RATE_LIMIT_WINDOW_MS: positiveInt(60_000),
    /** Added to the window to absorb jitter between our grant and Persona's receipt. */
    PERSONA_RATE_LIMIT_MARGIN_MS: nonNegativeInt(500),
    /** Calls allowed back to back after an idle spell. */
    PERSONA_RATE_LIMIT_BURST: positiveInt(3),
    /** Timeout of one Persona call, connect to last byte. */
    PERSONA_TIMEOUT_MS: positiveInt(10_000),
    /** First retry delay after a 5xx or a network error; doubles per attempt, with full jitter. */
    PERSONA_RETRY_BASE_MS: positiveInt(2000),
    /** Longest retry delay. */
    PERSONA_RETRY_CAP_MS: positiveInt(10 * 60 * 1000),
    /** Consecutive 5xx under one Idempotency-Key before we look for the transaction ourselves. */
    PERSONA_RECONCILE_AFTER_5XX: positiveInt(3),
    /** Jobs of the creation queue one process runs at once. */
    WORKER_CONCURRENCY: positiveInt(8),
    /** BullMQ lock of an active job; must exceed PERSONA_TIMEOUT_MS. */
    WORKER_LOCK_DURATION_MS: positiveInt(30_000),
    /** How often BullMQ looks for jobs whose worker died. */
    WORKER_STALLED_INTERVAL_MS: positiveInt(30_000),
    /** Time active jobs get to finish on SIGTERM before the process exits anyway. */
    WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt(20_000),
  })
  .superRefine((env, ctx) => {
    if (env.WORKER_LOCK_DURATION_MS <= env.PERSONA_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_LOCK_DURATION_MS'],
        message: `must exceed PERSONA_TIMEOUT_MS (${env.PERSONA_TIMEOUT_MS}), or a slow call loses its job to another worker`,
      });
    }
  });

export type WorkersConfig = z.output<typeof WorkersEnv>;
