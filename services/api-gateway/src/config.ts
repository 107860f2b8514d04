import { z } from 'zod';
import { baseEnv, csv, port, positiveInt } from '@pp/shared';

export const GatewayEnv = z.object({
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
});

export type GatewayConfig = z.output<typeof GatewayEnv>;
