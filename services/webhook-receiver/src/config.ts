import { z } from 'zod';
import { baseEnv, csv, port } from '@pp/shared';

export const ReceiverEnv = z.object({
  ...baseEnv,
  /** Port Persona delivers webhooks to. */
  WEBHOOK_RECEIVER_PORT: port(3001),
  /** Webhook signing secrets, comma-separated (two during a rotation). */
  PERSONA_WEBHOOK_SECRETS: csv('secret'),
});

export type ReceiverConfig = z.output<typeof ReceiverEnv>;
