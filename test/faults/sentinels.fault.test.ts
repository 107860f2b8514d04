import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { actionQueuesOf, catalog, DEFAULT_ROUTING_RULES } from '@pp/shared';
import { eventually, freePort } from '@pp/testing';
import type { Fleet } from './fleet.ts';
import { basic, personalBody, REF, SENTINEL, sentinelsIn } from './sentinels/needles.ts';
import { crawlBoard, redrive } from './sentinels/operator.ts';
import { dumpRedis, keyCensus } from './sentinels/redis.ts';
import { gatewayRefusals, webhookDeliveries } from './sentinels/refusals.ts';
import { gatewayClient, startSentinelFleet } from './sentinels/setup.ts';

/**
 * Sentinel personal data and secrets, fed through every path a request and a webhook can
 * take (approved, declined, refused by Persona with its error echoing a value, 5xx and
 * dropped responses, Persona down until a re-drive, refused at the gateway, webhooks with bad
 * signatures), must appear nowhere once it has settled: not in any process's log, not in any
 * Redis key or value, not in Bull Board. And every key this project writes outside BullMQ's
 * queues must expire.
 */

describe('fault: sentinel personal data and secrets through every path', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('When sentinel personal data and secrets go through approvals, declines, Persona refusals, 5xx and dropped responses, a re-drive, refused requests and badly signed webhooks, then after settlement no sentinel is in any log, Redis key or value, or Bull Board, and every key outside the queues expires', async () => {
    const workerPort = await freePort();
    fleet = await startSentinelFleet(workerPort);
    const f = fleet;
    const { gateway, create, view } = gatewayClient(f);

    // 1. Persona down past every attempt: two requests fail, keeping their fields to be
    // re-driven.
    f.sim.faults = { ...f.sim.faults, serverErrorRate: 1, serverErrorAfterCreateShare: 0 };
    const down = [
      await create(personalBody('down-1'), { 'idempotency-key': `${SENTINEL.idempotencyKey}-1` }),
      await create(personalBody('down-2')),
    ];
    await eventually(
      async () => [...(await f.statuses(down)).values()].every((s) => s === 'failed'),
      { timeoutMs: 90_000, intervalMs: 200, what: 'both requests to fail with Persona down' },
    );
    for (const id of down) expect((await view(id)).error?.code).toBe('persona_unavailable');

    // 2. Persona back, but flaky: 5xx (some after creating), dropped responses.
    f.sim.faults = {
      ...f.sim.faults,
      serverErrorRate: 0.25,
      serverErrorAfterCreateShare: 0.5,
      dropRate: 0.1,
    };
    const approved = [
      await create(personalBody('ok-1'), { 'idempotency-key': `${SENTINEL.idempotencyKey}-2` }),
      await create(personalBody('ok-2')),
      await create(personalBody('ok-3')),
    ];
    const declined = [
      await create(personalBody('no-1', { tags: [SENTINEL.tag, 'sim-decision:declined'] })),
      await create(personalBody('no-2', { tags: [SENTINEL.tag, 'sim-decision:declined'] })),
    ];
    const refused = [
      await create(personalBody('strict', { transaction_type_id: 'txntp_STRICT' })),
      await create(personalBody('required', { transaction_type_id: 'txntp_REQUIRED' })),
      await create(personalBody('unknown', { transaction_type_id: 'txntp_UNKNOWN' })),
    ];

    // The same key again: its body replays, another body is refused.
    const replay = await gateway('/v1/transactions', {
      method: 'POST',
      body: JSON.stringify(personalBody('ok-1')),
      headers: { 'idempotency-key': `${SENTINEL.idempotencyKey}-2` },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const conflict = await gateway('/v1/transactions', {
      method: 'POST',
      body: JSON.stringify(personalBody('ok-1', { reference_id: `${REF}-other` })),
      headers: { 'idempotency-key': `${SENTINEL.idempotencyKey}-2` },
    });
    expect(conflict.status).toBe(422);

    // 3. Refused at the gateway, every way, sentinels in each.
    for (const [path, init, status] of gatewayRefusals) {
      const res = await gateway(path, init);
      expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(status);
    }

    // 4. Webhooks that must not get in, and one about a transaction that is not ours.
    for (const [body, headers, status] of webhookDeliveries()) {
      const res = await fetch(`${f.receiverUrl}/webhooks/persona`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expect(res.status).toBe(status);
    }

    // 5. Re-drive the two that failed: one from Bull Board, one with `pnpm redrive`.
    const retried = await fetch(
      `${f.gatewayUrl}/admin/queues/api/queues/${catalog.transactionCreate.name}/${down[0]!}/retry`,
      { method: 'PUT', headers: { authorization: basic } },
    );
    expect(retried.status).toBe(204);
    const redriven = await redrive(f, down[1]!);
    expect(redriven.code, redriven.output).toBe(0);

    // 6. Settlement: every request final, every decision applied and fanned out.
    const all = [...down, ...approved, ...declined, ...refused];
    await f.waitSettled(all, 120_000);
    const decided = new Map<string, string>([
      ...[...down, ...approved].map((id) => [id, 'approved'] as const),
      ...declined.map((id) => [id, 'declined'] as const),
    ]);
    await eventually(
      async () => {
        for (const [id, decision] of decided) {
          if ((await view(id)).persona_status !== decision) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every decision applied' },
    );
    for (const id of refused) {
      expect(await view(id)).toMatchObject({
        status: 'failed',
        error: { code: 'persona_rejected' },
      });
    }
    const actionQueues = actionQueuesOf(DEFAULT_ROUTING_RULES).map(
      (name) => new Queue(name, { connection: f.client, prefix: f.prefix }),
    );
    const actionJobs = async () => {
      const ids = new Set<string>();
      for (const queue of actionQueues) {
        for (const job of await queue.getJobs(['wait', 'completed', 'failed', 'delayed'])) {
          ids.add((job.data as { id: string }).id);
        }
      }
      return ids;
    };
    await eventually(
      async () => {
        const fanned = await actionJobs();
        return [...decided.keys()].every((id) => fanned.has(id));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'a business-action job for every decision' },
    );
    await Promise.all(actionQueues.map((q) => q.close()));

    // 7. Nothing anywhere. The logs first (every process, the re-drive command, /metrics).
    const metrics = await Promise.all(
      [f.gatewayUrl, f.receiverUrl, `http://127.0.0.1:${workerPort}`].map(async (url) =>
        (await fetch(`${url}/metrics`)).text(),
      ),
    );
    const logs = [f.logText(), redriven.output, ...metrics].join('\n');
    expect(logs).toContain('Persona refused the transaction');
    expect(logs).toContain('webhook refused: signature');
    expect(logs).toContain('re-drive of a failed request');
    expect(sentinelsIn(logs)).toEqual([]);

    // Redis: every key and everything it holds.
    const dump = await dumpRedis(f);
    const leaks = dump.flatMap((d) => sentinelsIn(d.text).map((s) => `${d.key} (${d.type}) ${s}`));
    expect(leaks).toEqual([]);
    // The reference ids are there, as documented: the search sees what Redis holds.
    expect(dump.some((d) => d.text.includes(`${REF}-ok-1`))).toBe(true);

    // Bull Board: every queue, every state, every job's view, logs and flow.
    const queueNames = [
      ...Object.values(catalog).map((spec) => spec.name),
      ...actionQueuesOf(DEFAULT_ROUTING_RULES),
    ];
    const boardText = await crawlBoard(f, queueNames);
    expect(boardText).toContain(approved[0]);
    expect(sentinelsIn(boardText)).toEqual([]);

    // 8. Every key outside BullMQ's queue structures expires, and each is one keys.ts
    // documents. What was found, for the record:
    const census = keyCensus(dump, f.prefix, queueNames);
    console.info(census.record);
    expect(census.found.size).toBeGreaterThan(5);
    expect(census.problems).toEqual([]);
  });
});
