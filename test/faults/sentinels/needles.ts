/**
 * The sentinels: personal data and secrets that must appear nowhere once a request has
 * settled, the search for them, and the bodies that carry them.
 */

export const SENTINEL = {
  // Personal data, in `fields`.
  nameFirst: 'Sntlfirst-q8m3',
  nameLast: 'sntllast-q8m3',
  birthdate: '1899-07-23',
  email: 'sntl.mail.q8m3@example.test',
  emailLocalPart: 'sntl.mail.q8m3',
  phone: '+44 7700 900461',
  phoneDigits: '7700900461',
  street: 'Sntlstreet-q8m3 12',
  city: 'sntlcity-q8m3',
  nested: 'sntlnested-q8m3',
  document: 'SNTLDOC-q8m3-0042',
  // What callers send alongside: their tags may name a person (envelope.ts keeps none), and
  // an Idempotency-Key is stored only as a hash.
  tag: 'sntl-tag-q8m3',
  idempotencyKey: 'sntl-idem-q8m3',
  // Secrets.
  gatewayToken: 'sntl-gateway-token-q8m3-0123456789',
  wrongToken: 'sntl-wrong-token-q8m3-0123456789',
  personaKey: 'persona_sandbox_sntlkeyq8m3',
  webhookSecret: 'wbhsec_sntlq8m3secret',
  wrongWebhookSecret: 'wbhsec_sntlq8m3wrongsecret',
  adminPassword: 'sntl-admin-password-q8m3',
  redisPassword: 'sntl-redis-password-q8m3',
} as const;
export const ADMIN_USER = 'ops';
const adminBasicAuth = Buffer.from(`${ADMIN_USER}:${SENTINEL.adminPassword}`).toString('base64');
const NEEDLES: [string, string][] = [
  ...Object.entries(SENTINEL),
  ['adminBasicAuth', adminBasicAuth],
];

/**
 * Reference ids are kept on purpose (README: action jobs carry `reference_id`; "a user id of
 * ours, not personal data"): the searches must find them in Redis, which shows they look.
 */
export const REF = 'sntlref-q8m3';

/** Which sentinels `text` holds (case-insensitively), with a little context for each. */
export function sentinelsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return NEEDLES.flatMap(([name, needle]) => {
    const at = lower.indexOf(needle.toLowerCase());
    return at < 0 ? [] : [`${name}: …${text.slice(Math.max(0, at - 120), at + 80)}…`];
  });
}

/** A person's `fields`, every value a sentinel. */
export const personalFields = () => ({
  name_first: SENTINEL.nameFirst,
  name_last: SENTINEL.nameLast,
  birthdate: SENTINEL.birthdate,
  email_address: SENTINEL.email,
  phone_number: SENTINEL.phone,
  identification_number: SENTINEL.document,
  address: { street: SENTINEL.street, city: SENTINEL.city, geo: { note: SENTINEL.nested } },
  documents: [SENTINEL.document, { kind: 'passport', note: SENTINEL.nested }],
});

/** A transaction request carrying them, with a reference id of ours. */
export const personalBody = (ref: string, over: Record<string, unknown> = {}) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: personalFields(),
  reference_id: `${REF}-${ref}`,
  tags: [SENTINEL.tag],
  ...over,
});

/** Bull Board's login. */
export const basic = `Basic ${adminBasicAuth}`;
