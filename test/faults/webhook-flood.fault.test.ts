import { Agent, request } from 'node:http';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { personaSignature, type SimEvent, type SimTransaction } from '@pp/persona-sim';
import { actionPayload, catalog, type ActionPayload } from '@pp/shared';
import { eventually, seededRandom } from '@pp/testing';
import {
  FLEET_TOKEN,
  FLEET_WEBHOOK_SECRET,
  startFleet,
  transactionBody,
  type Fleet,
} from './fleet.ts';

/**
 * Persona delivers at least once and in no particular order. Here the test is Persona: it
 * collects every event the simulator's workflows and reviewers produce for a few hundred
 * requests, then sends 10,000 signed deliveries of them (each event several times, in a
 * seeded shuffle, many at once) to the receiver process, and checks what the business
 * side sees: one job per decision and the newest state, whatever came late.
 */

const REQUESTS = 300;
const DELIVERIES = 10_000;
const CONCURRENCY = 64;
const SEED = 0x5eedf00d;
const ACTION_QUEUES = ['actions-approve', 'actions-decline', 'actions-review'] as const;
type ActionQueue = (typeof ACTION_QUEUES)[number];
const QUEUE_OF: Record<string, ActionQueue> = {
  approved: 'actions-approve',
  declined: 'actions-decline',
  needs_review: 'actions-review',
};

/**
 * What happens to a request at Persona: the workflow's decision, then (for a review) the
 * reviewer's, or the same decision reported again by a second `status-updated`.
 */
interface Plan {
  workflow: 'approved' | 'declined' | 'needs_review';
  reviewer?: 'approved' | 'declined';
  repeated?: boolean;
}
const PLANS: Plan[] = [
  { workflow: 'approved' },
  { workflow: 'approved' },
  { workflow: 'declined' },
  { workflow: 'declined' },
  { workflow: 'needs_review', reviewer: 'approved' },
  { workflow: 'needs_review', reviewer: 'approved' },
  { workflow: 'needs_review', reviewer: 'declined' },
  { workflow: 'needs_review', reviewer: 'declined' },
  { workflow: 'approved', repeated: true },
  { workflow: 'declined', repeated: true },
];

interface View {
  status: string;
  persona_transaction_id: string | null;
  persona_status: string | null;
  events: { event_id: string; name: string; status: string | null; applied: boolean }[];
}

/** The webhook body Persona sends for an event (kebab-case, with the payload's `included`). */
const webhookBody = (e: SimEvent) =>
  JSON.stringify({
    data: {
      type: 'event',
      id: e.id,
      attributes: {
        name: e.name,
        payload: { data: e.object, included: e.included },
        'created-at': e.createdAt,
      },
    },
  });

/** The transaction an event is about: its object, or the object's `transaction` relationship. */
const transactionOf = (e: SimEvent): string => {
  if (e.object.type === 'transaction') return e.object.id;
  const rel = e.object.relationships?.transaction as { data?: { id?: string } } | undefined;
  return rel?.data?.id ?? '';
};

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

interface Answer {
  eventId: string;
  status: number;
  /** `accepted`, `duplicate`, or the error code. */
  outcome: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** A POST on a kept-alive connection: half the client CPU of `fetch`, for 10,000 of them. */
function post(url: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; retryAfter: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: Number(res.headers['retry-after'] ?? 1),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One delivery, as Persona makes it: signed at send time; a 503 is retried after its
 * Retry-After. Returns every answer.
 */
async function deliver(receiverUrl: string, event: SimEvent, raw: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let attempt = 1; ; attempt++) {
    const t = Math.floor(Date.now() / 1000);
    const res = await post(
      `${receiverUrl}/webhooks/persona`,
      {
        'content-type': 'application/json',
        'persona-signature': personaSignature(raw, [FLEET_WEBHOOK_SECRET], t),
        'persona-webhook-attempts-made': String(attempt),
      },
      raw,
    );
    const body = JSON.parse(res.body) as { status?: string; error?: { code?: string } };
    answers.push({
      eventId: event.id,
      status: res.status,
      outcome: body.status ?? body.error?.code ?? '?',
    });
    if (res.status !== 503 || attempt >= 10) return answers;
    await new Promise((r) => setTimeout(r, 1000 * res.retryAfter));
  }
}

describe('fault: a flood of duplicate and reordered webhook deliveries', () => {
  let fleet: Fleet | undefined;
  let queues: Queue[] = [];
  afterEach(async () => {
    agent.destroy();
    await Promise.all(queues.map((q) => q.close()));
    queues = [];
    await fleet?.close();
    fleet = undefined;
  });

  it(`When ${DELIVERIES} deliveries of ${REQUESTS} requests' events arrive duplicated, shuffled and concurrent, then each decision reaches its business queue once and every final state is the newest`, async () => {
    // Arrange: requests created and submitted; Persona decides; no webhook sent yet.
    fleet = await startFleet({ webhooks: false, workers: 2, sim: { decisionDelayMs: 100 } });
    const f = fleet;
    const plans = Array.from({ length: REQUESTS }, (_, i) => PLANS[i % PLANS.length]!);
    const ids: string[] = [];
    for (let i = 0; i < REQUESTS; i += 50) {
      const batch = await Promise.all(
        plans.slice(i, i + 50).map(async (plan, j) => {
          const body = {
            ...transactionBody(`flood-${i + j}`),
            tags: [`sim-decision:${plan.workflow}`],
          };
          const res = await f.post(body);
          expect(res.status).toBe(202);
          return ((await res.json()) as { id: string }).id;
        }),
      );
      ids.push(...batch);
    }
    await f.waitSettled(ids, 60_000);
    expect(new Set((await f.statuses(ids)).values())).toEqual(new Set(['submitted']));

    const txns: SimTransaction[] = plans.map((_, i) => {
      const found = f.sim.transactionsFor(`flood-${i}`);
      expect(found, `flood-${i}`).toHaveLength(1);
      return found[0]!;
    });
    await eventually(() => txns.every((t) => t.status !== 'created'), {
      timeoutMs: 30_000,
      what: "every workflow's decision",
    });
    txns.forEach((txn, i) => {
      const plan = plans[i]!;
      if (plan.reviewer) f.sim.setStatus(txn.id, plan.reviewer);
      if (plan.repeated) f.sim.setStatus(txn.id, plan.workflow);
    });

    const events = [...f.sim.events];
    const byTxn = new Map<string, SimEvent[]>(txns.map((t) => [t.id, []]));
    for (const e of events) byTxn.get(transactionOf(e))?.push(e);
    expect([...byTxn.values()].reduce((n, list) => n + list.length, 0)).toBe(events.length);
    // Persona's order is `created-at` (the simulator's stamps never tie): the last wins.
    const newest = (txnId: string) =>
      byTxn
        .get(txnId)!
        .filter((e) => e.object.type === 'transaction')
        .reduce((a, b) => (Date.parse(b.createdAt) > Date.parse(a.createdAt) ? b : a));
    txns.forEach((txn, i) => {
      const plan = plans[i]!;
      expect(newest(txn.id).object.attributes.status).toBe(plan.reviewer ?? plan.workflow);
      expect(txn.status).toBe(plan.reviewer ?? plan.workflow);
    });

    // Act: every event several times over, shuffled (seeded), many deliveries at once.
    const raw = new Map(events.map((e) => [e.id, webhookBody(e)]));
    const random = seededRandom(SEED);
    const deliveries = shuffle(
      Array.from({ length: DELIVERIES }, (_, i) => events[i % events.length]!),
      random,
    );
    const answers: Answer[][] = [];
    await pool(deliveries, CONCURRENCY, async (event) => {
      answers.push(await deliver(f.receiverUrl, event, raw.get(event.id)!));
    });

    // Assert: every delivery is answered 200 at once (copies of one event never wait on each
    // other: the gate stores and remembers in one step); each event was accepted exactly once.
    expect(answers).toHaveLength(DELIVERIES);
    const finals = answers.map((a) => a.at(-1)!);
    const notOk = finals.filter((a) => a.status !== 200);
    expect(notOk, 'deliveries not answered 200 in the end').toEqual([]);
    const interim = answers.flatMap((a) => a.slice(0, -1));
    expect(interim, 'answers that were retried').toEqual([]);
    const accepted = new Map<string, number>();
    for (const a of finals) {
      expect(['accepted', 'duplicate']).toContain(a.outcome);
      if (a.outcome === 'accepted') accepted.set(a.eventId, (accepted.get(a.eventId) ?? 0) + 1);
    }
    expect(accepted.size).toBe(events.length);
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);

    // Every event was processed by the workers, once: one job per event id, none failed.
    const eventsQueue = new Queue(catalog.personaEvents.name, {
      connection: { url: f.redis.url },
      prefix: f.prefix,
    });
    queues.push(eventsQueue);
    const counts = await eventually(
      async () => {
        const c = await eventsQueue.getJobCounts();
        const pending =
          (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
        return pending === 0 && (c.completed ?? 0) + (c.failed ?? 0) >= events.length
          ? c
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every event processed' },
    );
    expect(counts.completed).toBe(events.length);
    expect(counts.failed).toBe(0);

    // Each request's state is the newest event's, and its history holds every event once.
    const views = new Map<string, View>();
    await pool(ids, 32, async (id) => {
      const res = await fetch(`${f.gatewayUrl}/v1/transactions/${id}`, {
        headers: { authorization: `Bearer ${FLEET_TOKEN}` },
      });
      expect(res.status).toBe(200);
      views.set(id, (await res.json()) as View);
    });
    let lateAndStale = 0;
    ids.forEach((id, i) => {
      const txn = txns[i]!;
      const v = views.get(id)!;
      const expected = byTxn.get(txn.id)!;
      expect(v.persona_transaction_id).toBe(txn.id);
      expect(v.persona_status, `${id} (flood-${i})`).toBe(newest(txn.id).object.attributes.status);
      expect(v.events.map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.id).sort());
      expect(v.events.find((e) => e.event_id === newest(txn.id).id)?.applied).toBe(true);
      lateAndStale += v.events.filter(
        (e) => e.name === 'transaction.status-updated' && !e.applied,
      ).length;
    });
    // The shuffle did bring older statuses after newer ones (else this proved nothing).
    expect(lateAndStale).toBeGreaterThan(10);

    // Business-action queues: the final decision once, in its queue; a review at most once
    // (only if it was applied before the reviewer's decision overtook it); nothing else.
    const jobs = new Map<ActionQueue, ActionPayload[]>();
    for (const name of ACTION_QUEUES) {
      const q = new Queue(name, { connection: { url: f.redis.url }, prefix: f.prefix });
      queues.push(q);
      const all = await q.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed']);
      jobs.set(
        name,
        all.map((j) => {
          const payload = actionPayload.parse(j.data);
          expect(j.id).toBe(payload.event_id);
          return payload;
        }),
      );
    }
    const jobsFor = (queue: ActionQueue, id: string) => jobs.get(queue)!.filter((p) => p.id === id);
    let reviews = 0;
    ids.forEach((id, i) => {
      const plan = plans[i]!;
      const txn = txns[i]!;
      const final = plan.reviewer ?? plan.workflow;
      const finalQueue = QUEUE_OF[final]!;
      const decided = jobsFor(finalQueue, id);
      expect(decided, `${finalQueue} jobs of ${id} (flood-${i})`).toHaveLength(1);
      expect(decided[0]).toMatchObject({
        persona_transaction_id: txn.id,
        persona_status: final,
        reference_id: `flood-${i}`,
      });
      const sameStatus = byTxn
        .get(txn.id)!
        .filter((e) => e.object.type === 'transaction' && e.object.attributes.status === final);
      expect(sameStatus.map((e) => e.id)).toContain(decided[0]!.event_id);

      const review = plan.reviewer ? jobsFor('actions-review', id) : [];
      if (plan.reviewer) {
        const reviewEvent = views.get(id)!.events.find((e) => e.status === 'needs_review')!;
        expect(review, `review jobs of ${id}`).toHaveLength(reviewEvent.applied ? 1 : 0);
        reviews += review.length;
      }
      for (const other of ACTION_QUEUES) {
        if (other === finalQueue || (plan.reviewer && other === 'actions-review')) continue;
        expect(jobsFor(other, id), `${other} jobs of ${id}`).toEqual([]);
      }
    });
    const total = ACTION_QUEUES.reduce((n, q) => n + jobs.get(q)!.length, 0);
    expect(total).toBe(REQUESTS + reviews);
  });
});
