/**
 * For showing jobs to people (Bull Board): whatever a payload or an error holds, only what is
 * known to be safe is shown. Object keys are allowlisted (ids, names, statuses, times,
 * counts); any other key's value is hidden. Free text (failure reasons, stack traces) keeps
 * its shape but loses what could be personal: quoted values, e-mail addresses, long numbers.
 */
const SAFE_KEYS = new Set([
  // ids
  'id',
  'requestId',
  'eventId',
  'event_id',
  'transactionId',
  'persona_transaction_id',
  'object_id',
  'objectIds',
  'correlationId',
  'correlation_id',
  'taggedRequestId',
  // names, kinds, statuses
  'name',
  'event_name',
  'type',
  'object',
  'object_type',
  'status',
  'persona_status',
  'source',
  'kind',
  'result',
  'reason',
  'related',
  'tagsSeen',
  'replay',
  'fannedOut',
  'skipped',
  'behind',
  // times and counts
  'createdAt',
  'updatedAt',
  'occurred_at',
  'parkedAt',
  'events',
  'pages',
  'queued',
]);

const EMAIL = /[^\s@"'<>()]+@[^\s@"'<>()]+\.[A-Za-z]{2,}/g;
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g;
const LONG_NUMBER = /\+?\d[\d\s().-]{6,}\d/g;
const MAX_TEXT = 2000;
/**
 * Words free text may keep: lowercase words, numbers and punctuation, our placeholders,
 * error codes (ETIMEDOUT), error class names (UnrecoverableError:) and a few names of
 * ours. A capitalised word could be someone's name, so any other one is masked.
 */
const SAFE_WORD =
  /^(?:[^A-Z@]*|\[(?:email|number)\][^A-Z]*|E[A-Z0-9]+[,:;.]?|(?:[A-Z][A-Za-z]*)?Error:?|(?:Persona|Redis|BullMQ|Idempotency-Key)[,:;.]?)$/;

/** Text shaped like an error message, with whatever could be personal masked. */
export function scrubText(text: string): string {
  return text
    .slice(0, MAX_TEXT)
    .replace(EMAIL, '[email]')
    .replace(QUOTED, '"…"')
    .replace(LONG_NUMBER, '[number]')
    .split(/(\s+)/)
    .map((word) => (/^\s*$/.test(word) || SAFE_WORD.test(word) ? word : '…'))
    .join('');
}

/** A stack trace: its message lines scrubbed, its frames (code locations) kept. */
export const scrubStack = (stack: string): string =>
  stack
    .split('\n')
    .map((line) => (/^\s+at /.test(line) ? line : scrubText(line)))
    .join('\n');

/** An id, a status, a time: one word of safe characters, shown as it is. */
const TOKEN = /^[A-Za-z0-9_.:+/-]{1,200}$/;

/** A copy of `value` that keeps allowlisted keys (their free text scrubbed) and hides the rest. */
export function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return TOKEN.test(value) ? value : scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(scrubValue);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SAFE_KEYS.has(k) ? scrubValue(v) : '[hidden]']),
  );
}
