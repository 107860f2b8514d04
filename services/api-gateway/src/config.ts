import { z } from 'zod';
import { baseEnv, csv, port, positiveInt, readRoutingRules, routingEnv } from '@pp/shared';

export const GatewayEnv = z
  .object({
    ...baseEnv,
    /** Port of the internal API. */
    GATEWAY_PORT: port(3000),
    /** Bearer tokens that internal callers present, comma-separated (two during a rotation). */
    GATEWAY_API_KEYS: csv('API key'),
    /** Largest accepted request body, in bytes. */
    GATEWAY_MAX_BODY_BYTES: positiveInt(256 * 1024),
    /** How long an Idempotency-Key maps to its request, in seconds. */
    GATEWAY_IDEMPOTENCY_TTL_SECONDS: positiveInt(24 * 3600),
    /** Deadline for the Redis work behind one request; past it the caller gets 503. */
    GATEWAY_REDIS_TIMEOUT_MS: positiveInt(2000),
    /** Time open requests get to finish on SIGTERM. */
    SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
    /** Bull Board's login (basic auth); without both the board is not mounted. */
    ADMIN_USERNAME: z.string().min(1).optional(),
    ADMIN_PASSWORD: z.string().min(1).optional(),
    /** `false` lets the board retry, clean and pause; read-only otherwise. */
    ADMIN_READ_ONLY: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    /** The board lists the business-action queues the routing rules name. */
    ...routingEnv,
  })
  .transform((env, ctx) => {
    const routingRules = readRoutingRules(env, ctx);
    return routingRules ? { ...env, routingRules } : z.NEVER;
  });

export type GatewayConfig = z.output<typeof GatewayEnv>;
