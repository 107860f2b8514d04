/**
 * The plain baseline of an event worker: a BullMQ Worker with a no-op processor at
 * `PLAIN_CONCURRENCY` (64, our EVENT_CONCURRENCY default). With `FORWARD_QUEUE` set it adds
 * one job there per job (job id: the job's id), the plain twin of our fan-out, for the
 * end-to-end latency. No logging, no metrics.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { baselineEnv, exitOnSignals, say } from './env.ts';

const name = process.env.PLAIN_QUEUE ?? 'plain-events';
const concurrency = Number(process.env.PLAIN_CONCURRENCY ?? 64);
const forwardTo = process.env.FORWARD_QUEUE;

const connection = new Redis(baselineEnv.redisUrl, { maxRetriesPerRequest: null });
const forward = forwardTo ? new Queue(forwardTo, { connection, prefix: baselineEnv.prefix }) : null;
const worker = new Worker(
  name,
  async (job) => {
    if (forward) await forward.add('action', { id: job.id }, { jobId: job.id! });
  },
  { connection, prefix: baselineEnv.prefix, concurrency },
);
worker.on('error', (err) => say({ msg: 'worker error', err: err.message }));
await worker.waitUntilReady();
say({ msg: 'plain worker ready', queue: name, concurrency });
exitOnSignals(async () => {
  await worker.close();
  await forward?.close();
  connection.disconnect();
});
