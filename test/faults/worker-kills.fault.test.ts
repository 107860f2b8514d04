import { afterEach, describe, expect, it } from 'vitest';
import { startFleet, transactionBody, type Fleet } from './fleet.ts';

describe('fault: worker processes SIGKILLed in the middle of Persona calls', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('When 20 workers are killed during a run of 500 requests, then each request has exactly one Persona transaction', async () => {
    fleet = await startFleet({
      // Every call is open 400 ms at Persona, so a kill lands in the middle of calls, and
      // two workers of 5 take about 20 s for the 500: time for 20 kills.
      sim: { faults: { latencyRate: 1, latencyMs: 400 } },
      workers: 2,
      workerEnv: {
        WORKER_CONCURRENCY: '5',
        PERSONA_TIMEOUT_MS: '2000',
        WORKER_LOCK_DURATION_MS: '3000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
    });
    const f = fleet;
    const ids: string[] = [];
    for (let i = 0; i < 500; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const res = await f.post(transactionBody(`kill-${i + j}`));
          expect(res.status).toBe(202);
          return ((await res.json()) as { id: string }).id;
        }),
      );
      ids.push(...batch);
    }

    let kills = 0;
    const replacements: Promise<unknown>[] = [];
    const deadline = Date.now() + 120_000;
    // Started workers that are still running: each has calls open at Persona.
    const alive = () =>
      f.workers.filter(
        (w) =>
          w.proc.exitCode === null && !w.proc.signalCode && /workers started/.test(w.logs.text),
      );
    while (kills < 20) {
      if (Date.now() > deadline) throw new Error(`only ${kills} kills before the run ended`);
      // Kill a worker only while Persona has calls open, and start its replacement.
      const open = f.sim.requests.some((r) => r.method === 'POST' && r.status === 0);
      const victim = alive()[0];
      if (open && victim && alive().length >= 2) {
        await victim.kill('SIGKILL');
        kills++;
        replacements.push(f.addWorker());
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    await Promise.all(replacements);
    await f.waitSettled(ids, 180_000);

    const statuses = await f.statuses(ids);
    expect([...statuses.values()].every((s) => s === 'submitted')).toBe(true);
    for (let i = 0; i < 500; i++) {
      expect(f.sim.transactionsFor(`kill-${i}`), `kill-${i}`).toHaveLength(1);
    }
    expect(f.sim.transactions.size).toBe(500);
    // The kills cut jobs short: surviving workers took the stalled ones over.
    expect(f.logText()).toContain('stalled job taken over');
  });
});
