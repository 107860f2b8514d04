import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import { PersonaSimulator } from '../src/index.ts';
import { WebhookCollector } from './webhook-collector.ts';

/**
 * Every body the simulator serves or sends, validated against Persona's own OpenAPI spec
 * (the subset in ../openapi, extracted unedited from the 2025-12-08 bundle).
 */
type Spec = {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string }> }>>;
  components: { responses: Record<string, unknown> };
};
const spec = JSON.parse(
  readFileSync(new URL('../openapi/persona-2025-12-08.subset.json', import.meta.url), 'utf8'),
) as Spec;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema(spec, 'persona');

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** JSON pointer (inside `persona`) of the response schema for one operation and status. */
function responseSchema(path: string, method: string, status: number): string {
  const response = spec.paths[path]?.[method]?.responses[String(status)];
  if (!response) throw new Error(`spec has no ${status} for ${method} ${path}`);
  if (response.$ref) {
    const name = response.$ref.split('/').pop()!;
    return `persona#/components/responses/${escape(name)}/content/application~1json/schema`;
  }
  return `persona#/paths/${escape(path)}/${method}/responses/${status}/content/application~1json/schema`;
}

function expectConforms(pointer: string, body: unknown) {
  const validate = ajv.getSchema(pointer);
  if (!validate) throw new Error(`no schema at ${pointer}`);
  const ok = validate(body);
  expect(ok, `${pointer}\n${JSON.stringify(validate.errors, null, 2)}`).toBe(true);
}

const KEY = 'persona_sandbox_conformance';
let sim: PersonaSimulator;
let collector: WebhookCollector;

const call = async (
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
};

const create = (ref: string, extra: Record<string, unknown> = {}) => ({
  data: {
    attributes: {
      'transaction-type-id': 'txntp_KYC',
      'reference-id': ref,
      fields: {
        name_first: 'Ada',
        birthdate: '1815-12-10',
        age: 36,
        consent: true,
        address: { city: 'London' },
      },
      tags: ['vip'],
      ...extra,
    },
  },
});

beforeAll(async () => {
  collector = new WebhookCollector();
  await collector.listen();
  sim = new PersonaSimulator({
    apiKeys: [KEY],
    decisionDelayMs: 10,
    transactionTypes: { txntp_KYC: { requiredFields: ['name_first'] } },
    webhook: { url: collector.url, secrets: ['wbhsec_conformance'] },
  });
  await sim.listen();
});
afterAll(async () => {
  await sim.close();
  await collector.close();
});

describe('simulator bodies conform to the Persona OpenAPI spec', () => {
  it('When a transaction is created, fetched and listed, then each 2xx body matches its operation', async () => {
    const created = await call('POST', '/transactions', create('conf-1'), {
      'idempotency-key': 'conf-1',
    });
    expect(created.status).toBe(201);
    expectConforms(responseSchema('/transactions', 'post', 201), created.body);
    const id = (created.body as { data: { id: string } }).data.id;

    await eventually(() => sim.transactions.get(id)?.status === 'approved', { what: 'decision' });
    const fetched = await call('GET', `/transactions/${id}`);
    expectConforms(responseSchema('/transactions/{transaction-id}', 'get', 200), fetched.body);
    expect((fetched.body as { included: unknown[] }).included.length).toBeGreaterThan(0);

    const listed = await call('GET', '/transactions?page[size]=1');
    expectConforms(responseSchema('/transactions', 'get', 200), listed.body);

    const events = await call('GET', `/events?filter[object-id]=${id}`);
    expectConforms(responseSchema('/events', 'get', 200), events.body);
    const eventId = (events.body as { data: { id: string }[] }).data[0]!.id;
    const event = await call('GET', `/events/${eventId}`);
    expectConforms(responseSchema('/events/{event-id}', 'get', 200), event.body);
  });

  it('When Persona refuses, then 400, 401, 404, 409, 422 and 429 bodies match the spec', async () => {
    const bad = await call('POST', '/transactions', { data: {} });
    expect(bad.status).toBe(400);
    expectConforms(responseSchema('/transactions', 'post', 400), bad.body);

    const res401 = await fetch(`${sim.url}/transactions`, {
      headers: { authorization: 'Bearer nope' },
    });
    expectConforms(responseSchema('/transactions', 'post', 401), await res401.json());

    const missing = await call('GET', '/transactions/txn_nope');
    expect(missing.status).toBe(404);
    expectConforms(responseSchema('/transactions/{transaction-id}', 'get', 404), missing.body);

    const invalid = await call('POST', '/transactions', create('conf-2', { fields: {} }));
    expect(invalid.status).toBe(422);
    expectConforms(responseSchema('/transactions', 'post', 422), invalid.body);

    sim.faults = { ...sim.faults, latencyRate: 1, latencyMs: 300 };
    const [first, second] = await Promise.all([
      call('POST', '/transactions', create('conf-3'), { 'idempotency-key': 'in-flight' }),
      new Promise((r) => setTimeout(r, 100)).then(() =>
        call('POST', '/transactions', create('conf-3'), { 'idempotency-key': 'in-flight' }),
      ),
    ]);
    sim.faults = { ...sim.faults, latencyRate: 0 };
    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expectConforms(responseSchema('/transactions', 'post', 409), second.body);

    const limited = new PersonaSimulator({
      apiKeys: [KEY],
      rateLimit: { limit: 1, windowMs: 60_000 },
    });
    await limited.listen();
    try {
      const headers = { authorization: `Bearer ${KEY}` };
      await fetch(`${limited.url}/transactions`, { headers });
      const res429 = await fetch(`${limited.url}/transactions`, { headers });
      expect(res429.status).toBe(429);
      expectConforms(responseSchema('/transactions', 'get', 429), await res429.json());
    } finally {
      await limited.close();
    }
  });

  it('When webhooks are sent, then every body matches the webhook it claims to be', async () => {
    await eventually(() => collector.received.length >= 5, {
      what: 'webhooks of the first transaction',
    });
    const seen = new Set<string>();
    for (const { body } of collector.received) {
      const parsed = JSON.parse(body) as { data: { attributes: { name: string } } };
      const name = parsed.data.attributes.name;
      seen.add(name);
      expectConforms(
        `persona#/webhooks/${escape(name)}/post/requestBody/content/application~1json/schema`,
        parsed,
      );
    }
    expect([...seen].sort()).toEqual(
      [
        'report/watchlist.ready',
        'transaction.created',
        'transaction.status-updated',
        'verification.created',
        'verification.passed',
      ].sort(),
    );
  });

  it('When accounts and a quota are on, then account webhooks, reads with accounts and quota errors match the spec', async () => {
    const hooks = new WebhookCollector();
    await hooks.listen();
    const other = new PersonaSimulator({
      apiKeys: [KEY],
      decisionDelayMs: 10,
      accounts: true,
      quota: { limit: 2, windowMs: 60_000 },
      webhook: { url: hooks.url, secrets: ['wbhsec_conformance'] },
    });
    await other.listen();
    try {
      const post = async (ref: string) => {
        const res = await fetch(`${other.url}/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(create(ref)),
        });
        return { status: res.status, body: (await res.json()) as { data: { id: string } } };
      };
      const first = await post('conf-account');
      await post('conf-account');
      const fetched = await fetch(`${other.url}/transactions/${first.body.data.id}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      expectConforms(
        responseSchema('/transactions/{transaction-id}', 'get', 200),
        await fetched.json(),
      );

      const quota = await post('conf-quota');
      expect(quota.status).toBe(429);
      expectConforms(responseSchema('/transactions', 'post', 429), quota.body);
      other.setQuota({ limit: 0, windowMs: 60_000, status: 403 });
      const forbidden = await post('conf-quota');
      expect(forbidden.status).toBe(403);
      expectConforms(responseSchema('/transactions', 'post', 403), forbidden.body);

      await eventually(() => hooks.received.length >= 12, { what: 'two workflows and accounts' });
      const names = new Set<string>();
      for (const { body } of hooks.received) {
        const parsed = JSON.parse(body) as { data: { attributes: { name: string } } };
        names.add(parsed.data.attributes.name);
        expectConforms(
          `persona#/webhooks/${escape(parsed.data.attributes.name)}/post/requestBody/content/application~1json/schema`,
          parsed,
        );
      }
      expect(names).toContain('account.created');
      expect(names).toContain('account.added-relation');
    } finally {
      await other.close();
      await hooks.close();
    }
  });
});
