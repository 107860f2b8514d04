import fc from 'fast-check';
import { inflectKeys, type Inflection } from '@pp/persona-sim';
import { bulk, fieldKey, personaIdArb } from './pieces.ts';

/** The receiver's bodies: near-valid Persona events in any key casing, junk and oversized. */

/** Persona's ids and the ones it never sends (':' and integers break job ids). */
const eventIdArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 49 }).map((i) => `evt_fuzz_${i}`) },
  { weight: 4, arbitrary: personaIdArb },
  { weight: 1, arbitrary: fc.string({ maxLength: 140 }) },
);

/** A path in a (kebab-case) event document, and what to put there (undefined: delete it). */
const eventPaths = [
  ['data'],
  ['data', 'type'],
  ['data', 'id'],
  ['data', 'attributes'],
  ['data', 'attributes', 'name'],
  ['data', 'attributes', 'created-at'],
  ['data', 'attributes', 'payload'],
  ['data', 'attributes', 'payload', 'data'],
  ['data', 'attributes', 'payload', 'data', 'id'],
  ['data', 'attributes', 'payload', 'data', 'type'],
  ['data', 'attributes', 'payload', 'data', 'attributes'],
  ['data', 'attributes', 'payload', 'data', 'attributes', 'status'],
  ['data', 'attributes', 'payload', 'data', 'attributes', 'tags'],
  ['data', 'attributes', 'payload', 'data', 'relationships'],
  ['data', 'attributes', 'payload', 'data', 'relationships', 'related-objects', 'data'],
  ['data', 'attributes', 'payload', 'data', 'relationships', 'transaction', 'data'],
];

function setPath(doc: Record<string, unknown>, path: string[], value: unknown): void {
  let at: unknown = doc;
  for (const key of path.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return;
    at = (at as Record<string, unknown>)[key];
  }
  if (at === null || typeof at !== 'object') return;
  const last = path[path.length - 1]!;
  if (value === undefined) delete (at as Record<string, unknown>)[last];
  else (at as Record<string, unknown>)[last] = value;
}

const ref = fc.record({
  type: fc.constantFrom('verification/database', 'report/watchlist', 'account', 'transaction', 'x'),
  id: personaIdArb,
});

/** Mostly what Persona sends, sometimes anything. */
const mostly = <T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 8, arbitrary: usual }, { weight: 1, arbitrary: odd });

/** A Persona webhook body as Persona would send it, in any key casing, maybe broken once. */
const nearValidEvent = fc
  .record({
    style: fc.constantFrom<Inflection>('kebab', 'snake', 'camel'),
    id: eventIdArb,
    name: mostly(
      fc.constantFrom(
        'transaction.created',
        'transaction.status-updated',
        'verification.passed',
        'report/watchlist.ready',
        'account.created',
        'inquiry.completed',
      ),
      fc.string({ maxLength: 250 }),
    ),
    createdAt: mostly(
      fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.oneof(
        fc.constantFrom('2026-01-01', '0', 'now', '2026-13-45T99:99:99Z', ''),
        fc.string({ maxLength: 40 }),
      ),
    ),
    object: fc.option(
      fc.record({
        type: mostly(
          fc.constantFrom('transaction', 'verification/database', 'report/watchlist', 'account'),
          fc.string({ maxLength: 250 }),
        ),
        id: mostly(personaIdArb, fc.string({ maxLength: 140 })),
        status: fc.option(
          mostly(
            fc.constantFrom('approved', 'declined', 'needs_review', 'created', 'passed'),
            fc.string({ maxLength: 250 }),
          ),
        ),
        referenceId: fc.option(fc.string({ unit: 'binary', maxLength: 1100 })),
        tags: fc.option(
          fc.array(
            fc.oneof(
              fc.string({ maxLength: 60 }),
              fc.constant(`persona-pipeline:req_${'ab'.repeat(16)}`),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            { maxLength: 6 },
          ),
        ),
        updatedAt: fc.option(fc.string({ maxLength: 40 })),
        fields: fc.dictionary(fieldKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 }),
        transaction: fc.option(ref),
        related: fc.oneof(
          { weight: 9, arbitrary: fc.array(ref, { maxLength: 5 }) },
          { weight: 1, arbitrary: fc.array(ref, { minLength: 150, maxLength: 260 }) },
        ),
      }),
    ),
    breakage: fc.oneof(
      { weight: 3, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.constantFrom(...eventPaths),
          fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })),
        ),
      },
    ),
  })
  .map(({ style, id, name, createdAt, object, breakage: broken }) => {
    const doc: Record<string, unknown> = {
      data: {
        type: 'event',
        id,
        attributes: {
          name,
          'created-at': createdAt,
          payload: {
            data: object && {
              type: object.type,
              id: object.id,
              attributes: {
                status: object.status,
                'reference-id': object.referenceId,
                tags: object.tags,
                'updated-at': object.updatedAt,
                fields: object.fields,
              },
              relationships: {
                transaction: { data: object.transaction },
                'related-objects': { data: object.related },
              },
            },
            included: [],
          },
        },
      },
    };
    if (broken) setPath(doc, broken[0], broken[1]);
    return JSON.stringify(inflectKeys(doc, style));
  });

export const OVERSIZE = 1024 * 1024;
export const webhookBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 60, arbitrary: nearValidEvent.map((s) => Buffer.from(s)) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(nearValidEvent, bulk(5000, 60_000))
      .map(([s, bulk]) =>
        Buffer.from(s.replace(/"data":\{/, `"bulk":${JSON.stringify(bulk)},"data":{`)),
      ),
  },
  { weight: 10, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  {
    weight: 10,
    arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => Buffer.from(s)),
  },
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: OVERSIZE + 1, max: OVERSIZE + 64 * 1024 })
      .map((n) => Buffer.alloc(n, 'x')),
  },
);
