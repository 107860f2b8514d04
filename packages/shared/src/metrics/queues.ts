import type { Job, Queue, Worker } from 'bullmq';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.ts';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * Depth of every queue by state and the age of its oldest waiting job: one source, the
 * metrics leader, since every process would read the same numbers from Redis.
 */
export function queueDepthMetrics(
  registry: Registry,
  queues: () => Queue[],
  isLeader: () => boolean,
): void {
  const oldest = new Gauge({
    name: `${METRIC_PREFIX}queue_oldest_waiting_age_seconds`,
    help: 'Age of the oldest job waiting in the queue (0 when none waits).',
    labelNames: ['queue'],
    registers: [registry],
  });
  new Gauge({
    name: `${METRIC_PREFIX}queue_jobs`,
    help: 'Jobs in the queue, by state.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      oldest.reset();
      if (!isLeader()) return;
      const now = Date.now();
      await Promise.all(
        queues().map(async (q) => {
          const counts = await q.getJobCounts(...STATES);
          for (const state of STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
          // The waiting list is FIFO: its oldest job is at the far end.
          const [first] = await q.getJobs(['wait'], -1, -1, false);
          oldest.set({ queue: q.name }, first ? Math.max(0, (now - first.timestamp) / 1000) : 0);
        }),
      );
    },
  });
}

/** Jobs each worker finished, by queue and result: completed, failed (for good) or retried. */
export function jobMetrics(registry: Registry): (worker: Worker) => void {
  const jobs = new Counter({
    name: `${METRIC_PREFIX}jobs_total`,
    help: 'Jobs this process finished, by queue and result (completed, failed, retried).',
    labelNames: ['queue', 'result'],
    registers: [registry],
  });
  return (worker) => {
    worker.on('completed', () => jobs.inc({ queue: worker.name, result: 'completed' }));
    worker.on('failed', (job: Job | undefined) => {
      const retried = job !== undefined && job.attemptsMade < (job.opts.attempts ?? 1);
      jobs.inc({ queue: worker.name, result: retried ? 'retried' : 'failed' });
    });
  };
}
