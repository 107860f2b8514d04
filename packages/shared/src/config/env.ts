import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { hashTag, isClusterUrl } from '../redis/cluster.ts';

/** Thrown by {@link parseConfig} with one line per problem, so every mistake shows at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses the environment through one schema. Empty strings count as unset, so
 * `FOO=` falls back to the default (or is reported as missing). The rules of
 * {@link baseEnv} that span two of its fields, which no service schema spreading it can
 * carry, are checked here too.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  ) as Record<string, string>;
  const fromFiles = readSecretFiles(cleaned);
  const result = schema.superRefine(redisClusterRule).safeParse(cleaned);
  const problems = [
    ...fromFiles,
    ...(result.success ? [] : result.error.issues).map((issue) => {
      const name = issue.path.join('.') || '(config)';
      return issue.code === 'invalid_type' && issue.input === undefined
        ? `${name}: is required`
        : `${name}: ${issue.message}`;
    }),
  ];
  if (result.success && problems.length === 0) return result.data;
  throw new ConfigError(problems);
}

/** Secrets that may come from a file instead (`X_FILE=/run/secrets/x`), for Docker and Kubernetes. */
const SECRET_VARIABLES = [
  'REDIS_URL',
  'GATEWAY_API_KEYS',
  'PERSONA_API_KEY',
  'PERSONA_WEBHOOK_SECRETS',
  'ADMIN_PASSWORD',
] as const;

/** Fills each secret from its `_FILE` (trailing newline dropped); returns the problems. */
function readSecretFiles(env: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      problems.push(`${name}_FILE: set ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      env[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  return problems;
}

/** A secret (token, webhook secret) long enough not to be guessed. */
export const MIN_SECRET_LENGTH = 16;

/**
 * A comma-separated list of secrets, each at least {@link MIN_SECRET_LENGTH} characters; the
 * message says which entry is short, never what it holds.
 */
export const secretList = (what: string) =>
  csv(what).superRefine((items, ctx) => {
    items.forEach((item, i) => {
      if (item.length >= MIN_SECRET_LENGTH) return;
      ctx.addIssue({
        code: 'custom',
        message: `${what} ${i + 1} is ${item.length} characters; use at least ${MIN_SECRET_LENGTH}`,
      });
    });
  });

/**
 * On a Redis Cluster, QUEUE_PREFIX must hold a hash tag (`{pp}`): BullMQ's scripts and ours,
 * and our MULTI blocks, touch several keys at once, which a cluster runs only when all of
 * them are in one slot. A config without both fields is left alone.
 */
function redisClusterRule(env: unknown, ctx: z.RefinementCtx<unknown>): void {
  if (typeof env !== 'object' || env === null) return;
  const { REDIS_URL: url, QUEUE_PREFIX: prefix } = env as Record<string, unknown>;
  if (typeof url !== 'string' || typeof prefix !== 'string') return;
  if (!isClusterUrl(url) || hashTag(prefix) !== null) return;
  ctx.addIssue({
    code: 'custom',
    path: ['QUEUE_PREFIX'],
    message: `must hold a hash tag such as {${prefix.replace(/[{}]/g, '') || 'pp'}} when REDIS_URL names a Redis Cluster (redis+cluster://): every key of a script or MULTI must be in one slot`,
  });
}

/** For `main.ts`: parse or print every problem and stop the process. */
export function loadConfigOrExit<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOSTS.has(hostname);

/** A comma-separated list; blanks around items are ignored. */
export const csv = (what: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .pipe(z.array(z.string()).min(1, `needs at least one ${what}`));

export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().default(fallback);

export const nonNegativeInt = (fallback: number) =>
  z.coerce.number().int().min(0).default(fallback);

const redisUrl = z
  .url({
    protocol: /^rediss?(\+cluster)?$/,
    error:
      'must be a redis:// or rediss:// URL (redis+cluster:// or rediss+cluster:// for a Redis Cluster)',
  })
  .default('redis://127.0.0.1:6379');

/** Every queue and key this project writes starts with it; `{name}` keeps a Redis Cluster on one slot. */
const queuePrefix = z
  .string()
  .regex(/^[A-Za-z0-9_.{}-]{1,64}$/, 'use 1-64 letters, digits, or _ . - { }')
  .default('pp');

const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

/** https, or http on a loopback host (the simulator). */
export const personaBaseUrl = z
  .url({ error: 'must be a URL' })
  .default('https://api.withpersona.com/api/v1')
  .superRefine((value, ctx) => {
    const url = new URL(value);
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
    ctx.addIssue({
      code: 'custom',
      message: 'must use https (plain http is allowed only for 127.0.0.1, localhost or ::1)',
    });
  })
  .transform((value) => value.replace(/\/+$/, ''));

/** The event gate's settings, shared by the receiver and the workers (which feed events through it too). */
export const eventGateEnv = {
  /** How long an event id is remembered as processed (Persona retries for about two days). */
  PERSONA_EVENT_DEDUPE_TTL_SECONDS: positiveInt(7 * 24 * 3600),
};

/** The settings every service shares. */
export const baseEnv = {
  /** Redis for queues, state and the rate limiter; `redis+cluster://` (`rediss+cluster://`) and one seed node for a Redis Cluster. */
  REDIS_URL: redisUrl,
  /** Prefix of every queue and key; lets deployments and test runs share one Redis. */
  QUEUE_PREFIX: queuePrefix,
  /** pino level. */
  LOG_LEVEL: logLevel,
  /** Where HTTP listeners bind: loopback by default; `0.0.0.0` in a container. */
  LISTEN_HOST: z.string().min(1).default('127.0.0.1'),
};

/** The HTTP services' guard against connection floods. */
export const httpEnv = {
  /** Open connections one process accepts at most; more are refused at once. */
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().positive().default(1000),
};
