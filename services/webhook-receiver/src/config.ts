import { z } from 'zod';
import { baseEnv, httpEnv, eventGateEnv, port, positiveInt, secretList } from '@pp/shared';

export const ReceiverEnv = z
  .object({
    ...baseEnv,
    ...httpEnv,
    /** Port Persona delivers webhooks to. */
    WEBHOOK_RECEIVER_PORT: port(3001),
    /** Webhook signing secrets (wbhsec_…), comma-separated; several during a rotation. */
    PERSONA_WEBHOOK_SECRETS: secretList('secret'),
    /**
     * Largest accepted |now - t| of a signature, in seconds; 0 turns the check off. Persona
     * documents none and its retries span about two days, so by default it is the dedupe
     * window: a replayed delivery is then always either too old or a known duplicate.
     */
    PERSONA_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).optional(),
    ...eventGateEnv,
    /** Largest accepted webhook body, in bytes. */
    WEBHOOK_MAX_BODY_BYTES: positiveInt(1024 * 1024),
    /** Deadline for the Redis work behind one delivery (Persona waits 5 s). */
    WEBHOOK_REDIS_TIMEOUT_MS: positiveInt(2000),
    /** Time open deliveries get to finish on SIGTERM. */
    SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  })
  .transform((env, ctx) => {
    const tolerance = env.PERSONA_WEBHOOK_TOLERANCE_SECONDS ?? env.PERSONA_EVENT_DEDUPE_TTL_SECONDS;
    if (tolerance > env.PERSONA_EVENT_DEDUPE_TTL_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['PERSONA_WEBHOOK_TOLERANCE_SECONDS'],
        message: `must not exceed PERSONA_EVENT_DEDUPE_TTL_SECONDS (${env.PERSONA_EVENT_DEDUPE_TTL_SECONDS}): a delivery replayed after its event id is forgotten would be processed again`,
      });
      return z.NEVER;
    }
    return { ...env, PERSONA_WEBHOOK_TOLERANCE_SECONDS: tolerance };
  });

export type ReceiverConfig = z.output<typeof ReceiverEnv>;
