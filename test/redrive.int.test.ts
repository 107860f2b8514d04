import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PATH } from '@pp/api-gateway/admin';
import { catalog } from '@pp/shared';
import { REDIS_URL, repoRoot } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

/**
 * Re-drive: requests that gave up because Persona was unreachable come back once it is,
 * from the command (`pnpm redrive`) or from a retry in Bull Board, and each ends with
 * exactly one transaction; a request Persona refused stays refused.
 */

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/** Runs `pnpm redrive …` as an operator would (the script behind it), against this pipeline. */
async function redrive(...args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', 'scripts/redrive.ts', ...args],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', REDIS_URL, QUEUE_PREFIX: p!.prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, out };
}

describe('re-driving requests that gave up', () => {
  it('When Persona was down past every attempt and is back, then `pnpm redrive --all` and a Bull Board retry get every request submitted exactly once, and a refused one stays refused', async () => {
    p = await startPipeline({
      sim: {
        rateLimit: { limit: 6000, windowMs: 60_000 },
        faults: { serverErrorRate: 1, serverErrorAfterCreateShare: 0 },
        transactionTypes: { txntp_KYC123: {} },
      },
      workers: { PERSONA_RATE_LIMIT_PER_MINUTE: '6000', PERSONA_RETRY_CAP_MS: '100' },
      gateway: {
        ADMIN_USERNAME: 'ops',
        ADMIN_PASSWORD: 'ops-test-password',
        ADMIN_READ_ONLY: 'false',
      },
      webhooks: false,
    });
    const create = async (ref: string, type = 'txntp_KYC123') => {
      const res = await p!.post({
        transaction_type_id: type,
        fields: { name_first: 'Joan' },
        reference_id: ref,
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const refs = ['down-1', 'down-2', 'down-3', 'down-4'];
    const ids = await Promise.all(refs.map((r) => create(r)));
    for (const id of ids) {
      await p.until(id, (v) => v.status === 'failed', 'failed after every attempt', 60_000);
    }
    for (const id of ids) expect((await p.view(id)).error?.code).toBe('persona_unavailable');
    expect(p.sim.transactions.size).toBe(0);

    // Persona is back. One request Persona refuses, for the listing.
    p.sim.faults = { ...p.sim.faults, serverErrorRate: 0 };
    const refused = await create('refused', 'txntp_Unknown');
    await p.until(refused, (v) => v.status === 'failed', 'refused');

    const list = await redrive('list');
    expect(list.code).toBe(0);
    expect(list.out).toContain('5 failed request(s)');
    for (const id of ids)
      expect(list.out).toMatch(new RegExp(`${id}\\s+persona_unavailable.*re-drivable`));
    expect(list.out).toMatch(new RegExp(`${refused}\\s+persona_rejected.*not re-drivable`));

    // One from Bull Board: its retry button on the failed job, through the board's API.
    const queue = p.queue(catalog.transactionCreate.name);
    expect(await (await queue.getJob(ids[0]!))!.getState()).toBe('failed');
    const retried = await fetch(
      `${p.gateway.url}${ADMIN_PATH}/api/queues/${catalog.transactionCreate.name}/${ids[0]!}/retry`,
      {
        method: 'PUT',
        headers: {
          authorization: `Basic ${Buffer.from('ops:ops-test-password').toString('base64')}`,
        },
      },
    );
    expect(retried.status).toBe(204);
    await p.until(ids[0]!, (v) => v.status === 'submitted', 'submitted after the board retry');

    // The rest from the command.
    const all = await redrive('--all');
    expect(all.out).toContain('3 of 3 re-driven');
    expect(all.code).toBe(0);
    for (const id of ids) await p.until(id, (v) => v.status === 'submitted', 'submitted');

    for (const ref of refs) expect(p.sim.transactionsFor(ref)).toHaveLength(1);
    expect((await p.view(refused)).status).toBe('failed');
    expect(p.sim.transactionsFor('refused')).toEqual([]);
    const again = await redrive(refused);
    expect(again.out).toContain(`${refused}  not_redrivable`);
    expect(again.code).toBe(1);
    // A refusal completes its job; every re-driven job completed too.
    expect((await queue.getJobCounts('failed')).failed).toBe(0);
  });
});
