import { z } from 'zod';
import {
  baseEnv,
  csv,
  eventGateEnv,
  nonNegativeInt,
  personaBaseUrl,
  port,
  positiveInt,
  readRoutingRules,
  routingEnv,
} from '@pp/shared';

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
    /** Port of the health and metrics listener (`/healthz`, `/readyz`, `/metrics`); 0 turns it off. */
    WORKER_HTTP_PORT: port(3002),
    /**
     * Event jobs one process runs at once. An event job is a dozen short Redis round trips and
     * almost no CPU, so many run at once and their commands share autopipelined writes: a
     * process drained 620 events/s at 16, 1,380 at 64 and 1,450 at 128 (docs/benchmarks.md).
     */
    EVENT_CONCURRENCY: positiveInt(64),
    ...eventGateEnv,
    /** How long an event may wait for its transaction to be linked to one of our requests. */
    EVENT_LINK_TIMEOUT_MS: positiveInt(12 * 3600 * 1000),
    ...routingEnv,
    /**
     * Transaction statuses that end the wait for a decision: reconciliation stops asking
     * after one. `needs_review` is not among them: a reviewer's decision is still to come.
     */
    DECISION_STATUSES: csv('status').default(['approved', 'declined', 'errored']),
    /**
     * The longest a request waits on Persona's transaction-creation quota (a quota may last
     * days; Persona keeps an Idempotency-Key 24 h): past it we look for the transaction by
     * its tag and fail the request `quota_exceeded` if there is none.
     */
    PERSONA_QUOTA_MAX_WAIT_MS: positiveInt(6 * 3600 * 1000),
    /** How far Persona's lists may lag behind creation: searches and sweeps allow for it. */
    PERSONA_LIST_LAG_MS: nonNegativeInt(30_000),
    /** How often the event-stream sweep walks `GET /events`; 0 turns it off. */
    EVENT_SWEEP_INTERVAL_MS: nonNegativeInt(60_000),
    /** Share of the Persona budget the event-stream sweep may spend. */
    EVENT_SWEEP_BUDGET_SHARE: z.coerce.number().min(0).max(0.5).default(0.05),
    /** Event names the sweep asks for; by default those the routing rules route. */
    EVENT_SWEEP_NAMES: csv('event name').optional(),
    /** How often the reconciliation sweep runs. */
    RECONCILE_INTERVAL_MS: positiveInt(60_000),
    /** How long a submitted transaction may go without a decision before we ask Persona. */
    RECONCILE_AFTER_MS: positiveInt(15 * 60 * 1000),
  })
  .transform((env, ctx) => {
    const routingRules = readRoutingRules(env, ctx);
    return routingRules ? { ...env, routingRules } : z.NEVER;
  })
  .superRefine((env, ctx) => {
    if (env.PERSONA_QUOTA_MAX_WAIT_MS >= 20 * 3600 * 1000) {
      ctx.addIssue({
        code: 'custom',
        path: ['PERSONA_QUOTA_MAX_WAIT_MS'],
        message:
          'must stay well under 24 h (Persona keeps an Idempotency-Key about 24 h; a retry after that may create a second transaction)',
      });
    }
    if (env.WORKER_LOCK_DURATION_MS <= env.PERSONA_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_LOCK_DURATION_MS'],
        message: `must exceed PERSONA_TIMEOUT_MS (${env.PERSONA_TIMEOUT_MS}), or a slow call loses its job to another worker`,
      });
    }
  });

export type WorkersConfig = z.output<typeof WorkersEnv>;
