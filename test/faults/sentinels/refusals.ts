import { personaSignature } from '@pp/persona-sim';
import { transactionEventBody } from '@pp/testing';
import { personalBody, personalFields, REF, SENTINEL } from './needles.ts';

/** What must be refused, sentinels in each: by the gateway, and by the webhook receiver. */

const post = (body: string, headers?: Record<string, string>): RequestInit => ({
  method: 'POST',
  body,
  ...(headers ? { headers } : {}),
});
const valid = JSON.stringify(personalBody('x'));

/** Requests the gateway refuses every way it can: path, request (fetch) options, status. */
export const gatewayRefusals: [string, RequestInit, number][] = [
  ['/v1/transactions', post(JSON.stringify(personalBody('x', { extra: SENTINEL.nested }))), 400],
  ['/v1/transactions', post(`{"fields": {"name_first": "${SENTINEL.nameFirst}"`), 400],
  ['/v1/transactions', post(valid, { authorization: `Bearer ${SENTINEL.wrongToken}` }), 401],
  ['/v1/transactions', post(valid, { 'content-type': 'text/plain' }), 415],
  ['/v1/transactions', post(JSON.stringify(personalBody('x', { note: 'n'.repeat(300_000) }))), 413],
  [
    '/v1/transactions',
    post(valid, { 'idempotency-key': `${SENTINEL.idempotencyKey} with spaces` }),
    400,
  ],
  ['/v1/transactions', post(valid, { 'content-encoding': 'gzip' }), 400],
  [`/v1/transactions/${encodeURIComponent(SENTINEL.email)}`, {}, 404],
  [`/v1/transactions/%E0%A4%A${SENTINEL.nameLast}`, {}, 400],
  [`/v1/transactions/${SENTINEL.nameFirst}/${SENTINEL.city}`, {}, 404],
  [`/v1/transaction/${encodeURIComponent(SENTINEL.email)}?q=${SENTINEL.street}`, {}, 404],
];

/** A Persona event about a transaction that is not ours, with sentinel fields. */
const event = (id: string) =>
  transactionEventBody(id, 'txn_sntlforeign', {
    status: 'approved',
    'reference-id': `${REF}-webhook`,
    fields: personalFields(),
    tags: [SENTINEL.tag],
  });

/**
 * Deliveries that must not get in (unsigned, signed with another secret, a MAC that is a
 * sentinel, signed too long ago, not an event), and one about a foreign transaction that
 * does: body, headers, status.
 */
export function webhookDeliveries(): [string, Record<string, string>, number][] {
  const now = Math.floor(Date.now() / 1000);
  const signed = (body: string, secret: string, t = now) => ({
    'persona-signature': personaSignature(body, [secret], t),
  });
  const notAnEvent = JSON.stringify({ fields: personalFields() });
  const foreign = event('evt_sntl_5');
  // Each body built once: what is signed is exactly what is sent, so only the secret (2)
  // or the age (4) can be why it is refused.
  const [e1, e2, e3, e4] = ['evt_sntl_1', 'evt_sntl_2', 'evt_sntl_3', 'evt_sntl_4'].map(event);
  return [
    [e1!, {}, 401],
    [e2!, signed(e2!, SENTINEL.wrongWebhookSecret), 401],
    [e3!, { 'persona-signature': `t=${now},v1=${SENTINEL.nameLast}` }, 401],
    [e4!, signed(e4!, SENTINEL.webhookSecret, now - 8 * 24 * 3600), 401],
    [notAnEvent, signed(notAnEvent, SENTINEL.webhookSecret), 400],
    [foreign, signed(foreign, SENTINEL.webhookSecret), 200],
  ];
}
