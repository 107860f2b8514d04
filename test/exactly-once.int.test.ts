import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog, RequestStore } from '@pp/shared';
import { REDIS_URL, ServiceProcess, eventually, seededRandom } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

const body = (ref: string, extra: Record<string, unknown> = {}) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: { name_first: 'Ada', name_last: `Lovelace-${ref}`, birthdate: '1815-12-10' },
  reference_id: ref,
  ...extra,
});

async function submitMany(
  p: Pipeline,
  n: number,
  label: string,
): Promise<{ id: string; ref: string }[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const ref = `${label}-${i}`;
      const res = await p.post(body(ref));
      expect(res.status).toBe(202);
      return { id: ((await res.json()) as { id: string }).id, ref };
    }),
  );
}

describe('exactly one Persona transaction per accepted request', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('When Persona answers 10% 5xx (some after creating) and drops 10% of responses after creating, then every request ends with exactly one transaction', async () => {
    p = await startPipeline({
      sim: {
        random: seededRandom(42),
        rateLimit: { limit: 6000, windowMs: 60_000 },
        faults: { serverErrorRate: 0.1, serverErrorAfterCreateShare: 0.5, dropRate: 0.1 },
      },
      workers: { PERSONA_RECONCILE_AFTER_5XX: '2', PERSONA_RATE_LIMIT_PER_MINUTE: '6000' },
    });
    const requests = await submitMany(p, 80, 'faulty');
    await p.waitForJobs(
      requests.map((r) => r.id),
      90_000,
    );

    for (const { id, ref } of requests) {
      const record = await p.get(id);
      const created = p.sim.transactionsFor(ref);
      expect(created, `transactions for ${ref}`).toHaveLength(1);
      expect(record).toMatchObject({ status: 'submitted', persona_transaction_id: created[0]!.id });
    }
    expect(p.sim.transactions.size).toBe(requests.length);

    // The faults really happened: stored 5xx were replayed, responses were dropped.
    const statuses = p.sim.requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 500).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 'dropped').length).toBeGreaterThan(0);
    expect(p.sim.requests.filter((r) => r.replay).length).toBeGreaterThan(0);
    // A stored 5xx is never retried forever: the worker looked the transaction up and then
    // either adopted it or minted a new key.
    const reconciled = p.logs.lines.filter((l) =>
      /found the transaction a 5xx had hidden|using a new one/.test(l),
    );
    expect(reconciled.length).toBeGreaterThan(0);
  });

  it('When Persona is slower than our timeout, then the retry meets 409 while the first call is in flight and ends with the one transaction it created', async () => {
    p = await startPipeline({
      sim: { faults: { latencyRate: 1, latencyMs: 1200 } },
      workers: {
        PERSONA_TIMEOUT_MS: '300',
        PERSONA_RETRY_BASE_MS: '100',
        PERSONA_RETRY_CAP_MS: '200',
      },
    });
    const { id } = (await (await p.post(body('slow-1'))).json()) as { id: string };
    await p.waitForJobs([id], 30_000);
    const created = p.sim.transactionsFor('slow-1');
    expect(created).toHaveLength(1);
    expect(await p.get(id)).toMatchObject({
      status: 'submitted',
      persona_transaction_id: created[0]!.id,
    });
    expect(p.sim.requests.some((r) => r.status === 409)).toBe(true);
    expect(new Set(p.sim.requests.map((r) => r.idempotencyKey)).size).toBe(1);
  });

  it('When the last attempt gets no answer but Persona created the transaction, then the request is submitted, not failed', async () => {
    p = await startPipeline({ sim: { faults: { dropRate: 1 } } });
    const redis = new Redis(REDIS_URL);
    const queue = new Queue(catalog.transactionCreate.name, {
      connection: redis,
      prefix: p.prefix,
    });
    try {
      const store = new RequestStore(redis, { prefix: p.prefix });
      const accepted = await store.accept(
        {
          transactionTypeId: 'txntp_KYC123',
          fields: { name_first: 'Ada' },
          referenceId: 'last-attempt',
        },
        { correlationId: 'corr-last' },
      );
      if (accepted.kind !== 'created') throw new Error('accept failed');
      const { id } = accepted.request;
      // One attempt only: the dropped response is the last word of the job.
      await queue.add(
        catalog.transactionCreate.jobName,
        { requestId: id, correlationId: 'corr-last' },
        { ...catalog.transactionCreate.jobOptions, attempts: 1, jobId: id },
      );
      await p.waitForJobs([id]);
      const created = p.sim.transactionsFor('last-attempt');
      expect(created).toHaveLength(1);
      expect(await p.get(id)).toMatchObject({
        status: 'submitted',
        persona_transaction_id: created[0]!.id,
      });
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('When a worker process is SIGKILLed in the middle of a Persona call, then another worker finishes the job with the same Idempotency-Key and one transaction exists', async () => {
    p = await startPipeline({
      // Every call takes 1.5 s at Persona, so the kill lands while the call is open.
      sim: { faults: { latencyRate: 1, latencyMs: 1500 } },
      workers: false,
      // No webhooks: our tag would link the transaction before the survivor's call.
      webhooks: false,
    });
    const env = {
      ...p.workerEnv,
      PERSONA_TIMEOUT_MS: '3000',
      WORKER_LOCK_DURATION_MS: '4000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
    const doomed = new ServiceProcess('workers', env);
    await doomed.waitForLine(/workers started/);

    const res = await p.post(body('crash-1'));
    const { id } = (await res.json()) as { id: string };
    const inFlight = await eventually(() => p!.sim.requests.find((r) => r.method === 'POST'), {
      what: 'the create call at Persona',
    });
    await doomed.kill('SIGKILL');

    const survivor = new ServiceProcess('workers', env);
    try {
      await p.waitForJobs([id], 30_000);
      const created = p.sim.transactionsFor('crash-1');
      expect(created).toHaveLength(1);
      expect(await p.get(id)).toMatchObject({
        status: 'submitted',
        persona_transaction_id: created[0]!.id,
      });
      const posts = p.sim.requests.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThanOrEqual(2);
      expect(new Set(posts.map((r) => r.idempotencyKey))).toEqual(
        new Set([inFlight.idempotencyKey]),
      );
      expect(posts.at(-1)!.replay).toBe(true);
      expect(created[0]!.idempotencyKey).toBe(inFlight.idempotencyKey);
    } finally {
      await survivor.kill('SIGTERM');
    }
  });
});
