import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectProducer } from '@pp/shared';
import { eventually, keysUnder, ServiceProcess, SpawnedCluster, uniquePrefix } from '@pp/testing';
import { PERSONA_KEY, startPipeline, WEBHOOK_SECRET } from './harness.ts';

/**
 * Beyond one Redis: with a hash-tagged QUEUE_PREFIX the whole pipeline runs on a Redis
 * Cluster of three local masters, every key (BullMQ's and ours) in one slot.
 */

let cluster: SpawnedCluster | undefined;
beforeAll(async () => {
  cluster = await SpawnedCluster.start({ masters: 3 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('the pipeline on a Redis Cluster', () => {
  it('When QUEUE_PREFIX is a hash tag, then a request is decided through webhooks, one approve job lands, and every key is in one slot', async () => {
    const prefix = `{${uniquePrefix('e2e')}}`;
    const redis = await connectProducer({ url: cluster!.url, name: 'cluster-test' });
    try {
      const p = await startPipeline({
        redisUrl: cluster!.url,
        prefix,
        sim: { decisionDelayMs: 100 },
      });
      try {
        const res = await p.post(
          {
            transaction_type_id: 'txntp_KYC123',
            fields: { name_first: 'Katherine', name_last: 'Johnson', birthdate: '1918-08-26' },
            reference_id: 'on-a-cluster',
          },
          { 'idempotency-key': 'cluster-1' },
        );
        expect(res.status).toBe(202);
        const { id } = (await res.json()) as { id: string };

        const v = await p.until(
          id,
          (x) => x.persona_status === 'approved' && x.reports.length > 0,
          'approved with its report',
        );
        expect(v.status).toBe('submitted');
        expect(v.verifications).toMatchObject([
          { type: 'verification/database', status: 'passed' },
        ]);
        expect(v.reports).toMatchObject([{ type: 'report/watchlist', status: 'ready' }]);
        expect(p.sim.webhooks.deliveries.some((d) => d.delivered)).toBe(true);

        const jobs = await eventually(
          async () => {
            const j = await p.jobsIn('actions-approve');
            return j.length > 0 ? j : undefined;
          },
          { what: 'a job in actions-approve' },
        );
        expect(jobs).toMatchObject([
          { id, persona_status: 'approved', persona_transaction_id: v.persona_transaction_id },
        ]);
        expect(await p.jobsIn('actions-review')).toEqual([]);
        expect(await p.jobsIn('actions-decline')).toEqual([]);

        // Every key the run wrote, found on whichever master holds it: all in one slot.
        const keys = await keysUnder(redis, prefix);
        expect(keys).toContain(`${prefix}:req:${id}`);
        expect(keys.some((k) => k.startsWith(`${prefix}:persona-transaction-create:`))).toBe(true);
        expect(keys.some((k) => k.startsWith(`${prefix}:actions-approve:`))).toBe(true);
        const slots = new Set(await Promise.all(keys.map((k) => redis.cluster('KEYSLOT', k))));
        expect([...slots]).toEqual([await redis.cluster('KEYSLOT', prefix)]);
      } finally {
        await p.close();
      }
      // The harness's cleanup reaches every master.
      expect(await keysUnder(redis, prefix)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('When QUEUE_PREFIX has no hash tag, then every service refuses to start on the cluster', async () => {
    const env = { REDIS_URL: cluster!.url, QUEUE_PREFIX: uniquePrefix('e2e') };
    const procs = [
      new ServiceProcess('api-gateway', { ...env, GATEWAY_API_KEYS: 'cluster-token-0000001' }),
      new ServiceProcess('webhook-receiver', { ...env, PERSONA_WEBHOOK_SECRETS: WEBHOOK_SECRET }),
      new ServiceProcess('workers', { ...env, PERSONA_API_KEY: PERSONA_KEY }),
    ];
    for (const proc of procs) {
      expect(await proc.exited()).toBe(1);
      expect(proc.logs.text).toContain('QUEUE_PREFIX: must hold a hash tag');
    }
  });
});
