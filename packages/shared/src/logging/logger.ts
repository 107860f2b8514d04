import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Whole subtrees that may hold personal data or secrets. We never pass payloads to the
 * logger on purpose (we log ids, names and statuses only); these paths are the backstop.
 * pino paths are positional, so the shapes we actually log are listed.
 */
const REDACT_PATHS = [
  'fields',
  '*.fields',
  'payload',
  '*.payload',
  'included',
  '*.included',
  'body',
  '*.body',
  'headers.authorization',
  'headers["persona-signature"]',
  '*.headers.authorization',
  '*.headers["persona-signature"]',
  'req.headers.authorization',
  'req.headers["persona-signature"]',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
];

/** Values shaped like our secrets, masked in every line whatever key they sit under. */
const SECRET_VALUE =
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+|persona_(?:sandbox|production)_[A-Za-z0-9_-]+|wbhsec_[A-Za-z0-9_-]+/g;

const maskSecrets = (line: string): string =>
  line.replace(SECRET_VALUE, (_m: string, bearer: string | undefined) =>
    bearer ? `${bearer}[redacted]` : '[redacted]',
  );

/**
 * Errors are logged by type, message and code only: got's errors carry request options
 * (with the Authorization header) and response bodies, which must never reach a log.
 */
function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const base = stdSerializers.err(err);
  const out: Record<string, unknown> = { type: base.type, message: base.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (base.stack) out.stack = base.stack;
  return out;
}

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a capture stream. */
  destination?: DestinationStream;
}

export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      hooks: { streamWrite: maskSecrets },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
