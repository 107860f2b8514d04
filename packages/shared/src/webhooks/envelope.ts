import { z } from 'zod';

/**
 * A Persona event reduced to what routing and state need: ids, names, statuses and times.
 * No attribute that can hold personal data (fields, names, addresses, documents) is kept;
 * this is what goes into Redis and Bull Board.
 */
export const eventSummary = z.object({
  eventId: z.string().regex(/^evt_[A-Za-z0-9_-]{1,200}$/),
  name: z.string().min(1).max(200),
  /** `data.attributes.created-at` of the event: the order of events. */
  createdAt: z.string(),
  /** The object the event is about (`payload.data`). */
  object: z.object({ type: z.string().max(200), id: z.string().max(200) }).nullable(),
  /** The object's `status` after the event. */
  status: z.string().max(200).nullable(),
  /** The object's `updated-at` (or `completed-at`): breaks ties between events of one instant. */
  updatedAt: z.string().nullable(),
  /** The Persona transaction the event belongs to, when the payload says. */
  transactionId: z.string().max(200).nullable(),
  /** The transaction's `reference-id` (a user id of ours, not personal data). */
  referenceId: z.string().max(1000).nullable(),
  /** The transaction's related objects (verifications, reports, ...), ids only. */
  related: z.array(z.object({ type: z.string().max(200), id: z.string().max(200) })).max(200),
  source: z.enum(['webhook', 'reconciliation']),
});
export type EventSummary = z.output<typeof eventSummary>;

const ref = z.looseObject({ type: z.string(), id: z.string() });
const str = z.string().nullish().catch(null);

/** Only the fields we read; everything else in the payload is ignored, not rejected. */
export const eventResource = z.looseObject({
  type: z.literal('event'),
  id: z.string().regex(/^evt_[A-Za-z0-9_-]{1,200}$/),
  attributes: z.looseObject({
    name: z.string().min(1).max(200),
    'created-at': z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
    payload: z
      .looseObject({
        data: z
          .looseObject({
            type: z.string(),
            id: z.string(),
            attributes: z
              .looseObject({
                status: str,
                'updated-at': str,
                'completed-at': str,
                'reference-id': str,
              })
              .nullish()
              .catch(null),
            relationships: z
              .looseObject({
                transaction: z.looseObject({ data: ref.nullish() }).nullish().catch(null),
                'related-objects': z
                  .looseObject({ data: z.array(ref).nullish() })
                  .nullish()
                  .catch(null),
              })
              .nullish()
              .catch(null),
          })
          .nullish()
          .catch(null),
      })
      .nullish()
      .catch(null),
  }),
});
export type EventResource = z.output<typeof eventResource>;

export const webhookBody = z.looseObject({ data: eventResource });

/** Builds the summary of one event resource (a webhook's `data`, or an item of `GET /events`). */
export function summarizeEvent(event: EventResource, source: EventSummary['source']): EventSummary {
  const { name } = event.attributes;
  const object = event.attributes.payload?.data ?? null;
  const attrs = object?.attributes ?? null;
  const isTransaction = object?.type === 'transaction';
  const related = object?.relationships?.['related-objects']?.data ?? [];
  return {
    eventId: event.id,
    name,
    createdAt: new Date(Date.parse(event.attributes['created-at'])).toISOString(),
    object: object ? { type: object.type, id: object.id } : null,
    status: attrs?.status ?? null,
    updatedAt: attrs?.['updated-at'] ?? attrs?.['completed-at'] ?? null,
    transactionId: isTransaction
      ? object.id
      : (object?.relationships?.transaction?.data?.id ?? null),
    referenceId: isTransaction ? (attrs?.['reference-id'] ?? null) : null,
    related: (isTransaction ? related : []).slice(0, 100).map((r) => ({ type: r.type, id: r.id })),
    source,
  };
}

export type EnvelopeResult = { ok: true; summary: EventSummary } | { ok: false };

/** Parses a verified webhook body. Never throws; anything that is not a Persona event is `{ ok: false }`. */
export function parseWebhookBody(raw: Buffer): EnvelopeResult {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false };
  }
  const parsed = webhookBody.safeParse(json);
  if (!parsed.success) return { ok: false };
  const summary = eventSummary.safeParse(summarizeEvent(parsed.data.data, 'webhook'));
  return summary.success ? { ok: true, summary: summary.data } : { ok: false };
}
