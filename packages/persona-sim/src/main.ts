import { z } from 'zod';
import { csv, loadConfigOrExit, nonNegativeInt, port, positiveInt } from '@pp/shared';
import { INFLECTIONS, PersonaSimulator, PERSONA_RETRY_DELAYS_MS, type IdKind } from './index.ts';

const share = z.coerce.number().min(0).max(1).default(0);
const ID_KINDS = ['transaction', 'event', 'verification', 'report', 'account', 'request'] as const;
/** `kind=prefix` pairs, e.g. `transaction=trx-,event=event`. */
const idPrefixes = z
  .string()
  .transform((s) => s.split(',').map((pair) => pair.split('=').map((x) => x.trim())))
  .pipe(z.array(z.tuple([z.enum(ID_KINDS), z.string().min(1)])))
  .transform((pairs) => Object.fromEntries(pairs) as Partial<Record<IdKind, string>>);

const Env = z
  .object({
    PERSONA_SIM_HOST: z.string().default('127.0.0.1'),
    PERSONA_SIM_PORT: port(4010),
    /** Bearer tokens the simulated environment accepts. */
    PERSONA_SIM_API_KEYS: csv('API key'),
    PERSONA_SIM_RATE_LIMIT: positiveInt(300),
    PERSONA_SIM_WINDOW_MS: positiveInt(60_000),
    PERSONA_SIM_DECISION_DELAY_MS: nonNegativeInt(1500),
    /** Where events are sent; no webhooks when unset. */
    PERSONA_SIM_WEBHOOK_URL: z.url().optional(),
    PERSONA_SIM_WEBHOOK_SECRETS: csv('secret').optional(),
    /** Delays between webhook attempts (ms); Persona's schedule by default. */
    PERSONA_SIM_WEBHOOK_RETRY_DELAYS_MS: z
      .string()
      .transform((s) => s.split(',').map((x) => Number(x.trim())))
      .pipe(z.array(z.number().int().nonnegative()))
      .optional(),
    PERSONA_SIM_DUPLICATE_RATE: share,
    PERSONA_SIM_REORDER_JITTER_MS: nonNegativeInt(0),
    PERSONA_SIM_SERVER_ERROR_RATE: share,
    PERSONA_SIM_DROP_RATE: share,
    PERSONA_SIM_LATENCY_RATE: share,
    PERSONA_SIM_LATENCY_MS: nonNegativeInt(0),
    PERSONA_SIM_RESET_RATE: share,
    PERSONA_SIM_NEIGHBOUR_PER_WINDOW: nonNegativeInt(0),
    /** Key casing of webhook bodies (the webhook's `api-key-inflection`). */
    PERSONA_SIM_WEBHOOK_INFLECTION: z.enum(INFLECTIONS).default('kebab'),
    /** `GET /transactions` and `GET /events` omit items younger than this. */
    PERSONA_SIM_LIST_LAG_MS: nonNegativeInt(0),
    /** Id prefixes other than Persona's (`kind=prefix,...`; separator included). */
    PERSONA_SIM_ID_PREFIXES: idPrefixes.optional(),
    /** Relate transactions to an Account per reference id, with account events. */
    PERSONA_SIM_ACCOUNTS: z.stringbool().default(false),
  })
  .superRefine((env, ctx) => {
    if (env.PERSONA_SIM_WEBHOOK_URL && !env.PERSONA_SIM_WEBHOOK_SECRETS) {
      ctx.addIssue({
        code: 'custom',
        path: ['PERSONA_SIM_WEBHOOK_SECRETS'],
        message: 'is required when PERSONA_SIM_WEBHOOK_URL is set (webhooks are always signed)',
      });
    }
  });

const env = loadConfigOrExit('persona-sim', Env);
const sim = new PersonaSimulator({
  apiKeys: env.PERSONA_SIM_API_KEYS,
  rateLimit: { limit: env.PERSONA_SIM_RATE_LIMIT, windowMs: env.PERSONA_SIM_WINDOW_MS },
  decisionDelayMs: env.PERSONA_SIM_DECISION_DELAY_MS,
  neighbour: { perWindow: env.PERSONA_SIM_NEIGHBOUR_PER_WINDOW },
  listLagMs: env.PERSONA_SIM_LIST_LAG_MS,
  accounts: env.PERSONA_SIM_ACCOUNTS,
  ...(env.PERSONA_SIM_ID_PREFIXES ? { idPrefixes: env.PERSONA_SIM_ID_PREFIXES } : {}),
  faults: {
    serverErrorRate: env.PERSONA_SIM_SERVER_ERROR_RATE,
    dropRate: env.PERSONA_SIM_DROP_RATE,
    latencyRate: env.PERSONA_SIM_LATENCY_RATE,
    latencyMs: env.PERSONA_SIM_LATENCY_MS,
    resetRate: env.PERSONA_SIM_RESET_RATE,
  },
  webhook: env.PERSONA_SIM_WEBHOOK_URL
    ? {
        url: env.PERSONA_SIM_WEBHOOK_URL,
        secrets: env.PERSONA_SIM_WEBHOOK_SECRETS ?? [],
        retryDelaysMs: env.PERSONA_SIM_WEBHOOK_RETRY_DELAYS_MS ?? PERSONA_RETRY_DELAYS_MS,
        duplicateRate: env.PERSONA_SIM_DUPLICATE_RATE,
        reorderJitterMs: env.PERSONA_SIM_REORDER_JITTER_MS,
        inflection: env.PERSONA_SIM_WEBHOOK_INFLECTION,
      }
    : null,
});
const url = await sim.listen(env.PERSONA_SIM_PORT, env.PERSONA_SIM_HOST);
process.stdout.write(
  `${JSON.stringify({ level: 30, time: new Date().toISOString(), service: 'persona-sim', url, webhooks: env.PERSONA_SIM_WEBHOOK_URL ?? null, msg: 'persona simulator listening' })}\n`,
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void sim.close().then(() => process.exit(0));
  });
}
