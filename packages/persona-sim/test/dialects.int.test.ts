import { describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import {
  call,
  callJson,
  createBody,
  dig,
  eventName,
  keysOutsideFields,
  SECRET,
  signedAt,
  useSimulator,
  type Doc,
  type EventDoc,
  type ListDoc,
} from './sim-harness.ts';

const h = useSimulator();

/** Field keys that would change if anything inflected them. */
const FIELDS = {
  'date-of-birth': '1990-01-01',
  name_first: 'Ada',
  homeAddress: { 'street-line': 'x' },
};

describe('key inflection', () => {
  it.each([
    [
      'snake',
      /-/,
      ['created_at', 'reference_id', 'related_objects', 'updated_at', 'field_schemas'],
    ],
    ['camel', /[-_]/, ['createdAt', 'referenceId', 'relatedObjects', 'updatedAt', 'fieldSchemas']],
  ] as const)(
    'When the webhook is configured %s, then every key but those inside fields is inflected, values are not, and the signature covers the bytes sent',
    async (inflection, forbidden, expected) => {
      const collector = await h.collector();
      const sim = await h.start({
        decisionDelayMs: 10,
        webhook: { url: collector.url, secrets: [SECRET], inflection },
      });
      await call(sim, 'POST', '/transactions', {
        body: createBody('inflected', { fields: FIELDS }),
      });
      await eventually(() => collector.received.length >= 5, { what: 'five webhooks' });

      const keys = new Set<string>();
      for (const { headers, body } of collector.received) {
        signedAt(headers, body);
        const doc = JSON.parse(body) as unknown;
        for (const k of keysOutsideFields(doc)) {
          expect(k).not.toMatch(forbidden);
          keys.add(k);
        }
      }
      expect([...keys]).toEqual(expect.arrayContaining([...expected]));

      const created = collector.received.find((r) => eventName(r.body) === 'transaction.created')!;
      const data = dig(JSON.parse(created.body), 'data', 'attributes', 'payload', 'data');
      expect(dig(data, 'attributes', 'fields')).toEqual({
        'date-of-birth': { type: 'string', value: '1990-01-01' },
        name_first: { type: 'string', value: 'Ada' },
        homeAddress: { type: 'hash', value: { 'street-line': 'x' } },
      });
      // Values keep their dashes: type names, event names, ids.
      const related = inflection === 'snake' ? 'transaction_type' : 'transactionType';
      expect(dig(data, 'relationships', related, 'data', 'type')).toBe('transaction-type');
      const names = collector.received.map((r) => eventName(r.body));
      expect(names).toContain('report/watchlist.ready');
    },
  );

  it('When the webhook has no inflection set, then bodies are kebab-case as before', async () => {
    const collector = await h.collector();
    const sim = await h.start({ webhook: { url: collector.url, secrets: [SECRET] } });
    await call(sim, 'POST', '/transactions', { body: createBody('kebab') });
    await eventually(() => collector.received.length >= 1, { what: 'a webhook' });
    const doc = JSON.parse(collector.received[0]!.body) as EventDoc;
    expect(doc.data.attributes['created-at']).toEqual(expect.any(String));
    expect(doc.data.attributes.payload.data.attributes['reference-id']).toBe('kebab');
  });

  it('When a request asks Key-Inflection camel or snake, then the response keys follow (fields excepted), and requests are read in any casing', async () => {
    const sim = await h.start({ decisionDelayMs: 10 });
    const camelRequest = JSON.stringify({
      data: {
        attributes: {
          transactionTypeId: 'txntp_KYC',
          referenceId: 'casing',
          fields: FIELDS,
          tags: ['vip'],
        },
      },
    });
    const created = await callJson(sim, 'POST', '/transactions', {
      body: camelRequest,
      key: 'camel-key',
      headers: { 'key-inflection': 'camel' },
    });
    expect(created.status).toBe(201);
    const id = dig(created.body, 'data', 'id') as string;
    expect(dig(created.body, 'data', 'attributes', 'referenceId')).toBe('casing');
    expect(dig(created.body, 'data', 'attributes', 'createdAt')).toEqual(expect.any(String));
    expect(dig(created.body, 'data', 'relationships', 'transactionType', 'data', 'id')).toBe(
      'txntp_KYC',
    );
    expect(Object.keys(dig(created.body, 'data', 'attributes', 'fields') as object)).toEqual(
      Object.keys(FIELDS),
    );

    // A replay is served in the casing of the request that asks.
    const replay = await callJson(sim, 'POST', '/transactions', {
      body: camelRequest,
      key: 'camel-key',
      headers: { 'key-inflection': 'snake' },
    });
    expect(dig(replay.body, 'data', 'id')).toBe(id);
    expect(dig(replay.body, 'data', 'attributes', 'reference_id')).toBe('casing');

    await eventually(() => sim.transactions.get(id)?.status === 'approved', { what: 'decision' });
    const fetched = await callJson(sim, 'GET', `/transactions/${id}`, {
      headers: { 'key-inflection': 'snake' },
    });
    expect(dig(fetched.body, 'data', 'attributes', 'updated_at')).toEqual(expect.any(String));
    expect(dig(fetched.body, 'data', 'relationships', 'related_objects', 'data')).toHaveLength(2);
    expect(dig(fetched.body, 'included', 0, 'attributes', 'field_schemas')).toEqual([]);
    expect(keysOutsideFields(fetched.body).filter((k) => k.includes('-'))).toEqual([]);

    // Query parameters are read in any casing too.
    await call(sim, 'POST', '/transactions', { body: createBody('someone-else') });
    const listed = await callJson(sim, 'GET', '/transactions?filter[reference_id]=casing', {
      headers: { 'key-inflection': 'camel' },
    });
    expect(dig(listed.body, 'data')).toHaveLength(1);
    expect(dig(listed.body, 'data', 0, 'id')).toBe(id);
    expect(dig(listed.body, 'data', 0, 'attributes', 'fields', 'date-of-birth')).toBeDefined();

    const events = await callJson(sim, 'GET', `/events?filter[objectId]=${id}`, {
      headers: { 'key-inflection': 'camel' },
    });
    expect(dig(events.body, 'data')).toHaveLength(2);
    expect(dig(events.body, 'data', 0, 'attributes', 'createdAt')).toEqual(expect.any(String));
    expect(dig(events.body, 'data', 0, 'attributes', 'payload', 'data', 'id')).toBe(id);

    const kebab = await callJson<Doc>(sim, 'GET', `/transactions/${id}`);
    expect(kebab.body.data.attributes['reference-id']).toBe('casing');
  });
});

describe('id prefixes', () => {
  it('When other prefixes are configured, then every id the simulator mints carries them', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      accounts: true,
      webhook: { url: collector.url, secrets: [SECRET] },
      idPrefixes: {
        transaction: 'trx-',
        event: 'event',
        verification: 'vrf-',
        report: 'rpt-',
        account: 'acct_',
        request: 'rq-',
      },
    });
    const created = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('p') });
    expect(created.body.data.id).toMatch(/^trx-[1-9A-HJ-NP-Za-km-z]{28}$/);
    expect(created.headers.get('request-id')).toMatch(/^rq-/);
    const id = created.body.data.id;
    await eventually(() => sim.transactions.get(id)?.status === 'approved', { what: 'decision' });
    expect(sim.events.every((e) => /^event[^_]/.test(e.id))).toBe(true);
    const related = sim.transactions.get(id)!.related.map((o) => o.id);
    expect(related).toEqual([
      expect.stringMatching(/^acct_/),
      expect.stringMatching(/^vrf-/),
      expect.stringMatching(/^rpt-/),
    ]);
    const one = await callJson<EventDoc>(sim, 'GET', `/events/${sim.events[0]!.id}`);
    expect(one.status).toBe(200);
    await eventually(() => collector.received.length === sim.events.length, { what: 'webhooks' });
  });
});

describe('normalised fields', () => {
  it('When normaliseFields is on, then strings come back trimmed, emails lower-cased and phones reduced, in the response and every later read', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      normaliseFields: true,
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    const fields = {
      name_full: '  Ada    Lovelace ',
      email_address: ' Ada.Lovelace@Example.COM ',
      phone_number: '+1 (555) 010-0000',
      birthdate: '1815-12-10',
      age: 36,
    };
    const normalised = {
      name_full: { type: 'string', value: 'Ada Lovelace' },
      email_address: { type: 'string', value: 'ada.lovelace@example.com' },
      phone_number: { type: 'string', value: '+15550100000' },
      birthdate: { type: 'string', value: '1815-12-10' },
      age: { type: 'integer', value: 36 },
    };
    const created = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('norm', { fields }),
    });
    expect(created.body.data.attributes.fields).toEqual(normalised);
    const id = created.body.data.id;
    const fetched = await callJson<Doc>(sim, 'GET', `/transactions/${id}`);
    expect(fetched.body.data.attributes.fields).toEqual(normalised);
    const listed = await callJson<ListDoc>(sim, 'GET', '/transactions');
    expect(listed.body.data[0]!.attributes.fields).toEqual(normalised);
    await eventually(() => collector.received.length >= 1, { what: 'transaction.created' });
    const hook = JSON.parse(collector.received[0]!.body) as EventDoc;
    expect(hook.data.attributes.payload.data.attributes.fields).toEqual(normalised);

    sim.normaliseFields = false;
    const raw = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('raw', { fields }),
    });
    expect(dig(raw.body.data.attributes.fields, 'name_full', 'value')).toBe(fields.name_full);
  });
});

describe('tags', () => {
  it('When a transaction carries the pipeline tag, then every read and webhook echoes it in attributes.tags', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    const tags = [`persona-pipeline:req_${'0123456789abcdef'.repeat(2)}`, 'checkout'];
    const created = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('tagged', { tags }),
    });
    expect(created.body.data.attributes.tags).toEqual(tags);
    const id = created.body.data.id;
    await eventually(() => collector.received.length >= 5, { what: 'five webhooks' });
    for (const { body } of collector.received) {
      const payload = (JSON.parse(body) as EventDoc).data.attributes.payload.data;
      if (payload.type === 'transaction') expect(payload.attributes.tags).toEqual(tags);
    }
    expect(
      (await callJson<Doc>(sim, 'GET', `/transactions/${id}`)).body.data.attributes.tags,
    ).toEqual(tags);
    const listed = await callJson<ListDoc>(sim, 'GET', '/transactions');
    expect(listed.body.data[0]!.attributes.tags).toEqual(tags);
  });
});
