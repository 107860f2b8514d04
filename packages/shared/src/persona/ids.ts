import { z } from 'zod';

/**
 * A Persona id (event, transaction, verification, report, transaction type, ...). Persona
 * treats id formats and prefixes as free to change (its versioning policy), so we check only
 * that the id is safe to use as a Redis key part and a BullMQ job id: letters, digits, `_`,
 * `-` and `.`, at most 128 characters, and not a number (BullMQ refuses integer job ids such
 * as `12`, and `NaN`, and takes one that reads as a negative number, `-1.` or `-01`, for one
 * of its error codes: such an event could never be stored).
 */
export const personaId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be 1-128 letters, digits, _ - or .')
  .refine((s) => s !== 'NaN' && Number.isNaN(Number(s)), 'must not be a number');

/** Our request id: `req_` and 32 hex digits, minted by the gateway. */
export const requestId = z.string().regex(/^req_[a-f0-9]{32}$/, 'must be a request id (req_…)');

/**
 * The tag we add to every Persona transaction we create (after the caller's own tags), so
 * that the transaction names its request wherever it travels: webhooks, lists, the dashboard.
 */
const REQUEST_TAG_PREFIX = 'persona-pipeline:';

export const requestTag = (id: string): string => `${REQUEST_TAG_PREFIX}${id}`;

/** Our request id, if one of the tags is ours. */
export function requestIdFromTags(tags: readonly unknown[] | null | undefined): string | null {
  for (const tag of tags ?? []) {
    if (typeof tag !== 'string' || !tag.startsWith(REQUEST_TAG_PREFIX)) continue;
    const id = tag.slice(REQUEST_TAG_PREFIX.length);
    if (requestId.safeParse(id).success) return id;
  }
  return null;
}
