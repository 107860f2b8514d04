/**
 * Benchmark 4b: Redis bytes per accepted request (gateway) and per accepted event
 * (receiver), from INFO memory `used_memory` deltas over K of them: while they wait (jobs
 * queued, nothing processed) and after they settle (one worker process has processed every
 * job). Ours and the plain baselines, each from an empty Redis.
 */
import { PersonaSimulator } from '@pp/persona-sim';
import { catalog } from '@pp/shared';
import type { BenchContext, BenchResult } from './lib/context.ts';
import { memoryByFamily } from './lib/redis.ts';
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
import { stopAll, type NodeProcess } from './lib/spawn.ts';
import { bytes, num, sleep } from './lib/stats.ts';
import { row, type Row } from './lib/table.ts';

interface Footprint {
  /** Bytes per request by key family, once settled: the largest. */
  families: string;
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
  // The servers start together (each is idle while another is measured).
  const servers = {
    gateway: await startGateway(ctx, 'mem-gateway'),
    plainGateway: startPlain(ctx, 'plain-gateway', 'mem-plain-gateway'),
    receiver: await startReceiver(ctx, 'mem-receiver'),
    plainReceiver: startPlain(ctx, 'plain-receiver', 'mem-plain-receiver'),
  };
  try {
    const tag = runTag();
    const gatewayLoad = (url: string, _events: SignedEvent[], offset: number) =>
      hammer({
        url,
        path: '/v1/transactions',
        connections: 20,
        amount: k,
        headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json' },
        next: (i) => ({
          body: transactionBody(tag, offset + i),
          headers: { 'idempotency-key': `mem-${tag}-${offset + i}` },
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
      server: servers.gateway,
      load: gatewayLoad,
      worker: () => startWorker(fastCtx, 'mem-workers-create', fastBudget),
      queue: [catalog.transactionCreate.name, OUR_PREFIX],
    });
    const plainGateway = await footprint(ctx, {
      server: servers.plainGateway,
      load: gatewayLoad,
      worker: () =>
        startPlain(ctx, 'plain-worker', 'mem-plain-worker-create', {
          PLAIN_QUEUE: 'plain-transactions',
        }),
      queue: ['plain-transactions', PLAIN_PREFIX],
    });

    ctx.progress('memory: receiver');
    const receiver = await footprint(ctx, {
      server: servers.receiver,
      prepare: async () =>
        decisionEvents(await prepareLinkedRequests(ctx.redis.client, OUR_PREFIX, 2 * k)),
      load: webhookLoad,
      worker: () => startWorker(fastCtx, 'mem-workers-events', fastBudget),
      queue: [catalog.personaEvents.name, OUR_PREFIX],
    });
    const plainReceiver = await footprint(ctx, {
      server: servers.plainReceiver,
      prepare: () =>
        Promise.resolve(
          decisionEvents(
            Array.from({ length: 2 * k }, (_, i) => ({
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
        `Redis footprint: used_memory (less client buffers, AOF buffer and cached scripts) deltas, one run each from an empty Redis. "While queued": ${num(k)} requests (events) accepted with no worker running. "Settled": a second ${num(k)} accepted and processed with one worker process running (so the worker's one-off keys are not counted): ours keeps completed jobs as the catalog says (creation: 24 h / 10,000; events: 1 h / 10,000), the request record and its links, the dedupe keys for 7 days, and (receiver) the business job waiting for its consumer; the plain jobs keep BullMQ's defaults (completed jobs kept) and the plain receiver stores the whole event as job data.`,
        `Redis bytes per request once both batches settled, by key family (MEMORY USAGE), ours gateway: ${gateway.families}; plain: ${plainGateway.families}.`,
        `Redis bytes per event once both batches settled, by key family, ours receiver: ${receiver.families}; plain: ${plainReceiver.families}.`,
        `Redis footprint runs: accepted / completed / failed jobs: gateway ${[gateway, plainGateway].map(counts).join(' vs plain ')}; receiver ${[receiver, plainReceiver].map(counts).join(' vs plain ')}.`,
      ],
    };
  } finally {
    await stopAll(Object.values(servers));
    await sim.close();
  }
}

/** Starts the server, sends K, measures; starts the worker, waits for the drain, measures. */
async function footprint(
  ctx: BenchContext,
  o: {
    server: NodeProcess;
    /** Events for both batches (2 K), or none (the gateway's bodies need no preparing). */
    prepare?: () => Promise<SignedEvent[]>;
    load: (url: string, events: SignedEvent[], offset: number) => Promise<{ ok: number }>;
    worker: () => NodeProcess;
    queue: [string, string];
  },
): Promise<Footprint> {
  const { redis, mode } = ctx;
  const k = mode.memoryRequests;
  await redis.flush();
  const server = o.server;
  let worker: NodeProcess | null = null;
  const queue = queueOf(redis.client, ...o.queue);
  const settle = async () => {
    await waitDrained(queue, 10 * 60_000, 100);
    await sleep(500);
    return redis.usedMemory();
  };
  try {
    const url = await server.url();
    const events = o.prepare ? await o.prepare() : [];
    await sleep(200);
    // Batch 1, nothing processing it: the footprint while queued.
    const m0 = await redis.usedMemory();
    const first = await o.load(url, events.slice(0, k), 0);
    await sleep(500);
    const m1 = await redis.usedMemory();
    // A worker settles it; batch 2 then goes through with the worker running: its delta is
    // the settled footprint without the one-off keys of a first worker and first jobs.
    worker = o.worker();
    await worker.waitForLine(new RegExp(`${WORKER_READY.source}|${PLAIN_WORKER_READY.source}`));
    const m2 = await settle();
    const second = await o.load(url, events.slice(k), k);
    const m3 = await settle();
    const byFamily = await memoryByFamily(redis);
    const all = first.ok + second.ok;
    const keysTotal = byFamily.reduce((sum, [, b]) => sum + b, 0);
    const families = `${byFamily
      .slice(0, 8)
      .map(([family, b]) => `\`${family}\` ${num(b / all, 0)}`)
      .join(' · ')} (all keys ${num(keysTotal / all, 0)})`;
    const counts = await queue.getJobCounts('completed', 'failed');
    return {
      families,
      accepted: all,
      waiting: (m1 - m0) / first.ok,
      settled: (m3 - m2) / second.ok,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
    };
  } finally {
    await worker?.stop();
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
