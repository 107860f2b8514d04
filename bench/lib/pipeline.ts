import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  catalog,
  createJobInsert,
  EventGate,
  parseWebhookBody,
  RequestStore,
  verifyPersonaSignature,
  type GateOutcome,
} from '@pp/shared';
import { seededRandom } from '@pp/testing';
import {
  eventBody,
  personaLikeId,
  runTag,
  shuffle,
  signEvent,
  WEBHOOK_SECRET,
  type SignedEvent,
} from './fixtures.ts';
import { inParallel } from './queues.ts';

export interface LinkedRequest {
  requestId: string;
  transactionId: string;
  referenceId: string;
}

/**
 * `count` requests as the gateway and a worker leave them once Persona answered: accepted
 * (record, fields, no Idempotency-Key) and submitted, linked to a Persona transaction id.
 */
export async function prepareLinkedRequests(
  redis: Redis,
  prefix: string,
  count: number,
): Promise<LinkedRequest[]> {
  const store = new RequestStore(redis, { prefix });
  const tag = runTag();
  return inParallel(
    Array.from({ length: count }, (_, i) => i),
    128,
    async (i) => {
      const referenceId = `user-${tag}-${i}`;
      const accepted = await store.accept(
        {
          transactionTypeId: 'txntp_2Hc4xGQ9wVbGZ4sZ5nPq7Ttm',
          fields: { name_first: 'Ada', name_last: 'Lovelace', birthdate: '1990-12-10' },
          referenceId,
        },
        { correlationId: `bench-${tag}-${i}` },
      );
      if (accepted.kind !== 'created') throw new Error('accept failed');
      const transactionId = personaLikeId('txn_', tag, i);
      const requestId = accepted.request.id;
      const settled = await store.markSubmitted(requestId, { transactionId, status: 'created' });
      if (settled !== 'settled') throw new Error(`markSubmitted: ${settled}`);
      return { requestId, transactionId, referenceId };
    },
  );
}

const DECISIONS = [
  'approved',
  'approved',
  'approved',
  'approved',
  'approved',
  'approved',
  'approved',
  'approved',
  'declined',
  'needs_review',
];

/**
 * The webhooks of linked requests: per request `transaction.created`, `pending`, then a
 * decision (80 % approved, 10 % declined, 10 % needs_review), one second apart; then
 * `duplicateShare` of them delivered again; all shuffled (a seeded, reproducible order).
 */
export function pipelineDeliveries(
  linked: readonly LinkedRequest[],
  { duplicateShare, seed }: { duplicateShare: number; seed: number },
): { deliveries: SignedEvent[]; unique: number } {
  const tag = runTag();
  const base = Date.now() - 60_000;
  const random = seededRandom(seed);
  const events: SignedEvent[] = [];
  linked.forEach((r, i) => {
    const steps: [string, string][] = [
      ['transaction.created', 'created'],
      ['transaction.status-updated', 'pending'],
      ['transaction.status-updated', DECISIONS[i % DECISIONS.length]!],
    ];
    steps.forEach(([name, status], k) => {
      const eventId = personaLikeId('evt_', tag, i * 3 + k);
      events.push(
        signEvent(
          eventId,
          eventBody({
            eventId,
            name,
            createdAt: new Date(base + k * 1000),
            transactionId: r.transactionId,
            status,
            referenceId: r.referenceId,
            requestId: r.requestId,
          }),
        ),
      );
    });
  });
  const unique = events.length;
  const dups = Math.round(unique * duplicateShare);
  for (let d = 0; d < dups; d++) events.push(events[Math.floor(random() * unique)]!);
  return { deliveries: shuffle(events, random), unique };
}

/** One decision event (approved) per linked request: each one fans out one business job. */
export function decisionEvents(linked: readonly LinkedRequest[]): SignedEvent[] {
  const tag = runTag();
  return linked.map((r, i) => {
    const eventId = personaLikeId('evt_', tag, i);
    return signEvent(
      eventId,
      eventBody({
        eventId,
        name: 'transaction.status-updated',
        createdAt: new Date(),
        transactionId: r.transactionId,
        status: 'approved',
        referenceId: r.referenceId,
        requestId: r.requestId,
      }),
    );
  });
}

/**
 * Feeds deliveries into the events queue by the receiver's own path (signature, envelope,
 * the dedupe gate that stores the job), without HTTP. Returns the gate's outcomes.
 */
export async function admitDeliveries(
  redis: Redis,
  prefix: string,
  deliveries: readonly SignedEvent[],
): Promise<Record<GateOutcome, number>> {
  const queue = new Queue(catalog.personaEvents.name, { connection: redis, prefix });
  const jobInsert = createJobInsert(() => queue);
  const gate = new EventGate(redis, { prefix, dedupeTtlSeconds: 7 * 24 * 3600 });
  const outcomes: Record<GateOutcome, number> = { accepted: 0, duplicate: 0 };
  const now = Math.floor(Date.now() / 1000);
  await inParallel(deliveries, 128, async (d) => {
    const raw = Buffer.from(d.body);
    const verified = verifyPersonaSignature(raw, d.signature, [WEBHOOK_SECRET], {
      nowSeconds: now,
      toleranceSeconds: 7 * 24 * 3600,
    });
    const parsed = parseWebhookBody(raw);
    if (verified.kind !== 'valid' || parsed.kind !== 'event') throw new Error('bad fixture');
    const { summary } = parsed;
    outcomes[await gate.admit(summary.eventId, jobInsert('personaEvents', summary))]++;
  });
  await queue.close();
  return outcomes;
}
