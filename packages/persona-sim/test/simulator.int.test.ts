import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import { PersonaSimulator, type SimulatorOptions } from '../src/index.ts';
import { WebhookCollector } from './webhook-collector.ts';

const KEY = 'persona_sandbox_sim_test';

let sim: PersonaSimulator | undefined;
let collector: WebhookCollector | undefined;
afterEach(async () => {
  await sim?.close();
  await collector?.close();
  sim = undefined;
  collector = undefined;
});

async function start(options: Partial<SimulatorOptions> = {}) {
  sim = new PersonaSimulator({ apiKeys: [KEY], decisionDelayMs: 60_000, ...options });
  await sim.listen();
  return sim;
}

const createBody = (ref = 'user-1', extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    data: {
      attributes: {
        'transaction-type-id': 'txntp_KYC',
        'reference-id': ref,
        fields: { name_first: 'Ada', age: 36, vip: true, score: 0.5 },
        ...extra,
      },
    },
  });

function call(
  s: PersonaSimulator,
  method: string,
  path: string,
  init: { body?: string; key?: string; token?: string } = {},
) {
  return fetch(`${s.url}${path}`, {
    method,
    headers: {
      ...(init.token === '' ? {} : { authorization: `Bearer ${init.token ?? KEY}` }),
      'content-type': 'application/json',
      ...(init.key ? { 'idempotency-key': init.key } : {}),
    },
    ...(init.body ? { body: init.body } : {}),
  });
}

describe('persona simulator', () => {
  describe('authentication', () => {
    it('When the bearer token is missing or wrong, then 401 with Persona titles, no rate-limit headers, nothing counted', async () => {
      const s = await start({ rateLimit: { limit: 1, windowMs: 60_000 } });
      const missing = await call(s, 'GET', '/transactions', { token: '' });
      expect(missing.status).toBe(401);
      expect(await missing.json()).toEqual({
        errors: [{ title: 'Must be authenticated to access this endpoint' }],
      });
      const wrong = await call(s, 'GET', '/transactions', { token: 'persona_sandbox_other' });
      expect(await wrong.json()).toEqual({ errors: [{ title: 'Token is invalid' }] });
      expect(wrong.headers.get('ratelimit-limit')).toBeNull();
      expect((await call(s, 'GET', '/transactions')).status).toBe(200);
    });
  });

  describe('fixed-window rate limit', () => {
    it('When the window is spent, then 429 "Rate limit exceeded" with headers, and the next window serves again', async () => {
      const s = await start({ rateLimit: { limit: 3, windowMs: 1000 } });
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await call(s, 'GET', '/transactions');
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-limit')).toBe('3');
        expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThan(55); // sixtieths of the 1 s window
        remaining.push(res.headers.get('ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const limited = await call(s, 'POST', '/transactions', { body: createBody(), key: 'k-429' });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect(await limited.json()).toEqual({
        errors: [
          {
            title: 'Rate limit exceeded',
            details: expect.stringContaining('rate limit of 3 requests / min'),
          },
        ],
      });
      // Wait the reset Persona announced; a 429 was not stored against the key.
      await eventually(async () => (await call(s, 'GET', '/transactions')).status === 200, {
        what: 'window reset',
      });
      const created = await call(s, 'POST', '/transactions', { body: createBody(), key: 'k-429' });
      expect(created.status).toBe(201);
    });
  });

  describe('idempotency', () => {
    it('When the same key and body come again, then the first response is replayed and one transaction exists', async () => {
      const s = await start();
      const a = (await (
        await call(s, 'POST', '/transactions', { body: createBody(), key: 'same' })
      ).json()) as { data: { id: string } };
      const b = await call(s, 'POST', '/transactions', { body: createBody(), key: 'same' });
      expect(b.status).toBe(201);
      expect(((await b.json()) as { data: { id: string } }).data.id).toBe(a.data.id);
      expect(s.transactions.size).toBe(1);
      expect(s.requests.at(-1)!.replay).toBe(true);
    });

    it('When the same key comes with another body, then 400 "Idempotency error"', async () => {
      const s = await start();
      await call(s, 'POST', '/transactions', { body: createBody('a'), key: 'reused' });
      const res = await call(s, 'POST', '/transactions', { body: createBody('b'), key: 'reused' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { title: string }[] }).errors[0]!.title).toBe(
        'Idempotency error',
      );
      expect(s.transactions.size).toBe(1);
    });

    it('When the first answer was a 5xx, then the key replays that 5xx even after Persona recovers', async () => {
      const s = await start({ faults: { serverErrorRate: 1, serverErrorAfterCreateShare: 0 } });
      expect(
        (await call(s, 'POST', '/transactions', { body: createBody(), key: 'poisoned' })).status,
      ).toBe(500);
      s.faults.serverErrorRate = 0;
      const again = await call(s, 'POST', '/transactions', { body: createBody(), key: 'poisoned' });
      expect(again.status).toBe(500);
      expect(await again.json()).toEqual({ errors: [{ title: 'Internal Server Error' }] });
      expect(s.transactions.size).toBe(0);
      expect(
        (await call(s, 'POST', '/transactions', { body: createBody(), key: 'fresh' })).status,
      ).toBe(201);
    });

    it('When a 5xx happens after creating, then the transaction exists though the caller saw 500', async () => {
      const s = await start({ faults: { serverErrorRate: 1, serverErrorAfterCreateShare: 1 } });
      expect(
        (await call(s, 'POST', '/transactions', { body: createBody('hidden'), key: 'k' })).status,
      ).toBe(500);
      expect(s.transactionsFor('hidden')).toHaveLength(1);
    });

    it('When a 401 comes first, then it is not stored and the key still creates', async () => {
      const s = await start();
      expect(
        (await call(s, 'POST', '/transactions', { body: createBody(), key: 'k401', token: 'bad' }))
          .status,
      ).toBe(401);
      expect(
        (await call(s, 'POST', '/transactions', { body: createBody(), key: 'k401' })).status,
      ).toBe(201);
    });

    it('When the response is dropped after creating, then the caller sees a reset and a retry with the key gets the stored 201', async () => {
      const s = await start({ faults: { dropRate: 1 } });
      await expect(
        call(s, 'POST', '/transactions', { body: createBody('dropped'), key: 'kd' }),
      ).rejects.toThrow();
      expect(s.transactionsFor('dropped')).toHaveLength(1);
      s.faults.dropRate = 0;
      const retry = await call(s, 'POST', '/transactions', {
        body: createBody('dropped'),
        key: 'kd',
      });
      expect(retry.status).toBe(201);
      expect(((await retry.json()) as { data: { id: string } }).data.id).toBe(
        s.transactionsFor('dropped')[0]!.id,
      );
    });

    it('When the connection is reset, then nothing is done, nothing is stored, and the key later creates', async () => {
      const s = await start({ faults: { resetRate: 1 } });
      await expect(
        call(s, 'POST', '/transactions', { body: createBody('reset'), key: 'kr' }),
      ).rejects.toThrow();
      expect(s.transactionsFor('reset')).toHaveLength(0);
      expect(s.requests.map((r) => r.status)).toEqual(['reset']);
      s.faults.resetRate = 0;
      const retry = await call(s, 'POST', '/transactions', {
        body: createBody('reset'),
        key: 'kr',
      });
      expect(retry.status).toBe(201);
      expect(s.transactionsFor('reset')).toHaveLength(1);
    });
  });

  describe('requests Persona refuses', () => {
    it('When the type is unknown or a required field is missing, then 404 and 422 with a source pointer', async () => {
      const s = await start({ transactionTypes: { txntp_KYC: { requiredFields: ['name_last'] } } });
      const unknown = await call(s, 'POST', '/transactions', {
        body: createBody('x', { 'transaction-type-id': 'txntp_NOPE' }),
      });
      expect(unknown.status).toBe(404);
      const missing = await call(s, 'POST', '/transactions', { body: createBody() });
      expect(missing.status).toBe(422);
      expect(await missing.json()).toEqual({
        errors: [
          {
            title: 'Unprocessable entity',
            details: 'fields.name_last is missing',
            source: { pointer: '/data/attributes/fields/name_last' },
          },
        ],
      });
    });

    it('When attributes come in snake_case, then they are read like kebab-case', async () => {
      const s = await start();
      const body = JSON.stringify({
        data: {
          attributes: { transaction_type_id: 'txntp_KYC', reference_id: 'snake', fields: { a: 1 } },
        },
      });
      expect((await call(s, 'POST', '/transactions', { body })).status).toBe(201);
      expect(s.transactionsFor('snake')[0]!.transactionTypeId).toBe('txntp_KYC');
    });
  });

  describe('lists and lookups', () => {
    it('When listing with filters and pages, then newest first with cursor links that chain', async () => {
      const s = await start();
      for (let i = 0; i < 5; i++)
        await call(s, 'POST', '/transactions', { body: createBody(i % 2 ? 'odd' : 'even') });
      const first = (await (
        await call(s, 'GET', '/transactions?filter[reference-id]=even&page[size]=2')
      ).json()) as {
        data: { id: string }[];
        links: { next: string | null };
      };
      const evens = s
        .transactionsFor('even')
        .map((t) => t.id)
        .reverse();
      expect(first.data.map((t) => t.id)).toEqual(evens.slice(0, 2));
      const next = await fetch(new URL(first.links.next!, s.origin), {
        headers: { authorization: `Bearer ${KEY}` },
      });
      const second = (await next.json()) as {
        data: { id: string }[];
        links: { next: string | null };
      };
      expect(second.data.map((t) => t.id)).toEqual(evens.slice(2));
      expect(second.links.next).toBeNull();
      const one = await call(s, 'GET', `/transactions/${evens[0]}`);
      expect(((await one.json()) as { data: { id: string } }).data.id).toBe(evens[0]);
      expect((await call(s, 'GET', '/transactions/txn_missing')).status).toBe(404);
    });
  });

  describe('workflow and webhooks', () => {
    it('When the workflow decides, then signed events arrive in order and the tag picks the decision', async () => {
      collector = new WebhookCollector();
      await collector.listen();
      const s = await start({
        decisionDelayMs: 10,
        webhook: { url: collector.url, secrets: ['wbhsec_test_one'] },
      });
      await call(s, 'POST', '/transactions', {
        body: createBody('dec', { tags: ['sim-decision:declined'] }),
      });
      await eventually(() => collector!.received.length >= 5, { what: 'five webhooks' });
      const names = collector.received.map(
        (r) =>
          (JSON.parse(r.body) as { data: { attributes: { name: string } } }).data.attributes.name,
      );
      const inOrder = [
        'transaction.created',
        'verification.created',
        'verification.failed',
        'report/watchlist.ready',
        'transaction.status-updated',
      ];
      // Deliveries run concurrently, so arrival order is not promised; creation order is.
      expect([...names].sort()).toEqual([...inOrder].sort());
      expect(s.events.map((e) => e.name)).toEqual(inOrder);
      const stamps = s.events.map((e) => e.createdAt);
      expect([...stamps].sort()).toEqual(stamps);
      expect(new Set(stamps).size).toBe(stamps.length);
      expect(s.transactionsFor('dec')[0]!.status).toBe('declined');
      for (const { headers, body } of collector.received) {
        const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['persona-signature']));
        expect(match).not.toBeNull();
        const expected = createHmac('sha256', 'wbhsec_test_one')
          .update(`${match![1]}.${body}`)
          .digest('hex');
        expect(match![2]).toBe(expected);
        expect(headers['persona-webhook-attempts-made']).toBe('1');
      }
    });

    it('When the receiver fails, then Persona retries on its schedule with attempt headers, and two secrets sign during a rotation', async () => {
      collector = new WebhookCollector();
      await collector.listen();
      collector.respond = (n) => (n === 1 ? 503 : 200);
      const s = await start({
        decisionDelayMs: 60_000,
        webhook: {
          url: collector.url,
          secrets: ['wbhsec_new', 'wbhsec_old'],
          retryDelaysMs: [20, 20],
        },
      });
      await call(s, 'POST', '/transactions', { body: createBody('retry') });
      await eventually(() => s.webhooks.deliveries.length >= 2, { what: 'a retried webhook' });
      const [first, second] = collector.received;
      expect(first!.body).toBe(second!.body);
      expect(second!.headers['persona-webhook-attempts-made']).toBe('2');
      expect(second!.headers['persona-webhook-attempts-left']).toBe('1');
      expect(String(second!.headers['persona-signature']).split(' ')).toHaveLength(2);
      expect(s.webhooks.deliveries.map((d) => d.outcome)).toEqual([503, 200]);
    });
  });
});
