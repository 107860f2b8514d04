/**
 * Benchmark 3a: drain rate of the event pipeline. A backlog of signed webhook deliveries
 * (three events per linked request, 10 % delivered twice, shuffled) is admitted by the
 * receiver's path (signature, envelope, dedupe gate, enqueue) into the paused events queue;
 * then the queue resumes and N worker processes (production defaults: EVENT_CONCURRENCY 64,
 * LOG_LEVEL info) drain it through dedupe, linking, state and fan-out. The baseline: N plain
 * BullMQ worker processes (concurrency 64, no-op processor) draining as many no-op jobs.
 */
import type { Queue } from 'bullmq';
import { catalog } from '@pp/shared';
import { commandMix, commandsPer, startCost, type Cost } from './lib/cost.ts';
import { rotation, type BenchContext, type BenchResult } from './lib/context.ts';
import { admitDeliveries, pipelineDeliveries, prepareLinkedRequests } from './lib/pipeline.ts';
import { inParallel, pendingJobs, queueOf } from './lib/queues.ts';
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
import { median, mib, num, sleep } from './lib/stats.ts';
import { pairedRatio, row, type Row } from './lib/table.ts';

const ACTION_QUEUES = ['actions-approve', 'actions-decline', 'actions-review'];

interface Drain {
  /** Jobs in the queue when it resumed. */
  backlog: number;
  /** Jobs finished within the measurement. */
  jobs: number;
  ms: number;
  rate: number;
  /** Stopped at the window with jobs left. */
  cut: boolean;
  cost: Cost;
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
  const concurrency = String(ctx.mode.eventConcurrency);
  const ours = Array.from({ length: n }, (_, i) =>
    startWorker(ctx, `workers-${n}p-${i}`, { EVENT_CONCURRENCY: concurrency }),
  );
  const plain = Array.from({ length: n }, (_, i) =>
    startPlain(ctx, 'plain-worker', `plain-worker-${n}p-${i}`, {
      PLAIN_QUEUE: 'plain-events',
      PLAIN_CONCURRENCY: concurrency,
    }),
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
    const track = async (procs: NodeProcess[], key: 'ours' | 'plain', queue: Queue) => {
      for (const p of procs) resetPeakRss(p.pid);
      const pids = procs.map((p) => p.pid);
      const d = await drainQueue(queue, mode.drainWindowSeconds * 1000, () =>
        startCost(ctx.redis, pids),
      );
      for (const p of procs) peaks[key] = Math.max(peaks[key], p.peakRss());
      drains[key].push(d);
      ctx.progress(
        `  ${key}: ${num(d.jobs)} of ${num(d.backlog)} jobs in ${num(d.ms)} ms = ${num(d.rate)}/s`,
      );
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
          duplicatesAtGate += gate.duplicate;
          const before = await countJobs(actions);
          await track(ours, 'ours', eventsQueue);
          if (!drains.ours[drains.ours.length - 1]!.cut) {
            fannedOut += (await countJobs(actions)) - before;
            expectedFanOut += linked.length;
          }
        } else {
          await plainQueue.pause();
          await addNoOpJobs(plainQueue, mode.backlog, round);
          await track(plain, 'plain', plainQueue);
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
        ...costRows(bench, drains),
        row({
          bench,
          metric: 'peak RSS of a worker process',
          ours: mib(peaks.ours),
          plain: mib(peaks.plain),
          ratio: `${(peaks.ours / peaks.plain).toFixed(2)}x`,
        }),
      ],
      notes: [
        `${bench}: ${mode.rounds} × ${num(mode.backlog)} deliveries → ${num(median(drains.ours.map((d) => d.backlog)))} event jobs a round after the gate (${num(duplicatesAtGate)} duplicates answered there in all); ${cutNote(drains, mode.drainWindowSeconds)}; business jobs fanned out ${expectedFanOut ? `${num(fannedOut)} of ${num(expectedFanOut)} expected (rounds drained to the end)` : 'not checked (no round drained to the end)'}; failed event jobs ${failed}. Plain: ${num(mode.backlog)} no-op jobs a round.`,
        `${bench}: Redis commands per event job (last round), ours: ${mix(drains.ours)}; plain: ${mix(drains.plain)}.`,
      ],
    };
  } finally {
    await stopAll([...ours, ...plain]);
    await Promise.all([eventsQueue, plainQueue, ...actions].map((q) => q.close()));
  }
}

/**
 * Resumes a paused, filled queue and times it until nothing is pending, or for at most
 * `windowMs`: then it pauses the queue again, counts what was done, lets the active jobs
 * finish and removes the rest (so that a slow drain of a large backlog is measured over a
 * window instead of waited out).
 */
async function drainQueue(
  queue: Queue,
  windowMs: number,
  startCosting: () => Promise<{ stop: () => Promise<Cost> }>,
): Promise<Drain> {
  const backlog = await pendingJobs(queue);
  const cost = await startCosting();
  const started = performance.now();
  await queue.resume();
  for (;;) {
    await sleep(50);
    const pending = await pendingJobs(queue);
    const ms = performance.now() - started;
    if (pending === 0) {
      return {
        backlog,
        jobs: backlog,
        ms,
        rate: (backlog / ms) * 1000,
        cut: false,
        cost: await cost.stop(),
      };
    }
    if (ms > windowMs) {
      await queue.pause();
      const jobs = backlog - pending;
      const spent = await cost.stop();
      while (((await queue.getJobCounts('active')).active ?? 0) > 0) await sleep(50);
      await queue.drain(true);
      return { backlog, jobs, ms, rate: (jobs / ms) * 1000, cut: true, cost: spent };
    }
  }
}

async function countJobs(queues: Queue[]): Promise<number> {
  const counts = await Promise.all(
    queues.map((q) => q.getJobCounts('wait', 'completed', 'failed')),
  );
  return counts.reduce((s, c) => s + (c.wait ?? 0) + (c.completed ?? 0) + (c.failed ?? 0), 0);
}

/** `count` no-op jobs with the events queue's options and summary-sized data. */
async function addNoOpJobs(queue: Queue, count: number, round: number) {
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

const mix = (ds: Drain[]) => {
  const d = ds[ds.length - 1]!;
  return commandMix(d.cost, d.jobs, 12);
};

/** CPU per job (all worker processes; Redis) and Redis commands per job. */
function costRows(bench: string, drains: { ours: Drain[]; plain: Drain[] }): Row[] {
  const per = (ds: Drain[], f: (c: Cost) => number) => ds.map((d) => f(d.cost) / d.jobs);
  const specs: [string, (c: Cost) => number, (v: number) => string][] = [
    ['CPU per job: worker processes', (c) => c.serviceCpuMs * 1000, (v) => `${num(v, 0)} µs`],
    ['CPU per job: Redis', (c) => c.redisCpuMs * 1000, (v) => `${num(v, 0)} µs`],
    [
      'Redis commands per job (Lua inner calls included)',
      (c) => commandsPer(c, 1),
      (v) => num(v, 1),
    ],
  ];
  return specs.map(([metric, f, fmt]) => {
    const ours = per(drains.ours, f);
    const plain = per(drains.plain, f);
    const r = pairedRatio(ours, plain);
    return row({
      bench,
      metric,
      ours: fmt(median(ours)),
      plain: fmt(median(plain)),
      ratio: r.text,
      perRound: r.perRound,
    });
  });
}

const cutNote = (drains: { ours: Drain[]; plain: Drain[] }, window: number) => {
  const cut = (ds: Drain[]) => ds.filter((d) => d.cut).length;
  return `rounds measured over the first ${window} s and the rest removed: ${cut(drains.ours)} of ours, ${cut(drains.plain)} of plain (the others drained to the end)`;
};
