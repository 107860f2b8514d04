import { describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import {
  call,
  callJson,
  createBody,
  SECRET,
  useSimulator,
  type Doc,
  type EventDoc,
  type ListDoc,
} from './sim-harness.ts';

const h = useSimulator();

const hookEvents = (received: { body: string }[]) =>
  received.map((r) => (JSON.parse(r.body) as EventDoc).data.attributes);

describe('another program on the same environment', () => {
  it('When it creates transactions, then they spend the shared window, run the workflow and their webhooks reach our endpoint', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      rateLimit: { limit: 5, windowMs: 60_000 },
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    const foreign = sim.createForeign(2, {
      tags: ['sim-decision:declined'],
      referenceId: 'their-user',
    });
    expect(foreign).toHaveLength(2);
    expect(sim.requests.map((r) => [r.method, r.status, r.counted])).toEqual([
      ['NEIGHBOUR', 201, true],
      ['NEIGHBOUR', 201, true],
    ]);
    const ours = await call(sim, 'GET', '/transactions');
    expect(ours.headers.get('ratelimit-remaining')).toBe('2');

    const ids = foreign.map((t) => t.id);
    await eventually(
      () =>
        hookEvents(collector.received).filter(
          (a) => a.name === 'transaction.status-updated' && ids.includes(a.payload.data.id),
        ).length === 2,
      { what: 'their decisions at our webhook' },
    );
    expect(ids.map((id) => sim.transactions.get(id)!.status)).toEqual(['declined', 'declined']);
    expect(sim.transactionsFor('their-user').every((t) => t.foreign)).toBe(true);
    const listed = await callJson<ListDoc>(sim, 'GET', '/transactions');
    expect(listed.body.data.map((t) => t.id)).toEqual([...ids].reverse());

    // One request is left in the window: its second create meets a 429, as ours would.
    expect(sim.createForeign(2)).toHaveLength(1);
    expect(sim.requests.at(-1)).toMatchObject({ method: 'NEIGHBOUR', status: 429, counted: false });
  });

  it('When a steady neighbour creates transactions, then they keep arriving until it is stopped', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      rateLimit: { limit: 100, windowMs: 1000 },
      neighbour: { perWindow: 20, createsTransactions: true },
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    await eventually(
      () =>
        hookEvents(collector.received).filter((a) => a.name === 'transaction.status-updated')
          .length >= 3,
      { what: 'three foreign decisions' },
    );
    expect([...sim.transactions.values()].every((t) => t.foreign)).toBe(true);
    sim.setNeighbour(0);
    const settled = sim.transactions.size;
    await eventually(() => sim.webhooks.deliveries.length >= sim.events.length, {
      what: 'pending webhooks',
    });
    expect(sim.transactions.size).toBe(settled);
  });
});

describe('accounts', () => {
  it('When transactions share a reference id, then they relate to one Account, included in reads, with account.created then account.added-relation', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      accounts: true,
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    const a = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('acct-user') });
    const b = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('acct-user') });
    const other = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('other') });
    const anonymous = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody(null) });

    const account = sim.accountFor('acct-user')!;
    expect(account).toMatchObject({ type: 'account', attributes: { 'reference-id': 'acct-user' } });
    expect(account.id).toMatch(/^act_/);
    const ref = { type: 'account', id: account.id };
    expect(a.body.data.relationships!['related-objects']!.data).toEqual([ref]);
    expect(b.body.data.relationships!['related-objects']!.data).toEqual([ref]);
    expect(other.body.data.relationships!['related-objects']!.data).not.toEqual([ref]);
    expect(anonymous.body.data.relationships!['related-objects']!.data).toEqual([]);

    const fetched = await callJson<Doc>(sim, 'GET', `/transactions/${b.body.data.id}`);
    expect(fetched.body.included).toContainEqual(expect.objectContaining(ref));

    const accountEvents = sim.events.filter((e) => e.name.startsWith('account.'));
    expect(accountEvents.map((e) => [e.name, e.object.attributes['reference-id']])).toEqual([
      ['account.created', 'acct-user'],
      ['account.added-relation', 'acct-user'],
      ['account.created', 'other'],
    ]);
    expect(accountEvents[1]!.context).toMatchObject({ 'target-txn-id': b.body.data.id });
    for (const e of accountEvents) expect(e.object.relationships).toBeUndefined();

    await eventually(() => sim.transactions.get(a.body.data.id)?.status === 'approved', {
      what: 'the workflow',
    });
    const verification = sim.events.find((e) => e.name === 'verification.passed')!;
    expect(verification.object.relationships).toEqual({
      transaction: { data: { type: 'transaction', id: a.body.data.id } },
    });
    await eventually(
      () =>
        hookEvents(collector.received).filter((x) => x.name.startsWith('account.')).length === 3,
      { what: 'account webhooks' },
    );
  });

  it('When accounts are off (the default), then transactions relate to none and no account event is sent', async () => {
    const sim = await h.start();
    const a = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('acct-user') });
    expect(a.body.data.relationships!['related-objects']!.data).toEqual([]);
    expect(sim.events.map((e) => e.name)).toEqual(['transaction.created']);
  });
});

describe('lists that lag', () => {
  it('When listLagMs is set, then new items are missing from GET /transactions and GET /events but found by id, until they settle', async () => {
    const sim = await h.start({ listLagMs: 300 });
    const created = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('lag') });
    const id = created.body.data.id;
    const list = async () => (await callJson<ListDoc>(sim, 'GET', '/transactions')).body.data;
    const events = async () =>
      (await callJson<ListDoc>(sim, 'GET', `/events?filter[object-id]=${id}`)).body.data;
    expect(await list()).toEqual([]);
    expect(await events()).toEqual([]);
    expect((await call(sim, 'GET', `/transactions/${id}`)).status).toBe(200);
    expect((await call(sim, 'GET', `/events/${sim.events[0]!.id}`)).status).toBe(200);
    await eventually(async () => (await list()).length === 1, { what: 'the list to catch up' });
    expect(await events()).toHaveLength(1);

    sim.listLagMs = 0;
    await call(sim, 'POST', '/transactions', { body: createBody('no-lag') });
    expect(await list()).toHaveLength(2);
  });
});

describe('GET /events', () => {
  it('When filtering by name, object id and id and paging, then newest first with links.next that chain', async () => {
    const sim = await h.start({ decisionDelayMs: 10 });
    const ids: string[] = [];
    for (const ref of ['e1', 'e2', 'e3']) {
      ids.push(
        (await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody(ref) })).body.data.id,
      );
    }
    await eventually(() => sim.events.length === 15, { what: 'three workflows' });
    const get = async (path: string) => (await callJson<ListDoc>(sim, 'GET', path)).body;

    const names = 'transaction.created,transaction.status-updated';
    const pages: string[] = [];
    let next: string | null = `/events?filter[name]=${names}&page[size]=4`;
    while (next) {
      const body: ListDoc = await get(next.replace(/^\/api\/v1/, ''));
      pages.push(...body.data.map((e) => e.id));
      next = body.links.next;
    }
    const expected = sim.events
      .filter((e) => names.split(',').includes(e.name))
      .map((e) => e.id)
      .reverse();
    expect(pages).toEqual(expected);

    const ofOne = await get(`/events?filter[object-id]=${ids[1]}`);
    expect(ofOne.data.map((e) => (e.attributes as EventDoc['data']['attributes']).name)).toEqual([
      'transaction.status-updated',
      'transaction.created',
    ]);
    const two = [sim.events[0]!.id, sim.events[7]!.id];
    expect((await get(`/events?filter[id]=${two.join(',')}`)).data.map((e) => e.id)).toEqual(
      [...two].reverse(),
    );
    for (const size of [0, 101]) {
      expect((await call(sim, 'GET', `/events?page[size]=${size}`)).status).toBe(400);
    }
  });
});
