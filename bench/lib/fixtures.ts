import { randomBytes } from 'node:crypto';
import { personaSignature } from '@pp/persona-sim';

/** Secrets and tokens of the benchmark's services. */
export const GATEWAY_TOKEN = 'bench-gateway-token';
export const WEBHOOK_SECRET = 'wbhsec_bench_secret';
export const PERSONA_KEY = 'persona_sandbox_bench';

/** A run-unique tag for ids, so that runs never collide. */
export const runTag = (): string => randomBytes(4).toString('hex');

/** A Persona-style id: prefix and 28 base58-ish characters, unique per (tag, i). */
export const personaLikeId = (prefix: string, tag: string, i: number): string =>
  `${prefix}bench${tag}${String(i).padStart(19, '0')}`;

/** The body of the i-th `POST /v1/transactions`: the gateway's shape, a few realistic fields. */
export function transactionBody(tag: string, i: number): string {
  return JSON.stringify({
    transaction_type_id: 'txntp_2Hc4xGQ9wVbGZ4sZ5nPq7Ttm',
    fields: {
      name_first: 'Ada',
      name_last: 'Lovelace',
      birthdate: '1990-12-10',
      address_street_1: '12 St James Square',
      address_city: 'London',
      address_postal_code: 'SW1Y 4JH',
      address_country_code: 'GB',
      email_address: `ada.${tag}.${i}@example.com`,
    },
    reference_id: `user-${tag}-${i}`,
    tags: ['onboarding', 'bench'],
  });
}

export interface EventSpec {
  eventId: string;
  name: string;
  /** The event's created-at (its order). */
  createdAt: Date;
  transactionId: string;
  status: string;
  referenceId: string;
  /** Our request id, carried as our tag on the transaction. */
  requestId: string | null;
}

/**
 * A webhook body as the simulator (and Persona) sends it, kebab-case: a transaction event
 * with the transaction's fields, tags, a related database verification and a report, and
 * `included` objects. About 1.5 KB.
 */
export function eventBody(e: EventSpec): string {
  const at = e.createdAt.toISOString();
  const ver = `ver_${e.transactionId.slice(4)}`;
  const rep = `rep_${e.transactionId.slice(4)}`;
  return JSON.stringify({
    data: {
      type: 'event',
      id: e.eventId,
      attributes: {
        name: e.name,
        payload: {
          data: {
            type: 'transaction',
            id: e.transactionId,
            attributes: {
              status: e.status,
              'reference-id': e.referenceId,
              fields: {
                name_first: { type: 'string', value: 'Ada' },
                name_last: { type: 'string', value: 'Lovelace' },
                birthdate: { type: 'date', value: '1990-12-10' },
                address_country_code: { type: 'string', value: 'GB' },
              },
              tags: e.requestId
                ? ['onboarding', `persona-pipeline:${e.requestId}`]
                : ['onboarding'],
              'created-at': at,
              'updated-at': at,
            },
            relationships: {
              reviewer: { data: null },
              'transaction-label': { data: null },
              'transaction-type': {
                data: { type: 'transaction-type', id: 'txntp_2Hc4xGQ9wVbGZ4sZ5nPq7Ttm' },
              },
              'related-objects': {
                data: [
                  { type: 'verification/database', id: ver },
                  { type: 'report/watchlist', id: rep },
                ],
              },
            },
          },
          included: [
            {
              type: 'transaction-type',
              id: 'txntp_2Hc4xGQ9wVbGZ4sZ5nPq7Ttm',
              attributes: { name: 'KYC', 'field-schemas': [] },
            },
            {
              type: 'verification/database',
              id: ver,
              attributes: { status: 'passed', 'created-at': at, 'completed-at': at },
            },
            {
              type: 'report/watchlist',
              id: rep,
              attributes: { status: 'ready', 'created-at': at, 'completed-at': at },
            },
          ],
        },
        'created-at': at,
      },
    },
  });
}

export interface SignedEvent {
  eventId: string;
  body: string;
  signature: string;
}

/** Signs as Persona does (`t=<now>,v1=HMAC(secret, "t.body")`). */
export const signEvent = (eventId: string, body: string): SignedEvent => ({
  eventId,
  body,
  signature: personaSignature(body, [WEBHOOK_SECRET], Math.floor(Date.now() / 1000)),
});

/** `count` distinct signed events of unrelated transactions (the receiver benchmark's load). */
export function signedEvents(count: number): SignedEvent[] {
  const tag = runTag();
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const eventId = personaLikeId('evt_', tag, i);
    return signEvent(
      eventId,
      eventBody({
        eventId,
        name: 'transaction.status-updated',
        createdAt: new Date(now + i),
        transactionId: personaLikeId('txn_', tag, i),
        status: 'approved',
        referenceId: `user-${tag}-${i}`,
        requestId: null,
      }),
    );
  });
}

/** Fisher-Yates with a seeded PRNG: the same "reordering" every run. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
