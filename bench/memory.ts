/**
 * Benchmark 4b: Redis bytes per accepted request (gateway) and per accepted event
 * (receiver), from INFO memory `used_memory` deltas over K of them: while they wait (jobs
 * queued, nothing processed) and after they settle (one worker process has processed every
 * job). Ours and the plain baselines, each from an empty Redis.
 */
import { PersonaSimulator } from '@pp/persona-sim';
import { catalog } from '@pp/shared';
import type { BenchContext, BenchResult } from './lib/context.ts';
import {
  GATEWAY_TOKEN,
  PERSONA_KEY,
  runTag,
  transactionBody,
  type SignedEvent,
} from './lib/fixtures.ts';
import { hammer } from './lib/load.ts';
import { decisionEvents, prepareLinkedRequests } from './lib/pipeline.ts';
import { queueOf, waitDrained } from './lib/queues.ts';
import {
  OUR_PREFIX,
  PLAIN_PREFIX,
  PLAIN_WORKER_READY,
  startGateway,
  startPlain,
  startReceiver,
  startWorker,
  WORKER_READY,
} from './lib/services.ts';
import type { NodeProcess } from './lib/spawn.ts';
import { bytes, num, sleep } from './lib/stats.ts';
import { row, type Row } from './lib/table.ts';

interface Footprint {
  accepted: number;
  waiting: number;
  settled: number;
  completed: number;
  failed: number;
}

export async function memoryBench(ctx: BenchContext): Promise<BenchResult> {
  const k = ctx.mode.memoryRequests;
  // The creation jobs must all run: a simulator and a budget that never make them wait.
  const sim = new PersonaSimulator({
    apiKeys: [PERSONA_KEY],
    rateLimit: { limit: 10_000_000, windowMs: 60_000 },
    decisionDelayMs: 3_600_000,
  });
  await sim.listen();
  const fastCtx = { ...ctx, simUrl: sim.url };
  const fastBudget = { PERSONA_RATE_LIMIT_PER_MINUTE: '10000000' };
  try {
    const tag = runTag();
    const gatewayLoad = (url: string) =>
      hammer({
        url,
        path: '/v1/transactions',
        connections: 20,
        amount: k,
        headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json' },
        next: (i) => ({
          body: transactionBody(tag, i),
          headers: { 'idempotency-key': `mem-${tag}-${i}` },
        }),
      });
    const webhookLoad = (url: string, events: SignedEvent[]) =>
      hammer({
        url,
        path: '/webhooks/persona',
        connections: 20,
        amount: events.length,
        headers: { 'content-type': 'application/json' },
        next: (i) => ({
          body: events[i % events.length]!.body,
          headers: { 'persona-signature': events[i % events.length]!.signature },
        }),
      });

    ctx.progress('memory: gateway');
    const gateway = await footprint(ctx, {
      server: () => startGateway(ctx, 'mem-gateway'),
      load: gatewayLoad,
      worker: () => startWorker(fastCtx, 'mem-workers-create', fastBudget),
      queue: [catalog.transactionCreate.name, OUR_PREFIX],
    });
    const plainGateway = await footprint(ctx, {
      server: () => startPlain(ctx, 'plain-gateway', 'mem-plain-gateway'),
      load: gatewayLoad,
      worker: () =>
        startPlain(ctx, 'plain-worker', 'mem-plain-worker-create', {
          PLAIN_QUEUE: 'plain-transactions',
        }),
      queue: ['plain-transactions', PLAIN_PREFIX],
    });

    ctx.progress('memory: receiver');
    const receiver = await footprint(ctx, {
      server: () => startReceiver(ctx, 'mem-receiver'),
      prepare: async () =>
        decisionEvents(await prepareLinkedRequests(ctx.redis.client, OUR_PREFIX, k)),
      load: webhookLoad,
      worker: () => startWorker(fastCtx, 'mem-workers-events', fastBudget),
      queue: [catalog.personaEvents.name, OUR_PREFIX],
    });
    const plainReceiver = await footprint(ctx, {
      server: () => startPlain(ctx, 'plain-receiver', 'mem-plain-receiver'),
      prepare: () =>
        Promise.resolve(
          decisionEvents(
            Array.from({ length: k }, (_, i) => ({
              requestId: '',
              transactionId: `txn_memPlain${i}`,
              referenceId: `user-${i}`,
            })),
          ),
        ),
      load: webhookLoad,
      worker: () => startPlain(ctx, 'plain-worker', 'mem-plain-worker-events'),
      queue: ['plain-events', PLAIN_PREFIX],
    });

    return {
      rows: [
        ...footprintRows('4. Redis bytes per request (gateway)', gateway, plainGateway),
        ...footprintRows('4. Redis bytes per event (receiver)', receiver, plainReceiver),
      ],
      notes: [
        `Redis footprint: used_memory deltas over ${num(k)} requests (events), one run each from an empty Redis. "Settled": one worker process ran every job; ours keeps completed jobs as the catalog says (creation: 24 h / 10,000; events: 1 h / 10,000), the request record and its links, the dedupe keys for 7 days, and (receiver) the business job waiting for its consumer; the plain jobs keep BullMQ's defaults (completed jobs kept) and the plain receiver stores the whole event as job data.`,
        `Redis footprint runs: accepted / completed / failed jobs: gateway ${[gateway, plainGateway].map(counts).join(' vs plain ')}; receiver ${[receiver, plainReceiver].map(counts).join(' vs plain ')}.`,
      ],
    };
  } finally {
    await sim.close();
  }
}

/** Starts the server, sends K, measures; starts the worker, waits for the drain, measures. */
async function footprint(
  ctx: BenchContext,
  o: {
    server: () => NodeProcess;
    prepare?: () => Promise<SignedEvent[]>;
    load: (url: string, events: SignedEvent[]) => Promise<{ ok: number }>;
    worker: () => NodeProcess;
    queue: [string, string];
  },
): Promise<Footprint> {
  const { redis } = ctx;
  await redis.flush();
  const server = o.server();
  let worker: NodeProcess | null = null;
  const queue = queueOf(redis.client, ...o.queue);
  try {
    const url = await server.url();
    const events = o.prepare ? await o.prepare() : [];
    await sleep(200);
    const m0 = await redis.usedMemory();
    const { ok } = await o.load(url, events);
    await sleep(500);
    const m1 = await redis.usedMemory();
    worker = o.worker();
    await worker.waitForLine(new RegExp(`${WORKER_READY.source}|${PLAIN_WORKER_READY.source}`));
    await waitDrained(queue, 10 * 60_000, 100);
    await sleep(500);
    const m2 = await redis.usedMemory();
    const counts = await queue.getJobCounts('completed', 'failed');
    return {
      accepted: ok,
      waiting: (m1 - m0) / ok,
      settled: (m2 - m0) / ok,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
    };
  } finally {
    await Promise.all([server.stop(), worker?.stop()]);
    await queue.close();
  }
}

const counts = (f: Footprint) => `${num(f.accepted)} / ${num(f.completed)} / ${num(f.failed)}`;

function footprintRows(bench: string, ours: Footprint, plain: Footprint): Row[] {
  return [
    row({
      bench,
      metric: 'while queued',
      ours: bytes(ours.waiting),
      plain: bytes(plain.waiting),
      ratio: `${(ours.waiting / plain.waiting).toFixed(2)}x`,
    }),
    row({
      bench,
      metric: 'after settling',
      ours: bytes(ours.settled),
      plain: bytes(plain.settled),
      ratio: `${(ours.settled / plain.settled).toFixed(2)}x`,
    }),
  ];
}
