/**
 * Benchmark 3a: drain rate of the event pipeline. A backlog of signed webhook deliveries
 * (three events per linked request, 10 % delivered twice, shuffled) is admitted by the
 * receiver's path (signature, envelope, dedupe gate, enqueue) into the paused events queue;
 * then the queue resumes and N worker processes (production defaults: EVENT_CONCURRENCY 16,
 * LOG_LEVEL info) drain it through dedupe, linking, state and fan-out. The baseline: N plain
 * BullMQ worker processes (concurrency 16, no-op processor) draining as many no-op jobs.
 */
import { catalog } from '@pp/shared';
import { rotation, type BenchContext, type BenchResult } from './lib/context.ts';
import { admitDeliveries, pipelineDeliveries, prepareLinkedRequests } from './lib/pipeline.ts';
import { inParallel, pendingJobs, queueOf, waitDrained } from './lib/queues.ts';
import { resetPeakRss } from './lib/rss.ts';
import {
  OUR_PREFIX,
  PLAIN_PREFIX,
  PLAIN_WORKER_READY,
  startPlain,
  startWorker,
  WORKER_READY,
} from './lib/services.ts';
import { stopAll, type NodeProcess } from './lib/spawn.ts';
import { median, mib, num } from './lib/stats.ts';
import { pairedRatio, row, type Row } from './lib/table.ts';

const ACTION_QUEUES = ['actions-approve', 'actions-decline', 'actions-review'];
const DRAIN_TIMEOUT_MS = 15 * 60_000;

interface Drain {
  jobs: number;
  ms: number;
  rate: number;
}

export async function eventsBench(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const n of ctx.mode.drainProcesses) {
    await ctx.redis.flush();
    const result = await drainAt(ctx, n);
    rows.push(...result.rows);
    notes.push(...result.notes);
  }
  return { rows, notes };
}

async function drainAt(ctx: BenchContext, n: number): Promise<{ rows: Row[]; notes: string[] }> {
  const { mode, redis } = ctx;
  const client = redis.client;
  const ours = Array.from({ length: n }, (_, i) => startWorker(ctx, `workers-${n}p-${i}`));
  const plain = Array.from({ length: n }, (_, i) =>
    startPlain(ctx, 'plain-worker', `plain-worker-${n}p-${i}`, { PLAIN_QUEUE: 'plain-events' }),
  );
  const eventsQueue = queueOf(client, catalog.personaEvents.name, OUR_PREFIX);
  const plainQueue = queueOf(client, 'plain-events', PLAIN_PREFIX);
  const actions = ACTION_QUEUES.map((q) => queueOf(client, q, OUR_PREFIX));
  const peaks = { ours: 0, plain: 0 };
  const drains = { ours: [] as Drain[], plain: [] as Drain[] };
  let fannedOut = 0;
  let expectedFanOut = 0;
  let duplicatesAtGate = 0;
  try {
    await Promise.all([
      ...ours.map((p) => p.waitForLine(WORKER_READY)),
      ...plain.map((p) => p.waitForLine(PLAIN_WORKER_READY)),
    ]);
    const track = async (
      procs: NodeProcess[],
      key: 'ours' | 'plain',
      drain: () => Promise<Drain>,
    ) => {
      for (const p of procs) resetPeakRss(p.pid);
      const d = await drain();
      for (const p of procs) peaks[key] = Math.max(peaks[key], p.peakRss());
      drains[key].push(d);
      ctx.progress(`  ${key}: ${num(d.jobs)} jobs in ${num(d.ms)} ms = ${num(d.rate)}/s`);
    };

    for (let round = 0; round < mode.rounds; round++) {
      for (const key of rotation(['ours', 'plain'] as const, round)) {
        ctx.progress(`events drain, ${n} process(es), round ${round + 1}/${mode.rounds}: ${key}`);
        if (key === 'ours') {
          const linked = await prepareLinkedRequests(
            client,
            OUR_PREFIX,
            Math.round(mode.backlog / 3.3),
          );
          const { deliveries } = pipelineDeliveries(linked, {
            duplicateShare: 0.1,
            seed: round + 1,
          });
          await eventsQueue.pause();
          const gate = await admitDeliveries(client, OUR_PREFIX, deliveries);
          duplicatesAtGate += gate.duplicate + gate.in_flight;
          const before = await countJobs(actions);
          await track(ours, 'ours', () => drainQueue(eventsQueue));
          fannedOut += (await countJobs(actions)) - before;
          expectedFanOut += linked.length;
        } else {
          await plainQueue.pause();
          await addNoOpJobs(plainQueue, mode.backlog, round);
          await track(plain, 'plain', () => drainQueue(plainQueue));
        }
      }
    }
    const failed = (await eventsQueue.getJobCounts('failed')).failed ?? 0;
    const rate = pairedRatio(
      drains.ours.map((d) => d.rate),
      drains.plain.map((d) => d.rate),
    );
    const bench = `3. Event drain, ${n} worker process${n > 1 ? 'es' : ''}`;
    return {
      rows: [
        row({
          bench,
          metric: 'events/s (jobs drained)',
          ours: num(median(drains.ours.map((d) => d.rate))),
          plain: num(median(drains.plain.map((d) => d.rate))),
          ratio: rate.text,
          perRound: rate.perRound,
          target: '≥ 0.50x',
          met: rate.value >= 0.5,
        }),
        row({
          bench,
          metric: 'peak RSS of a worker process',
          ours: mib(peaks.ours),
          plain: mib(peaks.plain),
          ratio: `${(peaks.ours / peaks.plain).toFixed(2)}x`,
        }),
      ],
      notes: [
        `${bench}: ${mode.rounds} × ${num(mode.backlog)} deliveries → ${num(median(drains.ours.map((d) => d.jobs)))} event jobs a round after the gate (${num(duplicatesAtGate)} duplicates answered there in all); business jobs fanned out ${num(fannedOut)} of ${num(expectedFanOut)} expected; failed event jobs ${failed}. Plain: ${num(mode.backlog)} no-op jobs a round.`,
      ],
    };
  } finally {
    await stopAll([...ours, ...plain]);
    await Promise.all([eventsQueue, plainQueue, ...actions].map((q) => q.close()));
  }
}

/** Resumes a paused, filled queue and times it until nothing is pending. */
async function drainQueue(queue: ReturnType<typeof queueOf>): Promise<Drain> {
  const jobs = await pendingJobs(queue);
  await queue.resume();
  const ms = await waitDrained(queue, DRAIN_TIMEOUT_MS);
  return { jobs, ms, rate: (jobs / ms) * 1000 };
}

async function countJobs(queues: ReturnType<typeof queueOf>[]): Promise<number> {
  const counts = await Promise.all(
    queues.map((q) => q.getJobCounts('wait', 'completed', 'failed')),
  );
  return counts.reduce((s, c) => s + (c.wait ?? 0) + (c.completed ?? 0) + (c.failed ?? 0), 0);
}

/** `count` no-op jobs with the events queue's options and summary-sized data. */
async function addNoOpJobs(queue: ReturnType<typeof queueOf>, count: number, round: number) {
  const chunks = Array.from({ length: Math.ceil(count / 1000) }, (_, c) => c);
  await inParallel(chunks, 4, (c) =>
    queue.addBulk(
      Array.from({ length: Math.min(1000, count - c * 1000) }, (_, k) => {
        const id = `evt_plain${round}x${c * 1000 + k}`;
        return {
          name: 'event',
          data: {
            eventId: id,
            name: 'transaction.status-updated',
            createdAt: new Date().toISOString(),
            transactionId: `txn_plain${c * 1000 + k}`,
            status: 'approved',
            source: 'webhook',
          },
          opts: { ...catalog.personaEvents.jobOptions, jobId: id },
        };
      }),
    ),
  );
}
