import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Keys whose whole value may hold personal data or secrets, censored at the top of a line
 * and one level down (`fields`, `job.fields`). We never pass payloads to the logger on
 * purpose (we log ids, names and statuses only); this is the backstop.
 */
const CENSORED_KEYS = new Set([
  'fields',
  'payload',
  'included',
  'body',
  'apiKey',
  'token',
  'secret',
  'secrets',
]);
/** Headers censored in a `headers` object, at the top or one level down (`req.headers`). */
const CENSORED_HEADERS = ['authorization', 'persona-signature'];
const CENSOR = '[redacted]';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

function censorHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  if (!CENSORED_HEADERS.some((h) => headers[h] !== undefined)) return headers;
  const out = { ...headers };
  for (const h of CENSORED_HEADERS) if (out[h] !== undefined) out[h] = CENSOR;
  return out;
}

/**
 * A line's object with the censored keys replaced; the object itself when nothing is (the
 * common case costs one pass over its keys, where pino's path redaction cost ~10 µs a
 * line). Never changes the caller's object.
 */
export function censor(obj: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    let next = value;
    if (CENSORED_KEYS.has(key)) next = CENSOR;
    else if (isPlainObject(value)) {
      if (key === 'headers') next = censorHeaders(value);
      else if (depth === 0) next = censor(value, 1);
    }
    if (next !== value) {
      out ??= { ...obj };
      out[key] = next;
    }
  }
  return out ?? obj;
}

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
  const logger = pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: censor },
      serializers: { err: serializeError, error: serializeError },
      hooks: { streamWrite: maskSecrets },
    },
    destination ?? pino.destination({ sync: false }),
  );
  // pino formats a child's bindings with no formatter of ours: censor them here. Every
  // child inherits this `child` (pino's children are made with Object.create).
  // Unbound on purpose: `this` is whichever logger the child is made from.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, censor(bindings), options);
  } as Logger['child'];
  return logger;
}
