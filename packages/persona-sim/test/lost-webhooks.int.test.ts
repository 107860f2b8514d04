import { describe, expect, it } from 'vitest';
import { eventually } from '@pp/testing';
import {
  call,
  callJson,
  createBody,
  eventId,
  SECRET,
  useSimulator,
  type Doc,
  type ListDoc,
} from './sim-harness.ts';

const h = useSimulator();

describe('a reviewer resolving needs_review later', () => {
  it.each(['needs_review', 'needs review'])(
    'When the workflow decides "%s" and the reviewer approves with the webhook lost, then the event is recorded and listed but never delivered',
    async (decision) => {
      const collector = await h.collector();
      const sim = await h.start({
        decisionDelayMs: 10,
        decide: () => decision,
        reviewer: { delayMs: 50, decision: 'approved', loseWebhook: true },
        webhook: { url: collector.url, secrets: [SECRET] },
      });
      const created = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('r') });
      const id = created.body.data.id;

      await eventually(() => sim.transactions.get(id)?.status === 'approved', {
        what: 'the reviewer',
      });
      const updates = sim.events.filter((e) => e.name === 'transaction.status-updated');
      expect(updates.map((e) => e.object.attributes.status)).toEqual([decision, 'approved']);
      const lostId = updates[1]!.id;
      expect(sim.webhooks.lost).toEqual([lostId]);

      // Every other event arrives; the reviewer's never does (it is never even attempted).
      await eventually(() => collector.received.length === sim.events.length - 1, {
        what: 'the other webhooks',
      });
      expect(collector.received.map((r) => eventId(r.body))).not.toContain(lostId);
      expect(sim.webhooks.deliveries.map((d) => d.eventId)).not.toContain(lostId);

      const listed = await callJson<ListDoc>(
        sim,
        'GET',
        '/events?filter[name]=transaction.status-updated',
      );
      expect(listed.body.data[0]!.id).toBe(lostId);
      expect((await call(sim, 'GET', `/events/${lostId}`)).status).toBe(200);
      expect(
        (await callJson<Doc>(sim, 'GET', `/transactions/${id}`)).body.data.attributes.status,
      ).toBe('approved');
    },
  );

  it('When the reviewer does not lose its webhook, then its status update is delivered; other decisions are left alone', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      reviewer: { delayMs: 20, decision: 'declined' },
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    const review = await callJson<Doc>(sim, 'POST', '/transactions', {
      body: createBody('review', { tags: ['sim-decision:needs_review'] }),
    });
    const plain = await callJson<Doc>(sim, 'POST', '/transactions', { body: createBody('plain') });
    await eventually(() => sim.transactions.get(review.body.data.id)?.status === 'declined', {
      what: 'the reviewer',
    });
    await eventually(() => collector.received.length === sim.events.length, { what: 'webhooks' });
    expect(sim.webhooks.lost).toEqual([]);
    expect(sim.transactions.get(plain.body.data.id)!.status).toBe('approved');
  });
});

describe('losing webhooks by predicate', () => {
  it('When loseWebhooks matches an event, then it is recorded but never sent, until the predicate is lifted', async () => {
    const collector = await h.collector();
    const sim = await h.start({
      decisionDelayMs: 10,
      loseWebhooks: (e) => e.name === 'verification.passed',
      webhook: { url: collector.url, secrets: [SECRET] },
    });
    await call(sim, 'POST', '/transactions', { body: createBody('first') });
    await eventually(() => sim.events.length === 5 && collector.received.length === 4, {
      what: 'four of five webhooks',
    });
    const lost = sim.events.find((e) => e.name === 'verification.passed')!;
    expect(sim.webhooks.lost).toEqual([lost.id]);
    expect(collector.received.map((r) => eventId(r.body))).not.toContain(lost.id);

    sim.loseWebhooks = null;
    await call(sim, 'POST', '/transactions', { body: createBody('second') });
    await eventually(() => collector.received.length === 9, { what: 'all five webhooks' });
    expect(sim.webhooks.lost).toEqual([lost.id]);
  });
});
