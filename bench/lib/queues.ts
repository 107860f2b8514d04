import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sleep } from './stats.ts';

const PENDING = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** Jobs not finished yet (waiting, active, delayed, prioritized; a paused queue's wait here too). */
export async function pendingJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...PENDING);
  return PENDING.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}

/** Polls until no job is pending; resolves with the time it took (ms). */
export async function waitDrained(
  queue: Queue,
  timeoutMs: number,
  intervalMs = 50,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await pendingJobs(queue)) === 0) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `${queue.name}: still ${await pendingJobs(queue)} jobs after ${timeoutMs} ms`,
      );
    }
    await sleep(intervalMs);
  }
}

/** A Queue handle of the orchestrator's (closed by the caller). */
export const queueOf = (connection: Redis, name: string, prefix: string): Queue =>
  new Queue(name, { connection, prefix });

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
      }
    }),
  );
  return out;
}
