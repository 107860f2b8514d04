import { z } from 'zod';
import {
  baseEnv,
  httpEnv,
  nonNegativeInt,
  port,
  positiveInt,
  readRoutingRules,
  routingEnv,
} from '@pp/shared';
import { gatewayApiKeys } from './callers.ts';

export const GatewayEnv = z
  .object({
    ...baseEnv,
    ...httpEnv,
    /** Port of the internal API. */
    GATEWAY_PORT: port(3000),
    /** Callers and their bearer tokens: `name:token,…` (a name may repeat during a rotation) or bare tokens. */
    GATEWAY_API_KEYS: gatewayApiKeys,
    /** Largest accepted request body, in bytes. */
    GATEWAY_MAX_BODY_BYTES: positiveInt(256 * 1024),
    /** How long an Idempotency-Key maps to its request, in seconds. */
    GATEWAY_IDEMPOTENCY_TTL_SECONDS: positiveInt(24 * 3600),
    /** Deadline for the Redis work behind one request; past it the caller gets 503. */
    GATEWAY_REDIS_TIMEOUT_MS: positiveInt(2000),
    /** Requests one caller may make a minute (429 with Retry-After past it); 0 turns the limit off. */
    GATEWAY_CALLER_RATE_PER_MINUTE: nonNegativeInt(1200),
    /**
     * Most requests waiting for Persona at once (429 past it): Persona takes 300 a minute, so
     * the default is two hours of work. 0 turns the cap off.
     */
    GATEWAY_MAX_BACKLOG: nonNegativeInt(36_000),
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
