import fc from 'fast-check';
import { canonicalJson } from '@pp/shared';
import { bulk, fieldKey, personaIdArb } from './pieces.ts';

/** Bodies for the gateway's POST /v1/transactions: valid, near-valid, broken and oversized. */

const isPersonaId = (s: unknown) =>
  typeof s === 'string' &&
  /^[A-Za-z0-9_.-]{1,128}$/.test(s) &&
  s !== 'NaN' &&
  Number.isNaN(Number(s));

const fieldValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fieldKey, fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.boolean()), {
    maxKeys: 5,
  }),
);

/** A request body the gateway must accept: well inside every documented bound. */
const validRequest = fc.record(
  {
    transaction_type_id: personaIdArb.filter(isPersonaId),
    fields: fc.oneof(
      { weight: 7, arbitrary: fc.dictionary(fieldKey, fieldValue, { maxKeys: 10 }) },
      // Bulky but in bounds: what a leak of request bodies would be made of.
      {
        weight: 3,
        arbitrary: bulk(2000, 9000).map((document) => ({ document_front: document })),
      },
    ),
    reference_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
    tags: fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }), { maxLength: 10 }),
  },
  { requiredKeys: ['transaction_type_id', 'fields'] },
);

const nest = (depth: number): unknown => (depth === 0 ? 'deep' : { n: nest(depth - 1) });

/** Ways to break a valid body, each one a 400. */
const breakage: fc.Arbitrary<(body: Record<string, unknown>) => void> = fc.oneof(
  fc.constant((b: Record<string, unknown>) => delete b.transaction_type_id),
  fc.constant((b: Record<string, unknown>) => delete b.fields),
  fc
    .constantFrom<unknown>('', 'a b', '123', '-1', 'x'.repeat(129), 'a:b', 42, null, ['x'], {})
    .map((v) => (b: Record<string, unknown>) => (b.transaction_type_id = v)),
  fc
    .constantFrom<unknown>([], ['a'], 'x', 1, null, true)
    .map((v) => (b: Record<string, unknown>) => (b.fields = v)),
  fc
    .tuple(
      fc
        .string({ maxLength: 30 })
        .filter(
          (k) =>
            !['transaction_type_id', 'fields', 'reference_id', 'tags', '__proto__'].includes(k),
        ),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(
      ([k, v]) =>
        (b: Record<string, unknown>) =>
          (b[k] = v),
    ),
  fc
    .constantFrom<unknown>('', 'r'.repeat(256), 1, null, {}, ['r'])
    .map((v) => (b: Record<string, unknown>) => (b.reference_id = v)),
  fc
    .constantFrom<unknown>('t', [''], Array(51).fill('t'), [1], ['t'.repeat(256)], null, {})
    .map((v) => (b: Record<string, unknown>) => (b.tags = v)),
  fc.constant((b: Record<string, unknown>) => (b.fields = { deep: nest(12) })),
  fc.constant(
    (b: Record<string, unknown>) =>
      (b.fields = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i]))),
  ),
  fc.constant((b: Record<string, unknown>) => (b.fields = { long: 'l'.repeat(10_001) })),
  fc.constant((b: Record<string, unknown>) => (b.fields = { ['k'.repeat(10_001)]: 1 })),
);

export interface PostBody {
  bytes: Buffer;
  kind: 'valid' | 'invalid' | 'oversize';
  /** Canonical JSON of a valid body: what an Idempotency-Key is bound to. */
  canonical?: string;
}

const textBody = (text: string, kind: PostBody['kind'] = 'invalid'): PostBody => ({
  bytes: Buffer.from(text, 'utf8'),
  kind,
});

export const postBody: fc.Arbitrary<PostBody> = fc.oneof(
  {
    weight: 50,
    arbitrary: fc
      .tuple(
        validRequest,
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: breakage },
        ),
        fc.boolean(),
      )
      .map(([request, broken, pretty]) => {
        const body: Record<string, unknown> = structuredClone(request);
        broken?.(body);
        const text = JSON.stringify(body, null, pretty ? 2 : undefined);
        return broken
          ? textBody(text)
          : { ...textBody(text, 'valid'), canonical: canonicalJson(body) };
      }),
  },
  // Cut short: never JSON.
  {
    weight: 5,
    arbitrary: fc
      .tuple(validRequest, fc.double({ min: 0, max: 0.999, noNaN: true }))
      .map(([request, at]) => {
        const text = JSON.stringify(request);
        return textBody(text.slice(0, Math.floor(text.length * at)));
      }),
  },
  { weight: 10, arbitrary: fc.jsonValue().map((v) => textBody(JSON.stringify(v) ?? 'null')) },
  { weight: 10, arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => textBody(s)) },
  {
    weight: 5,
    arbitrary: fc
      .uint8Array({ maxLength: 2000 })
      .map((b) => ({ bytes: Buffer.from(b), kind: 'invalid' as const })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 256 * 1024 + 1, max: 320 * 1024 }).map((size) => ({
      bytes: Buffer.from(
        JSON.stringify({ transaction_type_id: 'txntp_x', fields: { a: 'x'.repeat(size) } }),
      ),
      kind: 'oversize' as const,
    })),
  },
);
