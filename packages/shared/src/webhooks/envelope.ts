import { z } from 'zod';
import { personaId, requestId, requestIdFromTags } from '../persona/ids.ts';
import { inflected } from '../persona/inflection.ts';

/**
 * A Persona event reduced to what routing and state need: ids, names, statuses and times.
 * Fields added later have defaults, so that jobs and kept events written by an earlier
 * version still parse.
 * No attribute that can hold personal data (fields, names, addresses, documents, the
 * caller's tags) is kept; this is what goes into Redis and Bull Board.
 */
export const eventSummary = z.object({
  eventId: personaId,
  name: z.string().min(1).max(200),
  /** `data.attributes.created-at` of the event: the order of events. */
  createdAt: z.string(),
  /** The object the event is about (`payload.data`). */
  object: z.object({ type: z.string().max(200), id: personaId }).nullable(),
  /** The object's `status` after the event. */
  status: z.string().max(200).nullable(),
  /** The object's `updated-at` (or `completed-at`): breaks ties between events of one instant. */
  updatedAt: z.string().nullable(),
  /** The Persona transaction the event belongs to, when the payload says. */
  transactionId: personaId.nullable(),
  /** The transaction's `reference-id` (a user id of ours, not personal data). */
  referenceId: z.string().max(1000).nullable(),
  /** The transaction's verifications and reports, ids only (accounts and inquiries are shared). */
  related: z.array(z.object({ type: z.string().max(200), id: personaId })).max(200),
  /** Our request id, from the tag we put on every transaction we create. */
  taggedRequestId: requestId.nullable().default(null),
  /** The payload listed the transaction's tags (a webhook may leave them out). */
  tagsSeen: z.boolean().default(false),
  source: z.enum(['webhook', 'reconciliation', 'sweep']),
});
export type EventSummary = z.output<typeof eventSummary>;

const ref = inflected(z.looseObject({ type: z.string(), id: z.string() }));
const str = z.string().nullish().catch(null);
/** Parts we can do without are read leniently: an odd one becomes null, never a refusal. */
const lenient = <S extends z.ZodType>(schema: S) => inflected(schema).nullish().catch(null);

/** Only the fields we read, in any of Persona's key casings; the rest is ignored, not rejected. */
export const eventResource = z.looseObject({
  type: z.literal('event'),
  id: personaId,
  attributes: inflected(
    z.looseObject({
      name: z.string().min(1).max(200),
      'created-at': z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
      payload: lenient(
        z.looseObject({
          data: lenient(
            z.looseObject({
              type: z.string(),
              id: z.string(),
              attributes: lenient(
                z.looseObject({
                  status: str,
                  'updated-at': str,
                  'completed-at': str,
                  'reference-id': str,
                  tags: z.array(z.unknown()).nullish().catch(null),
                }),
              ),
              relationships: lenient(
                z.looseObject({
                  transaction: lenient(z.looseObject({ data: ref.nullish() })),
                  'related-objects': lenient(z.looseObject({ data: z.array(ref).nullish() })),
                }),
              ),
            }),
          ),
        }),
      ),
    }),
  ),
});
export type EventResource = z.output<typeof eventResource>;

const webhookBody = z.looseObject({ data: eventResource });

const safeId = (id: string | null | undefined): string | null =>
  id != null && personaId.safeParse(id).success ? id : null;

/** Verifications and reports belong to one transaction; accounts, inquiries and the rest are shared. */
export const isOwnedObjectType = (type: string): boolean =>
  type.startsWith('verification') || type.startsWith('report');

/** Builds the summary of one event resource (a webhook's `data`, or an item of `GET /events`). */
export function summarizeEvent(event: EventResource, source: EventSummary['source']): EventSummary {
  const { name } = event.attributes;
  const data = event.attributes.payload?.data ?? null;
  const objectId = safeId(data?.id);
  const object = data && objectId ? { type: data.type, id: objectId } : null;
  const attrs = data?.attributes ?? null;
  const isTransaction = object?.type === 'transaction';
  const related = isTransaction ? (data?.relationships?.['related-objects']?.data ?? []) : [];
  const tags = isTransaction ? (attrs?.tags ?? null) : null;
  return {
    eventId: event.id,
    name,
    createdAt: new Date(Date.parse(event.attributes['created-at'])).toISOString(),
    object,
    status: attrs?.status ?? null,
    updatedAt: attrs?.['updated-at'] ?? attrs?.['completed-at'] ?? null,
    transactionId: isTransaction ? object.id : safeId(data?.relationships?.transaction?.data?.id),
    referenceId: isTransaction ? (attrs?.['reference-id'] ?? null) : null,
    related: related
      .filter((r) => isOwnedObjectType(r.type) && safeId(r.id) !== null)
      .slice(0, 100)
      .map((r) => ({ type: r.type, id: r.id })),
    taggedRequestId: requestIdFromTags(tags),
    tagsSeen: tags !== null,
    source,
  };
}

export type EnvelopeResult = { kind: 'event'; summary: EventSummary } | { kind: 'not_an_event' };

/** Parses a verified webhook body. Never throws; anything that is not a Persona event is `not_an_event`. */
export function parseWebhookBody(raw: Buffer): EnvelopeResult {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { kind: 'not_an_event' };
  }
  const parsed = webhookBody.safeParse(json);
  if (!parsed.success) return { kind: 'not_an_event' };
  const summary = eventSummary.safeParse(summarizeEvent(parsed.data.data, 'webhook'));
  return summary.success ? { kind: 'event', summary: summary.data } : { kind: 'not_an_event' };
}
