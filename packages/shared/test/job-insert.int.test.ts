import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalog, createJobInsert, prepareJob, RequestStore } from '@pp/shared';
import { deletePrefix, REDIS_URL, uniquePrefix } from '@pp/testing';

const input = {
  transactionTypeId: 'txntp_KYC123',
  fields: { name_first: 'Ada' },
  referenceId: 'ref-1',
};

/** A job's hash without what differs between any two adds (its time, its id). */
async function jobHash(redis: Redis, queue: Queue, id: string) {
  const { timestamp, ...rest } = await redis.hgetall(`${queue.keys['']}${id}`);
  expect(Number(timestamp)).toBeGreaterThan(Date.now() - 60_000);
  return rest;
}

describe('a BullMQ job written by our own script (JobInsert)', () => {
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  let store: RequestStore;
  let jobInsert: ReturnType<typeof createJobInsert>;
  let worker: Worker | undefined;

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = uniquePrefix('jobins');
    queue = new Queue(catalog.transactionCreate.name, { connection: redis, prefix });
    jobInsert = createJobInsert(() => queue);
    store = new RequestStore(redis, {
      prefix,
      limits: { perCallerPerWindow: 2, windowMs: 60_000 },
    });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await queue.close();
    redis.disconnect();
    await deletePrefix(REDIS_URL, prefix);
  });

  const accept = (idempotencyKey?: string) =>
    store.accept(input, { correlationId: 'corr-1', idempotencyKey }, ({ id, correlationId }) =>
      jobInsert('transactionCreate', { requestId: id, correlationId }),
    );

  it('When a request is accepted, then its creation job is exactly the job queue.add writes, waiting, and a worker runs it', async () => {
    const created = await accept();
    if (created.kind !== 'created') throw new Error(created.kind);
    const id = created.request.id;
    const twin = `req_${'0'.repeat(32)}`;
    await queue.add(
      catalog.transactionCreate.jobName,
      { requestId: twin, correlationId: 'corr-1' },
      { ...catalog.transactionCreate.jobOptions, jobId: twin },
    );
    const ours = await jobHash(redis, queue, id);
    const theirs = await jobHash(redis, queue, twin);
    const renamed = Object.fromEntries(
      Object.entries(ours).map(([k, v]) => [k, v.replaceAll(id, twin)]),
    );
    expect(renamed).toEqual(theirs);
    expect(Object.keys(ours).sort()).toEqual(['data', 'delay', 'name', 'opts', 'priority']);
    expect(JSON.parse(ours.data!)).toEqual({ requestId: id, correlationId: 'corr-1' });
    expect(await queue.getJobState(id)).toBe('waiting');
    expect(await queue.getWaitingCount()).toBe(2);

    const seen: Job[] = [];
    await new Promise<void>((resolve) => {
      worker = new Worker(
        queue.name,
        (job) => {
          seen.push(job);
          if (seen.length === 2) resolve();
          return Promise.resolve();
        },
        { connection: { url: REDIS_URL }, prefix },
      );
    });
    const mine = seen.find((j) => j.id === id)!;
    expect(mine.name).toBe(catalog.transactionCreate.jobName);
    expect(mine.opts.attempts).toBe(catalog.transactionCreate.jobOptions.attempts);
    expect(mine.opts.removeOnComplete).toEqual(
      catalog.transactionCreate.jobOptions.removeOnComplete,
    );
  });

  it('When a request is refused or replayed, then no job is written for it', async () => {
    const first = await accept('key-1');
    expect(first.kind).toBe('created');
    expect(await accept('key-1')).toMatchObject({ kind: 'existing' });
    await accept(); // the caller's second request of the window
    expect(await accept()).toMatchObject({ kind: 'rate_limited' });
    expect(await queue.getWaitingCount()).toBe(2);
  });

  it('When the job cannot be written, then the request is not recorded either', async () => {
    // The wait list is not a list: BullMQ's script fails as it pushes the job.
    await redis.set(queue.keys.wait!, 'not a list');
    await expect(accept('key-2')).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.keys(`${prefix}:req:*`)).toEqual([]);
    expect(await redis.keys(`${prefix}:idem:*`)).toEqual([]);
    expect(await redis.zcard(`${prefix}:queued`)).toBe(0);
  });

  it('When a job is not a standard one (delayed), then preparing it refuses', () => {
    expect(() => prepareJob(queue, 'create', {}, { jobId: 'j1', delay: 1000 })).toThrow(
      /not a standard job/,
    );
  });
});
