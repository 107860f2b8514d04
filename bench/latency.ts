/**
 * Benchmark 3b: end-to-end latency at a steady rate (500 events a second): from the
 * receiver's 200 to the business job existing (its timestamp), for decision events of
 * linked requests, through the receiver and one worker process. The baseline: the plain
 * receiver and one plain worker that adds one job per event to another queue.
 */
import { Job } from 'bullmq';
import { rotation, type BenchContext, type BenchResult } from './lib/context.ts';
import type { SignedEvent } from './lib/fixtures.ts';
import { pacedWebhooks } from './lib/paced.ts';
import { decisionEvents, prepareLinkedRequests } from './lib/pipeline.ts';
import { inParallel, queueOf } from './lib/queues.ts';
import {
  OUR_PREFIX,
  PLAIN_PREFIX,
  PLAIN_WORKER_READY,
  startPlain,
  startReceiver,
  startWorker,
  WORKER_READY,
} from './lib/services.ts';
import { stopAll } from './lib/spawn.ts';
import { median, ms, num, quantile, sleep } from './lib/stats.ts';
import { pairedRatio, row } from './lib/table.ts';

interface Round {
  p50: number;
  p99: number;
  answerP50: number;
  answerP99: number;
  missing: number;
  rate: number;
}

export async function latencyBench(ctx: BenchContext): Promise<BenchResult> {
  const { mode, redis } = ctx;
  const client = redis.client;
  const procs = {
    receiver: await startReceiver(ctx, 'e2e-receiver'),
    worker: startWorker(ctx, 'e2e-worker'),
    plainReceiver: startPlain(ctx, 'plain-receiver', 'e2e-plain-receiver'),
    plainWorker: startPlain(ctx, 'plain-worker', 'e2e-plain-worker', {
      PLAIN_QUEUE: 'plain-events',
      FORWARD_QUEUE: 'plain-actions',
    }),
  };
  const approve = queueOf(client, 'actions-approve', OUR_PREFIX);
  const plainActions = queueOf(client, 'plain-actions', PLAIN_PREFIX);
  try {
    await procs.worker.waitForLine(WORKER_READY);
    await procs.plainWorker.waitForLine(PLAIN_WORKER_READY);
    const urls = { ours: await procs.receiver.url(), plain: await procs.plainReceiver.url() };
    const count = mode.e2eRate * mode.e2eSeconds;
    const plainEvents = decisionEvents(
      Array.from({ length: count * mode.rounds + mode.e2eRate }, (_, i) => ({
        requestId: '',
        transactionId: `txn_plainE2e${i}`,
        referenceId: `user-${i}`,
      })),
    );

    const measure = async (key: 'ours' | 'plain', events: SignedEvent[]): Promise<Round> => {
      const queue = key === 'ours' ? approve : plainActions;
      const sent = await pacedWebhooks({ url: urls[key], events, rate: mode.e2eRate });
      const ids = [...sent.answeredAt.keys()];
      const jobs = await waitForJobs(queue, ids, 60_000);
      const lat = ids
        .map((id, i) => (jobs[i] ? jobs[i].timestamp - sent.answeredAt.get(id)! : NaN))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      const answers = [...sent.latencies].sort((a, b) => a - b);
      return {
        p50: quantile(lat, 0.5),
        p99: quantile(lat, 0.99),
        answerP50: quantile(answers, 0.5),
        answerP99: quantile(answers, 0.99),
        missing: events.length - lat.length,
        rate: ids.length / sent.seconds,
      };
    };

    // Warm-up: a second's worth through each.
    const warm = await prepareLinkedRequests(client, OUR_PREFIX, mode.e2eRate);
    await measure('ours', decisionEvents(warm));
    await measure('plain', plainEvents.slice(count * mode.rounds));

    const rounds = { ours: [] as Round[], plain: [] as Round[] };
    for (let round = 0; round < mode.rounds; round++) {
      for (const key of rotation(['ours', 'plain'] as const, round)) {
        ctx.progress(`e2e latency round ${round + 1}/${mode.rounds}: ${key}`);
        const events =
          key === 'ours'
            ? decisionEvents(await prepareLinkedRequests(client, OUR_PREFIX, count))
            : plainEvents.slice(round * count, (round + 1) * count);
        rounds[key].push(await measure(key, events));
      }
    }
    const bench = `3. End-to-end at ${mode.e2eRate} events/s, 1 worker process`;
    const p99 = pairedRatio(
      rounds.ours.map((r) => r.p99),
      rounds.plain.map((r) => r.p99),
    );
    const answer = pairedRatio(
      rounds.ours.map((r) => r.answerP99),
      rounds.plain.map((r) => r.answerP99),
    );
    const pair = (rs: Round[], a: keyof Round, b: keyof Round) =>
      `${ms(median(rs.map((r) => r[a])))} / ${ms(median(rs.map((r) => r[b])))}`;
    const missing = (rs: Round[]) => rs.reduce((s, r) => s + r.missing, 0);
    return {
      rows: [
        row({
          bench,
          metric: 'receiver 200 → business job, p50 / p99',
          ours: pair(rounds.ours, 'p50', 'p99'),
          plain: pair(rounds.plain, 'p50', 'p99'),
          ratio: `p99 ${p99.text}`,
          perRound: p99.perRound,
        }),
        row({
          bench,
          metric: 'receiver answer time, p50 / p99',
          ours: pair(rounds.ours, 'answerP50', 'answerP99'),
          plain: pair(rounds.plain, 'answerP50', 'answerP99'),
          ratio: `p99 ${answer.text}`,
          perRound: answer.perRound,
          target: 'p99 ≤ 15 ms',
          met: median(rounds.ours.map((r) => r.answerP99)) <= 15,
        }),
      ],
      notes: [
        `${bench}: ${num(count)} decision events a round, one business job each; achieved ${num(median(rounds.ours.map((r) => r.rate)))}/s (ours), ${num(median(rounds.plain.map((r) => r.rate)))}/s (plain); events without a business job or a 200: ${missing(rounds.ours)} (ours), ${missing(rounds.plain)} (plain). The plain worker adds one job per event to another queue.`,
      ],
    };
  } finally {
    await stopAll(Object.values(procs));
    await approve.close();
    await plainActions.close();
  }
}

/** The jobs of these ids, once every one exists (or the timeout passed: the missing are null). */
async function waitForJobs(
  queue: ReturnType<typeof queueOf>,
  ids: string[],
  timeoutMs: number,
): Promise<(Job | null)[]> {
  const deadline = Date.now() + timeoutMs;
  const found = new Array<Job | null>(ids.length).fill(null);
  for (;;) {
    const missing = ids.map((_, i) => i).filter((i) => !found[i]);
    await inParallel(missing, 64, async (i) => {
      found[i] = (await Job.fromId(queue, ids[i]!)) ?? null;
    });
    if (found.every(Boolean) || Date.now() > deadline) return found;
    await sleep(200);
  }
}
