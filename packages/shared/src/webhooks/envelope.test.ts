import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWebhookBody } from './envelope.ts';

const event = (over: Record<string, unknown> = {}, payload: unknown = undefined) => ({
  data: {
    type: 'event',
    id: 'evt_3KqH4xVnR2bPmYwL9sTgD3cE',
    attributes: {
      name: 'transaction.status-updated',
      'created-at': '2024-02-16T09:12:04.118Z',
      payload: payload ?? {
        data: {
          type: 'transaction',
          id: 'txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP',
          attributes: {
            status: 'approved',
            'reference-id': 'order-490020245',
            fields: {
              name_first: { type: 'string', value: 'PII-FIRST' },
              name_last: { type: 'string', value: 'PII-LAST' },
            },
            'created-at': '2024-02-15T23:48:17.732Z',
            'updated-at': '2024-02-16T09:12:04.118Z',
          },
          relationships: {
            'related-objects': { data: [{ type: 'account', id: 'act_9yGqWZ8jK4pN2dR7sVxL3bTm' }] },
          },
        },
        included: [{ type: 'account', id: 'act_9', attributes: { 'name-first': 'PII-INCLUDED' } }],
      },
      ...over,
    },
  },
});
const raw = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('parseWebhookBody', () => {
  it('When Persona sends a transaction event, then the summary holds ids, status and times, and no personal data', () => {
    const result = parseWebhookBody(raw(event()));
    expect(result).toEqual({
      kind: 'event',
      summary: {
        eventId: 'evt_3KqH4xVnR2bPmYwL9sTgD3cE',
        name: 'transaction.status-updated',
        createdAt: '2024-02-16T09:12:04.118Z',
        object: { type: 'transaction', id: 'txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP' },
        status: 'approved',
        updatedAt: '2024-02-16T09:12:04.118Z',
        transactionId: 'txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP',
        referenceId: 'order-490020245',
        // Accounts are shared between transactions: never linked to one.
        related: [],
        taggedRequestId: null,
        tagsSeen: false,
        source: 'webhook',
      },
    });
    expect(JSON.stringify(result)).not.toMatch(/PII-/);
  });

  it('When a verification event names its transaction, then the summary links to it', () => {
    const result = parseWebhookBody(
      raw(
        event(
          { name: 'verification.passed' },
          {
            data: {
              type: 'verification/database',
              id: 'ver_1',
              attributes: { status: 'passed', 'completed-at': '2024-02-16T09:12:05.000Z' },
              relationships: { transaction: { data: { type: 'transaction', id: 'txn_1' } } },
            },
          },
        ),
      ),
    );
    expect(result).toMatchObject({
      kind: 'event',
      summary: {
        object: { id: 'ver_1' },
        status: 'passed',
        transactionId: 'txn_1',
        updatedAt: '2024-02-16T09:12:05.000Z',
        referenceId: null,
      },
    });
  });

  it('When an event name is unknown or the payload is odd, then it is still an event', () => {
    expect(
      parseWebhookBody(
        raw(event({ name: 'something.new' }, { data: { type: 'novelty', id: 'nov_1' } })),
      ).kind,
    ).toBe('event');
    expect(parseWebhookBody(raw(event({}, 'not an object')))).toMatchObject({
      kind: 'event',
      summary: { object: null, transactionId: null },
    });
  });

  describe("Persona's dialects", () => {
    const snake = (k: string) => k.replace(/-/g, '_');
    const camel = (k: string) => k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    /** Inflects every key, except inside `fields`, as a webhook configured so would. */
    const inflect = (v: unknown, f: (k: string) => string): unknown =>
      Array.isArray(v)
        ? v.map((x) => inflect(x, f))
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v).map(([k, x]) => [f(k), k === 'fields' ? x : inflect(x, f)]),
            )
          : v;
    const tagged = () =>
      event(
        {},
        {
          data: {
            type: 'transaction',
            id: 'trx-Opaque.Id_1',
            attributes: {
              status: 'needs review',
              'reference-id': 'user-7',
              fields: { 'name-first': { type: 'string', value: 'PII-KEBAB-FIELD' } },
              tags: ['vip', 'persona-pipeline:req_0123456789abcdef0123456789abcdef'],
              'updated-at': '2024-02-16T09:12:04.118Z',
            },
            relationships: {
              'related-objects': {
                data: [
                  { type: 'account', id: 'act_1' },
                  { type: 'inquiry', id: 'inq_1' },
                  { type: 'verification/database', id: 'vrf-1' },
                  { type: 'report/watchlist', id: 'rpt-1' },
                ],
              },
            },
          },
        },
      );

    it.each([
      ['kebab-case', (k: string) => k],
      ['snake_case', snake],
      ['camelCase', camel],
    ])(
      'When the webhook sends %s keys, then the summary is the same, with only verifications and reports related and our tag read',
      (_label, f) => {
        const result = parseWebhookBody(raw(inflect(tagged(), f)));
        expect(result).toEqual({
          kind: 'event',
          summary: {
            eventId: 'evt_3KqH4xVnR2bPmYwL9sTgD3cE',
            name: 'transaction.status-updated',
            createdAt: '2024-02-16T09:12:04.118Z',
            object: { type: 'transaction', id: 'trx-Opaque.Id_1' },
            status: 'needs review',
            updatedAt: '2024-02-16T09:12:04.118Z',
            transactionId: 'trx-Opaque.Id_1',
            referenceId: 'user-7',
            related: [
              { type: 'verification/database', id: 'vrf-1' },
              { type: 'report/watchlist', id: 'rpt-1' },
            ],
            taggedRequestId: 'req_0123456789abcdef0123456789abcdef',
            tagsSeen: true,
            source: 'webhook',
          },
        });
        expect(JSON.stringify(result)).not.toMatch(/PII-|vip/);
      },
    );

    it('When a verification event comes in camelCase with other id prefixes, then it names its transaction', () => {
      const body = inflect(
        event(
          { name: 'verification.passed' },
          {
            data: {
              type: 'verification/database',
              id: 'verif-9',
              attributes: { status: 'passed', 'completed-at': '2024-02-16T09:12:05.000Z' },
              relationships: { transaction: { data: { type: 'transaction', id: 'tx-9' } } },
            },
          },
        ),
        camel,
      );
      expect(parseWebhookBody(raw(body))).toMatchObject({
        kind: 'event',
        summary: {
          object: { id: 'verif-9' },
          transactionId: 'tx-9',
          updatedAt: '2024-02-16T09:12:05.000Z',
          tagsSeen: false,
        },
      });
    });
  });

  it.each([
    ['not JSON', Buffer.from('{"data":')],
    ['a JSON array', raw([1, 2])],
    ['no data', raw({})],
    ['a data.type other than event', raw({ data: { ...event().data, type: 'inquiry' } })],
    ['an id with a colon', raw({ data: { ...event().data, id: 'evt:1' } })],
    ['an id of digits only', raw({ data: { ...event().data, id: '12345' } })],
    ['an id too long', raw({ data: { ...event().data, id: 'e'.repeat(129) } })],
    ['no event name', raw(event({ name: '' }))],
    ['a bad created-at', raw(event({ 'created-at': 'yesterday' }))],
  ])('When the body is %s, then it is not a Persona event', (_label, body) => {
    expect(parseWebhookBody(body)).toEqual({ kind: 'not_an_event' });
  });

  describe('fuzzing', () => {
    it('When bytes are arbitrary, then parsing never throws', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
          expect(() => parseWebhookBody(Buffer.from(bytes))).not.toThrow();
        }),
        { numRuns: 3000 },
      );
    });

    it('When JSON is arbitrary (deep, __proto__ keys, odd types), then parsing never throws and never pollutes prototypes', () => {
      const evil = fc.letrec((tie) => ({
        node: fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue(),
          fc.dictionary(
            fc.constantFrom(
              '__proto__',
              'constructor',
              'prototype',
              'data',
              'attributes',
              'payload',
              'id',
              'type',
              'name',
              'polluted',
            ),
            tie('node'),
            { maxKeys: 6 },
          ),
        ),
      }));
      fc.assert(
        fc.property(evil.node, fc.boolean(), (value, wrap) => {
          const json = JSON.stringify(
            wrap
              ? {
                  data: {
                    type: 'event',
                    id: 'evt_x',
                    attributes: { name: 'n', 'created-at': '2024-01-01T00:00:00Z', payload: value },
                  },
                }
              : value,
          );
          expect(() => parseWebhookBody(Buffer.from(json ?? 'null'))).not.toThrow();
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }),
        { numRuns: 3000 },
      );
      const polluting = Buffer.from(
        '{"__proto__":{"polluted":1},"data":{"__proto__":{"polluted":2},"type":"event","id":"evt_p","attributes":{"name":"n","created-at":"2024-01-01T00:00:00Z","payload":{"__proto__":{"polluted":3}}}}}',
      );
      expect(parseWebhookBody(polluting).kind).toBe('event');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('When nesting is very deep, then it is refused or parsed, never a crash', () => {
      const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      expect(() => parseWebhookBody(Buffer.from(deep))).not.toThrow();
    });
  });
});
